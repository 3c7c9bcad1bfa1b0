"""Serve the tracker database read-only in Datasette, with canned queries and index charts.

:func:`build_datasette` returns a configured :class:`~datasette.app.Datasette`
(used by the tests in-process); :func:`serve` runs it under uvicorn for
``tracker serve``. The configuration ships in ``tracker/serve/datasette/``: ``metadata.yml``
(descriptions, canned queries, facets, sorts, full-text search) and
``templates/`` (where the charts of :mod:`tracker.serve.plugin` appear).

Read-only without switching anything off: every connection Datasette opens to the file
is ``mode=ro`` with ``query_only`` (``immutable=1`` on read-only storage, see
:func:`open_mode`), so SQLite itself refuses a write from Datasette or from any
installed plugin; the plugin also denies Datasette's write permissions, so no page
offers one. Installed Datasette plugins (datasette-export, datasette-parquet ...) load
as usual. The database stays in WAL mode, so ``tracker run`` can write while it is
served and each query reads one committed snapshot.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import sqlite3
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import pm

from tracker.base.errors import ConfigError, TrackerError
from tracker.base.migrations import MIGRATIONS
from tracker.base.resources import packaged
from tracker.base.settings import Settings
from tracker.serve import plugin as datasette_plugin
from tracker.serve.plugin import DATABASE_NAME

log = logging.getLogger(__name__)

DATASETTE_DIR = packaged("serve", "datasette")
METADATA_PATH = DATASETTE_DIR / "metadata.yml"
TEMPLATES_DIR = DATASETTE_DIR / "templates"
PLUGIN_NAME = "tracker.serve.plugin"
#: Rows a query page may return; the default range of the index query (90 days) fits.
MAX_RETURNED_ROWS = 3000
#: How long the database page's table counts are reused (tracker.serve.server.ReadOnlyDatabase).
COUNTS_TTL_SECONDS = 60.0


def load_metadata(path: Path = METADATA_PATH) -> dict[str, Any]:
    """Datasette metadata (titles, descriptions, canned queries ...) from the committed YAML."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the Datasette configuration {path}: {exc}. It ships with the "
            "package: reinstall it, or restore it with `git checkout tracker/serve/datasette/metadata.yml`."
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{path} is not valid YAML: {exc}. Fix the file (or restore it from git)."
        ) from exc
    if not isinstance(data, dict) or DATABASE_NAME not in (data.get("databases") or {}):
        raise ConfigError(
            f"{path} has no 'databases: {DATABASE_NAME}:' section. Restore it from git."
        )
    return data


def datasette_settings(*, allow_sql: bool = True) -> dict[str, Any]:
    """Datasette settings for serving the tracker: arbitrary SQL on or off, no downloads."""
    return {
        "default_allow_sql": allow_sql,
        "allow_download": False,
        "max_returned_rows": MAX_RETURNED_ROWS,
        # Suggestions try a facet on every column of every page: seconds at 1M articles.
        "suggest_facets": False,
    }


def register_tracker_plugin() -> None:
    """Register the tracker's Datasette plugin beside whatever plugins are installed.

    Installed plugins (entry points in the ``datasette`` group) were loaded when
    ``datasette.plugins`` was imported and stay registered: a user who installs
    datasette-export gets it under ``tracker serve`` too.
    """
    if pm.get_plugin(PLUGIN_NAME) is None:
        pm.register(datasette_plugin, name=PLUGIN_NAME)


def _quiet_rich_tracebacks() -> None:
    """Stop Datasette 0.65.5 crashing on every error page when rich >= 15 is installed.

    Its default exception handler calls ``rich.print_exception()`` outside an ``except``
    block, which rich 15 rejects with ValueError, so a plain 404 became a 500. Without
    rich it renders the error page as intended; our plugin logs server errors instead.
    """
    # Imported here, after datasette.plugins: importing this module first would register
    # it half-initialised (a circular import), leaving Datasette with no error pages at all.
    from datasette import handle_exception

    handle_exception.rich = None


# --------------------------------------------------------------------------- the file


@dataclass(frozen=True)
class DatabaseCheck:
    """What :func:`check_database` found: how to open the file and what it lacks."""

    path: Path
    immutable: bool
    pending: tuple[str, ...]


