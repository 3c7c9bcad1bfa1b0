"""The click group, its options and the error handling every command shares."""

from __future__ import annotations

import errno
import functools
import logging
import math
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tracker import __version__
from tracker.base.errors import TrackerError
from tracker.base.settings import Settings, load_settings
from tracker.enrich.ray_engine import RayOptions
from tracker.ingest.runner import IngestSummary

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("tracker")

#: Exit status when an error stopped the command (the message says the cause and the fix).
EXIT_ERROR = 2


def _fail(message: str) -> NoReturn:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(EXIT_ERROR)


def _explain(exc: BaseException) -> str:
    """Cause and fix for an exception no stage turned into a TrackerError."""
    if isinstance(exc, MemoryError):
        return ("ran out of memory. Fix: free memory or process less at once (enrich --limit N or a "
                "smaller --batch-size; replay a smaller --from-dir folder; analyse a shorter text)")
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        if "readonly" in text:
            return (f"the database is read-only ({text}). Fix: make the file and its folder writable, or copy "
                    "it to writable storage and point --db there; `tracker serve` only reads")
        if "locked" in text:
            return (f"another program holds the database ({text}). Fix: close it (a sqlite3 shell, a "
                    "long query) and run again")
        if "full" in text or "disk I/O" in text:
            return f"the disk failed or is full ({text}). Fix: free space on the database's disk and run again"
        return f"SQLite error: {text}. Fix: check the database with `sqlite3 DB 'PRAGMA integrity_check'`"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        reason = exc.strerror or str(exc)
        if exc.errno == errno.ENOSPC:
            return f"no space left on the disk{where}. Fix: free space and run again"
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"permission denied{where}: {reason}. Fix: make that path writable, or choose another one"
        return f"{reason}{where}. Fix: check the path exists and is readable"
    return (f"unexpected {type(exc).__name__}: {exc}. This is a bug in the tracker, not in your data. "
            "Fix: run again with -vv to see where it happened, and report it with that output")


