"""Open the SQLite store: WAL, foreign keys, pending migrations applied, explicit transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from tracker.base.errors import TrackerError
from tracker.base.migrations import MIGRATIONS, Migration


def utcnow() -> str:
    """Current UTC time as an ISO 8601 string with a Z suffix, to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode so that :func:`transaction` owns every transaction."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30.0, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = ON")
        if str(path) != ":memory:":
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise TrackerError(
            f"Cannot open database {path}: {exc}. Check the path (--db or TRACKER_DB) "
            "points at a tracker SQLite file, or choose a new path to start fresh."
        ) from exc
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block in one IMMEDIATE transaction: all of it commits or none of it does."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations already recorded in ``_migrations``."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]


def migrate(conn: sqlite3.Connection, migrations: list[Migration] | None = None) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; return the names applied."""
    done = set(applied_migrations(conn))
    applied = []
    for name, fn in migrations if migrations is not None else MIGRATIONS:
        if name in done:
            continue
        try:
            if isinstance(fn, str):
                # One script so the DDL and its record commit together or not at all.
                conn.executescript(
                    f"BEGIN IMMEDIATE;\n{fn}\n;INSERT INTO _migrations (name, applied_at) "
                    f"VALUES ('{name}', '{utcnow()}');\nCOMMIT;"
                )
            else:
                conn.execute("BEGIN IMMEDIATE")
                fn(conn)
                conn.execute(
                    "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", (name, utcnow())
                )
                conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the tracker database and apply pending migrations."""
    conn = connect(path)
    try:
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise TrackerError(
            f"Cannot prepare database {path}: {exc}. If this file is not a tracker database, "
            "point --db at a new path."
        ) from exc
    return sqlite_utils.Database(conn)
