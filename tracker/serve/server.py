"""Serve the tracker database read-only in Datasette, with canned queries and index charts.

:func:`build_datasette` returns a configured :class:`~datasette.app.Datasette`
(used by the tests in-process); :func:`serve` runs it under uvicorn for
``tracker serve``. The configuration ships in ``tracker/serve/datasette/``: ``metadata.yml``
(descriptions, canned queries, facets, sorts, full-text search) and
``templates/`` (where the charts of :mod:`tracker.serve.plugin` appear).

Read-only by construction: Datasette opens the file with ``mode=ro``, no canned
query writes, and only Datasette's built-in plugins plus the tracker's are
loaded, so no installed plugin can add a write endpoint. The database stays in
WAL mode, so ``tracker run`` can write while it is served and each query reads
one committed snapshot.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from datasette.app import Datasette
from datasette.database import Database
from datasette.plugins import DEFAULT_PLUGINS, pm

from tracker.base.db import open_db
from tracker.base.errors import ConfigError, TrackerError
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


def use_tracker_plugins_only() -> list[str]:
    """Unregister every Datasette plugin but the built-ins and ours; return the names dropped.

    Plugins are process-wide, so this is done before building the app; it keeps the
    served surface to what the tests cover (no plugin can add a write endpoint).
    """
    allowed = set(DEFAULT_PLUGINS) | {PLUGIN_NAME}
    dropped = []
    for plugin in list(pm.get_plugins()):
        name = pm.get_name(plugin)
        if name is not None and name not in allowed:
            pm.unregister(plugin)
            dropped.append(name)
    if pm.get_plugin(PLUGIN_NAME) is None:
        pm.register(datasette_plugin, name=PLUGIN_NAME)
    if dropped:
        log.info("Datasette plugins not loaded by tracker serve: %s", ", ".join(sorted(dropped)))
    return dropped


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


def build_datasette(
    db_path: str | Path,
    *,
    allow_sql: bool = True,
    metadata_path: Path = METADATA_PATH,
    template_dir: Path = TEMPLATES_DIR,
) -> Datasette:
    """A Datasette serving ``db_path`` read-only as ``/tracker`` with the tracker configuration."""
    path = Path(db_path)
    if not path.is_file():
        raise TrackerError(
            f"No database at {path}. Run `tracker run` first to create it, or point --db "
            "(or TRACKER_DB) at an existing tracker database."
        )
    metadata = load_metadata(metadata_path)
    use_tracker_plugins_only()
    _quiet_rich_tracebacks()
    ds = Datasette(
        metadata=metadata,
        template_dir=str(template_dir),
        settings=datasette_settings(allow_sql=allow_sql),
    )
    # With no files Datasette adds an empty in-memory database; the tracker is the only one.
    ds.remove_database("_memory")
    # A fixed name keeps URLs and the metadata keys the same whatever the file is called.
    ds.add_database(Database(ds, path=str(path), is_mutable=True), name=DATABASE_NAME)
    return ds


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise TrackerError(
                f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Another server may be "
                "using the port: choose another with --port, or stop the other server."
            ) from exc


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8001,
    allow_sql: bool = True,
    open_browser: bool = False,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve ``settings.db_path`` in Datasette on ``host:port`` until interrupted.

    ``announce`` receives one line with the URL once the server is about to listen.
    """
    import uvicorn

    path = Path(settings.db_path)
    if not path.is_file():
        raise TrackerError(
            f"No database at {path}. Run `tracker run` first to create it, or point --db "
            "(or TRACKER_DB) at an existing tracker database."
        )
    # Apply pending migrations (the canned queries rely on their indexes); a no-op when current.
    open_db(path).conn.close()
    ds = build_datasette(path, allow_sql=allow_sql)
    if not _is_loopback(host):
        log.warning(
            "Serving on %s: anyone who can reach this address can read the whole database.", host
        )
    _check_port(host, port)
    asyncio.run(ds.invoke_startup())
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    if announce is not None:
        announce(
            f"Serving {path} read-only at {url} (arbitrary SQL "
            f"{'on' if allow_sql else 'off'}); Ctrl-C to stop."
        )
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