def _uri(path: Path, *, immutable: bool) -> str:
    # as_uri() percent-encodes, so a '?' or '#' in a folder name cannot end the path early.
    return path.resolve().as_uri() + ("?immutable=1" if immutable else "?mode=ro")


def _read_only_connection(path: Path, *, immutable: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(_uri(path, immutable=immutable), uri=True, check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    return conn


def _is_readonly_storage_error(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN"))


def check_database(path: str | Path) -> DatabaseCheck:
    """Open ``path`` read-only and make sure it is a tracker database; never writes to it.

    ``mode=ro`` keeps up with ``tracker run`` writing beside the server. A WAL database on
    read-only storage cannot be opened that way (SQLite would need to create its
    ``-shm`` file), and nobody can be writing it there, so it is opened ``immutable=1``.
    Raises :class:`TrackerError` (exit 2) for a missing file, a file that is not SQLite,
    an empty one, or a SQLite file of some other program (tables but no tracker
    ``_migrations``), instead of turning it into a tracker database as ``open_db`` would.
    """
    # Local check for serve; TODO(lead): fold into the tracker/base/db.py check of branch
    # `ingest` once both are merged, so every command refuses foreign files the same way.
    path = Path(path)
    if not path.is_file():
        raise TrackerError(
            f"No database at {path}. Run `tracker run` first to create it, or point --db "
            "(or TRACKER_DB) at an existing tracker database."
        )
    immutable = False
    try:
        conn = _read_only_connection(path, immutable=False)
        try:
            tables = _tables(conn)
        except sqlite3.OperationalError as exc:
            conn.close()
            wal = Path(f"{path}-wal")
            if not _is_readonly_storage_error(exc):
                raise
            if wal.is_file() and wal.stat().st_size > 0:
                raise TrackerError(
                    f"Cannot read {path} on read-only storage: its write-ahead log {wal.name} "
                    "holds changes that SQLite cannot merge without writing. Serve it from "
                    "writable storage, or checkpoint it there first "
                    f"(`sqlite3 {path} 'PRAGMA wal_checkpoint(TRUNCATE)'`)."
                ) from exc
            immutable = True
            conn = _read_only_connection(path, immutable=True)
            tables = _tables(conn)
        try:
            applied = (
                {r[0] for r in conn.execute("SELECT name FROM _migrations")}
                if "_migrations" in tables
                else set()
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise TrackerError(
            f"Cannot read {path} as a SQLite database: {exc}. Point --db (or TRACKER_DB) at "
            "the tracker database (default db/tracker.db)."
        ) from exc
    first = MIGRATIONS[0][0]
    if not tables:
        raise TrackerError(
            f"{path} is an empty database, not a tracker database yet: `tracker serve` never "
            "writes, so it cannot set it up. Fix: run `tracker run` (or `tracker ingest`) on it "
            "first, or point --db at an existing tracker database."
        )
    if first not in applied:
        shown = ", ".join(sorted(t for t in tables if not t.startswith("sqlite_"))[:8])
        raise TrackerError(
            f"{path} is a SQLite database but not a tracker database (no tracker migrations "
            f"recorded; its tables: {shown}). Refusing to serve it. Fix: point --db (or TRACKER_DB) "
            "at the tracker database (default db/tracker.db)."
        )
    pending = tuple(name for name, _ in MIGRATIONS if name not in applied)
    return DatabaseCheck(path=path, immutable=immutable, pending=pending)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


class ReadOnlyDatabase(Database):
    """A Datasette database whose every connection, "write" ones included, is read-only.

    Datasette opens write connections without ``mode=ro``; here a plugin that calls
    ``execute_write`` gets SQLite's "attempt to write a readonly database" instead.
    """

    def __init__(self, ds: Datasette, path: Path, *, immutable: bool = False) -> None:
        # is_mutable=True even when opened immutable: Datasette would otherwise hash the
        # whole file and count every table at start-up.
        super().__init__(ds, path=str(path), is_mutable=True)
        self._tracker_path = path
        self._tracker_immutable = immutable
        self._tracker_counts: tuple[float, dict[str, int | None]] | None = None

    async def table_counts(self, limit: int = 10) -> dict[str, int | None]:
        """Row counts of every table, cached for :data:`COUNTS_TTL_SECONDS`.

        Datasette counts every table (up to ``limit`` ms each) on each database page: a
        quarter of a second at a million articles. The counts are approximate there anyway
        (a count that runs out of time shows as "many rows"); a minute's cache is enough.
        """
        now = time.monotonic()
        cached = self._tracker_counts
        if cached is not None and now - cached[0] < COUNTS_TTL_SECONDS:
            return dict(cached[1])
        counts: dict[str, int | None] = await super().table_counts(limit)
        self._tracker_counts = (now, counts)
        return dict(counts)

    def connect(self, write: bool = False) -> sqlite3.Connection:
        """A read-only connection, whatever ``write`` asks for."""
        conn = _read_only_connection(self._tracker_path, immutable=self._tracker_immutable)
        self._all_file_connections.append(conn)
        return conn


def build_datasette(
    db_path: str | Path,
    *,
    allow_sql: bool = True,
    metadata_path: Path = METADATA_PATH,
    template_dir: Path = TEMPLATES_DIR,
    check: DatabaseCheck | None = None,
) -> Datasette:
    """A Datasette serving ``db_path`` read-only as ``/tracker`` with the tracker configuration."""
    check = check or check_database(db_path)
    metadata = load_metadata(metadata_path)
    register_tracker_plugin()
    _quiet_rich_tracebacks()
    ds = Datasette(
        metadata=metadata,
        template_dir=str(template_dir),
        settings=datasette_settings(allow_sql=allow_sql),
    )
    # With no files Datasette adds an empty in-memory database; the tracker is the only one.
    ds.remove_database("_memory")
    # A fixed name keeps URLs and the metadata keys the same whatever the file is called.
    ds.add_database(ReadOnlyDatabase(ds, check.path, immutable=check.immutable), name=DATABASE_NAME)
    return ds


# --------------------------------------------------------------------------- the socket


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_listen(host: str, port: int) -> None:
    """Bind ``host:port`` once to turn the usual failures into messages with a fix."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise TrackerError(
            f"Cannot listen on {host}: no such host or address ({exc}). Give --host an address "
            "of this machine: 127.0.0.1 (this machine only, the default) or 0.0.0.0 (every "
            "network interface)."
        ) from exc
    family, kind, proto, _, sockaddr = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(sockaddr)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.EADDRINUSE:
                fix = ("Another server is using the port: choose another with --port, or stop "
                       "the other server.")
            elif exc.errno == errno.EADDRNOTAVAIL:
                fix = (f"This machine has no address {host}: give --host one of its addresses "
                       "(`ip addr` lists them), 127.0.0.1 for this machine only, or 0.0.0.0 for "
                       "every interface.")
            elif exc.errno == errno.EACCES:
                fix = (f"Port {port} needs administrator rights (ports below 1024 do): choose "
                       "a higher one with --port, e.g. 8001.")
            else:
                fix = "Check --host and --port."
            raise TrackerError(f"Cannot listen on {host}:{port}: {reason}. {fix}") from exc


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    allow_sql: bool = True,
    open_browser: bool = False,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``settings.db_path`` in Datasette on ``host:port`` until interrupted; never writes.

    ``announce`` receives one line with the URL once the server is about to listen.
    """
    import uvicorn

    check = check_database(settings.db_path)
    if check.pending:
        log.warning(
            "%s was written by an older tracker (pending migrations: %s); serving it as it is. "
            "Any writing command (`tracker run`, `tracker index`) brings it up to date.",
            check.path, ", ".join(check.pending),
        )
    ds = build_datasette(check.path, allow_sql=allow_sql, check=check)
    if not _is_loopback(host):
        log.warning(
            "Serving on %s: anyone who can reach this address can read the whole database.", host
        )
    check_listen(host, port)
    asyncio.run(ds.invoke_startup())
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    if announce is not None:
        mode = " (immutable: read-only storage)" if check.immutable else ""
        announce(
            f"Serving {check.path} read-only{mode} at {url} (arbitrary SQL "
            f"{'on' if allow_sql else 'off'}); Ctrl-C to stop."
        )
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
