"""Paths the tests share: the checkout and the real data beside it."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: ``../shared/data`` beside the checkout; TRACKER_SHARED_DATA points elsewhere (a worktree
#: that does not sit beside the data).
SHARED_DATA = Path(os.environ.get("TRACKER_SHARED_DATA") or REPO.parent / "shared" / "data")
MODELS = REPO / "models"