def run_guarded(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; any error becomes ``Error: cause. Fix: ...`` on stderr and exit status 2.

    Click's own usage errors and ``sys.exit`` pass through; Ctrl-C exits 130.
    """
    try:
        return fn()
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except TrackerError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        click.secho("Interrupted.", fg="red", err=True)
        sys.exit(130)
    except Exception as exc:  # every other exception: a message and exit 2, never a bare traceback
        log.debug("traceback", exc_info=True)
        _fail(_explain(exc))


def handle_errors(fn: F) -> F:
    """Decorator form of :func:`run_guarded` for a command function."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run_guarded(lambda: fn(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


class TrackerGroup(click.Group):
    """The command group: errors anywhere (settings, options, commands) exit 2 with a message."""

    def invoke(self, ctx: click.Context) -> Any:
        """Invoke the group and its subcommand under :func:`run_guarded`."""
        return run_guarded(lambda: super(TrackerGroup, self).invoke(ctx))


class FiniteFloat(click.ParamType):
    """A float that is a real number (not nan or inf), optionally within ``min``..``max``."""

    name = "number"

    def __init__(self, min: float | None = None, max: float | None = None) -> None:
        self.min = min
        self.max = max

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        """Parse and check the value, or fail with click's usage error (exit 2)."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.min is not None and number < self.min:
            self.fail(f"{value!r} is below {self.min:g}", param, ctx)
        if self.max is not None and number > self.max:
            self.fail(f"{value!r} is above {self.max:g}", param, ctx)
        return number


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 spike``, ``2 spikes``."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def _note_new_database(settings: Settings, kind_before: str, figures: dict[str, Any] | None = None) -> None:
    """Say so when a command created the database (a mistyped --db would otherwise pass silently):
    a note on stderr, or ``database_created`` in the JSON ``figures``."""
    created = kind_before == "missing" and settings.db_path.exists()
    if figures is not None:
        figures["database_created"] = str(settings.db_path) if created else None
    elif created:
        click.secho(f"Note: created a new database at {settings.db_path} (there was none). If you meant an "
                    "existing one, check --db or TRACKER_DB.", fg="yellow", err=True)


def get_settings(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from the group's options plus a command's own overrides."""
    base: Settings = ctx.obj["settings"]
    return base.with_overrides(**overrides)


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tracker")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRACKER_DB",
    help="SQLite database (default db/tracker.db, env TRACKER_DB).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, db_path: Path | None, verbose: int) -> None:
    """Narrative Tracker: financial news feeds in, narrative-intensity index out."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.ensure_object(dict)
    ctx.obj["settings"] = load_settings(db_path=db_path)


def _print_ingest(summary: IngestSummary) -> None:
    """Human summary of an ingest; failures listed with their reasons."""
    figures = summary.as_dict()
    line = f"Feeds: {figures['feeds_ok']} ok, {figures['feeds_failed']} failed"
    if summary.replay:
        line += (f" ({plural(figures['fetches'], 'snapshot file')} replayed"
                 + (f", {figures['skipped']:,} already replayed before" if figures["skipped"] else "") + ")")
    elif figures["skipped"]:
        line += f", {figures['skipped']} not due yet"
    click.echo(line + f". New articles: {figures['articles_new']:,}"
               f" (+{plural(figures['duplicates'], 'duplicate')} linked).")
    for failure in figures["failures"][:20]:
        shown = failure["feed"] + (f" ({failure['snapshot']})" if failure.get("snapshot") else "")
        click.secho(f"  failed: {shown}: {failure['error']}", fg="yellow", err=True)
    if len(figures["failures"]) > 20:
        click.secho(f"  ... and {len(figures['failures']) - 20} more (see the fetches table)", fg="yellow", err=True)
    if summary.total_outage:
        click.secho(f"Every {'snapshot' if summary.replay else 'feed'} failed: nothing new was stored "
                    f"(exit status {summary.exit_status}). Check the network (or proxy), or the failures above.",
                    fg="red", err=True)


_feeds_option = click.option(
    "--feeds",
    "feeds_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRACKER_FEEDS",
    help="Feeds YAML (default feeds.yaml, env TRACKER_FEEDS).",
)
_from_dir_option = click.option(
    "--from-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Replay archived snapshot files from this folder instead of fetching (backfill).",
)
_wait_option = click.option(
    "--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
    help="Seconds to wait for another running ingest to finish before giving up.",
)


def _engine_options(fn: F) -> F:
    """``--engine``, ``--address`` and ``--workers``, shared by ``enrich`` and ``run``."""
    for option in reversed([
        click.option("--engine", type=click.Choice(["local", "ray"]), default="local",
                     show_default=True,
                     help="Where enrichment runs: this process, or Ray actors (pip install "
                          "'narrative-tracker[ray]')."),
        click.option("--address",
                     help="Ray cluster to join (HOST:6379, or auto on a node of it); default: a local Ray "
                          "runtime. Needs --engine ray."),
        click.option("--workers", type=click.IntRange(min=1),
                     help="Ray actors per stage, one CPU each (default: every CPU of the runtime "
                          "or cluster). Needs --engine ray."),
    ]):
        fn = option(fn)
    return fn


def ray_options(engine: str, address: str | None, workers: int | None) -> RayOptions | None:
    """The Ray engine's options, or None for the local engine (refusing Ray-only options)."""
    if engine == "ray":
        return RayOptions(address=address, workers=workers)
    if address or workers:
        raise click.UsageError("--address and --workers need --engine ray.")
    return None


def _ingest_options(fn: F) -> F:
    """The options ``ingest`` and ``run`` share: what to fetch, how to wait, how to report."""
    for option in reversed([
        _feeds_option,
        _from_dir_option,
        click.option("--force", is_flag=True, help="Fetch every feed now, ignoring poll_minutes."),
        _wait_option,
        click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON."),
    ]):
        fn = option(fn)
    return fn


def _open_read(path: Path) -> Any:
    """The database migrated (new columns and tables exist), then used read-only."""
    from tracker.base.db import open_db

    return open_db(path).conn
