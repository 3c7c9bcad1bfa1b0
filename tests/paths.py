"""Paths the tests share: the checkout and the real data beside it."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: TRACKER_SHARED_DATA points a checkout outside the usual layout (a git worktree) at the data.
SHARED_DATA = Path(os.environ.get("TRACKER_SHARED_DATA") or REPO.parent / "shared" / "data")
MODELS = REPO / "models"
