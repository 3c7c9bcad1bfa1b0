"""Shared fixtures: in-memory databases and the path to the shared real data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from tests.paths import SHARED_DATA
from tracker.base.db import open_db


@pytest.fixture
def db() -> Iterator[sqlite_utils.Database]:
    """A fresh, fully migrated in-memory database."""
    database = open_db(":memory:")
    yield database
    database.conn.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for an on-disk database (WAL needs a real file)."""
    return tmp_path / "tracker.db"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real feeds and labels written by others (never copied into the repo)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA
