"""Open the SQLite store: WAL, foreign keys, pending migrations applied, explicit transactions."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import quote

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


DatabaseKind = Literal["missing", "empty", "tracker", "foreign", "not_sqlite"]
#: The first migration: a database that recorded it was made by the tracker.
FIRST_MIGRATION = "0001_ingest"


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection that never creates or changes the file (nor its -wal/-shm when
    the folder is read-only: then the file is read as immutable)."""
    uri = f"file:{quote(str(path.resolve()))}"
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError:
        # A WAL database on read-only storage cannot make its -shm file; read it as immutable.
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def database_kind(path: str | Path) -> DatabaseKind:
    """What is at ``path``, found without writing anything: ``missing`` (no file), ``empty``
    (a SQLite file, or a zero-byte file, without tables), ``tracker`` (has the tracker's
    ``_migrations``), ``foreign`` (tables, but not a tracker database) or ``not_sqlite``."""
    path = Path(path)
    if str(path) == ":memory:":
        return "empty"
    if not path.exists():
        return "missing"
    if path.is_file() and path.stat().st_size == 0:
        return "empty"
    try:
        with closing(_read_only(path)) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                      if not row[0].startswith("sqlite_")}
            if not tables - {"_migrations"} and (not tables or not conn.execute(
                    "SELECT 1 FROM _migrations LIMIT 1").fetchone()):
                # No tables, or only the ledger a first run created before it was killed.
                return "empty"
            if "_migrations" in tables and conn.execute(
                    "SELECT 1 FROM _migrations WHERE name = ?", (FIRST_MIGRATION,)).fetchone():
                return "tracker"
            return "foreign"
    except sqlite3.DatabaseError:
        return "not_sqlite"


def is_tracker_database(path: str | Path) -> bool:
    """True when ``path`` is a tracker database (checked read-only: nothing is written)."""
    return database_kind(path) == "tracker"


def check_tracker_database(path: str | Path, *, allow_new: bool = True) -> DatabaseKind:
    """Raise TrackerError unless ``path`` is a tracker database (or, with ``allow_new``, nothing
    yet: a missing or empty file the tracker may create). Reads only; returns the kind."""
    kind = database_kind(path)
    if kind == "foreign":
        with closing(_read_only(Path(path))) as conn:
            names = [row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name LIMIT 6")]
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise TrackerError(
            f"{path} is a SQLite database but not a tracker database (tables: {shown}; no tracker "
            "migrations), so the tracker will not touch it. Fix: point --db (or TRACKER_DB) at a "
            "tracker database, or at a new file to start one."
        )
    if kind == "not_sqlite":
        raise TrackerError(
            f"{path} is not a SQLite database. Fix: point --db (or TRACKER_DB) at a tracker "
            "database, or at a new file to start one."
        )
    if kind in ("missing", "empty") and not allow_new:
        raise TrackerError(
            f"No tracker database at {path}. Fix: run `tracker run` (or `tracker ingest`) first, "
            "or point --db (or TRACKER_DB) at an existing tracker database."
        )
    return kind


def check_writable(path: str | Path) -> None:
    """Raise TrackerError when the database file (or its folder, for a new one) is read-only."""
    path = Path(path)
    target = path if path.exists() else path.parent
    if target.exists() and not os.access(target, os.W_OK):
        raise TrackerError(
            f"The database {path} is read-only (no write permission, or read-only storage), so "
            "nothing can be ingested, enriched or indexed into it. Fix: make it writable (chmod, or "
            "copy it to writable storage and point --db there); `tracker serve` and `tracker report` "
            "only read."
        )


def open_db(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the tracker database and apply pending migrations.

    A file that is some other SQLite database is refused (never migrated), as is a file
    that is not SQLite at all.
    """
    check_tracker_database(path)
    conn = connect(path)
    try:
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "readonly" in str(exc):
            raise TrackerError(
                f"Cannot update database {path} to this version's schema: it is read-only. Fix: make it "
                "writable once (`tracker run` upgrades it), or open it with a matching tracker version."
            ) from exc
        raise TrackerError(
            f"Cannot prepare database {path}: {exc}. If this file is not a tracker database, "
            "point --db at a new path."
        ) from exc
    return sqlite_utils.Database(conn)
