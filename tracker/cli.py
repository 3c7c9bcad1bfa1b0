"""The ``tracker`` command line: a thin click group over the library.

Each command builds settings, calls one library function and turns a
:class:`~tracker.errors.TrackerError` into a clear message and exit status.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tracker import __version__
from tracker.errors import TrackerError
from tracker.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Turn a TrackerError into ``Error: ...`` on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TrackerError as exc:
            click.secho(f"Error: {exc}", fg="red", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def get_settings(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from the group's options plus a command's own overrides."""
    base: Settings = ctx.obj["settings"]
    return base.with_overrides(**overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
