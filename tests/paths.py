"""Paths the tests share: the checkout and the real data beside it."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
MODELS = REPO / "models"
