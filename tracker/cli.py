"""The ``tracker`` command line: a thin click group over the library.

Each command builds settings, calls one library function and turns a
:class:`~tracker.base.errors.TrackerError` into a clear message and exit status.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import math
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from tracker import __version__
from tracker.base.db import database_kind
from tracker.base.errors import TrackerError
from tracker.base.settings import Settings, load_settings
from tracker.enrich.ray_engine import RayOptions
from tracker.ingest.runner import IngestSummary
from tracker.pipeline import (
    run_archive_text,
    run_enrich,
    run_fulltext,
    run_index,
    run_ingest,
    run_nightly,
    run_report,
)

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


@cli.command()
@_ingest_options
@click.pass_context
@handle_errors
def ingest(ctx: click.Context, feeds_path: Path | None, from_dir: Path | None, force: bool,
           wait: float, as_json: bool) -> None:
    """Fetch the feeds (or replay snapshots) and store new articles.

    Exit status: 0 when every feed worked, 1 when some failed (recorded in the
    fetches table), 2 on an error that stopped the run, 3 when every feed failed.
    """
    settings = get_settings(ctx, feeds_path=feeds_path)
    kind = database_kind(settings.db_path)
    summary = run_ingest(settings, from_dir=from_dir, force=force, wait=wait, progress=not as_json)
    if as_json:
        figures = summary.as_dict()
        _note_new_database(settings, kind, figures)
        click.echo(json.dumps(figures, indent=2))
    else:
        _note_new_database(settings, kind)
        _print_ingest(summary)
    sys.exit(summary.exit_status)


@cli.command()
@_ingest_options
@_engine_options
@click.pass_context
@handle_errors
def run(ctx: click.Context, feeds_path: Path | None, from_dir: Path | None, force: bool,
        wait: float, as_json: bool, engine: str, address: str | None, workers: int | None) -> None:
    """The nightly job: ingest, enrich and index in one locked run.

    Exit status: 0 all well, 1 some feeds failed (the rest was processed),
    2 an error stopped the run (message says why), 3 every feed failed. Safe to run from cron.
    """
    settings = get_settings(ctx, feeds_path=feeds_path)
    kind = database_kind(settings.db_path)
    summary = run_nightly(settings, from_dir=from_dir, force=force, wait=wait, progress=not as_json,
                          ray=ray_options(engine, address, workers))
    if as_json:
        figures = summary.as_dict()
        _note_new_database(settings, kind, figures)
        click.echo(json.dumps(figures, indent=2))
    else:
        _note_new_database(settings, kind)
        _print_ingest(summary.ingest)
        if summary.fulltext is not None and summary.fulltext.candidates:
            _print_fulltext(summary.fulltext.as_dict())
        click.echo(f"Enriched: {plural(summary.enriched, 'article')}. Days indexed: {summary.days_indexed:,}"
                   + (f" (from {summary.index_since})" if summary.index_since else "") + ".")
        if summary.alerts is not None and (summary.alerts.new or summary.alerts.errors):
            click.echo(f"Alerts: {len(summary.alerts.new)} new"
                       + (f", {len(summary.alerts.errors)} not delivered (recorded; see tracker alerts)"
                          if summary.alerts.errors else "") + ".")
        click.echo("Time: " + ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items()))
    sys.exit(summary.ingest.exit_status)


@cli.command("index")
@click.option("--since", metavar="YYYY-MM-DD",
              help="Recount articles only from this UTC day on (late articles); default: all.")
@click.option("--min-articles", type=click.IntRange(min=1),
              help="Scored articles a day needs (all sources) to be covered (default 10).")
@click.option("--min-expected", type=FiniteFloat(min=0),
              help="Expected member articles an index value needs (default 5).")
@click.option("--base-start", metavar="YYYY-MM-DD",
              help="First day of the base window (the index averages 100 over it); default: first day.")
@click.option("--base-end", metavar="YYYY-MM-DD", help="Last day of the base window; default: last day.")
@click.option("--prior-days", type=click.IntRange(min=1),
              help="Trailing days the daily estimate is shrunk toward (default 28).")
@click.option("--prior-strength", metavar="N|auto",
              help="Prior strength in pseudo member articles (default auto: estimated from the data).")
@click.option("--source-prior", type=FiniteFloat(min=0),
              help="Pseudo articles pulling a thin source's rate toward the pooled rate (default 50).")
@click.option("--interval", type=FiniteFloat(min=0, max=1),
              help="Central probability of the stored interval (default 0.9).")
@click.option("--smooth-days", type=click.IntRange(min=1), help="Days of the smoothed index (default 7).")
@click.option("--spike-p", type=FiniteFloat(min=0, max=1),
              help="One-sided p-value of the day's count a spike needs at most (default 0.001).")
@click.option("--spike-min-articles", type=click.IntRange(min=1), help="Member articles a spike needs (default 5).")
@click.option("--spike-min-sources", type=click.IntRange(min=1),
              help="Sources a spike's members come from (default 2).")
@click.option("--mover-p", type=FiniteFloat(min=0, max=1), help="Two-sided p-value of a weekly mover (default 0.01).")
@click.option("--mover-min-articles", type=click.IntRange(min=1),
              help="Member articles over the two weeks a mover needs (default 10).")
@click.option("--stance-min-articles", type=click.IntRange(min=1),
              help="Members with a known stance a net stance needs (default 3).")
@click.option("--reset-params", is_flag=True,
              help="Forget the parameters stored in the database (back to defaults, env and options).")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def index_command(ctx: click.Context, since: str | None, reset_params: bool, wait: float,
                  as_json: bool, **options: Any) -> None:
    """Recompute the daily narrative index (count model with source fixed effects; see README).

    Parameters given here (or via TRACKER_INDEX_* variables) are stored in the database
    and reused by later builds, including `tracker run`, until changed.
    """
    from dataclasses import asdict

    settings = get_settings(ctx, **{f"index_{k}": v for k, v in options.items()})
    kind = database_kind(settings.db_path)
    summary = run_index(settings, since=since, wait=wait, reset_params=reset_params)
    if as_json:
        figures = asdict(summary)
        _note_new_database(settings, kind, figures)
        click.echo(json.dumps(figures, indent=2))
        return
    _note_new_database(settings, kind)
    if not summary.rows:
        click.echo(f"No index rows: no day has {summary.params['min_articles']} or more scored "
                   "articles. Ingest and enrich more, or lower --min-articles.")
        return
    click.echo(f"Indexed {summary.narratives} narratives over {summary.days} days "
               f"({summary.first_day}..{summary.last_day}): {summary.rows} rows, "
               f"{plural(summary.missing_days, 'uncovered day')}, {plural(summary.spikes, 'spike')}"
               + ("" if summary.full else f", recounted from {summary.since}") + ".")
    unscored = summary.articles - summary.scored_articles
    if unscored:
        click.echo(f"Note: {unscored} of {summary.articles} articles have no narrative scores yet "
                   "and are left out; run `tracker enrich` to include them.")


@cli.command("validate")
@click.option("--events", "events_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Event calendar YAML (default: models/events.yaml, the shipped calendar).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the Markdown summary (default reports/, env TRACKER_REPORTS).")
@click.option("--null-days", type=click.IntRange(min=20), default=500, show_default=True,
              help="Random days in each narrative's null distribution.")
@click.option("--seed", type=int, default=20250101, show_default=True, help="Seed of the null draws.")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as JSON.")
@click.pass_context
@handle_errors
def validate_command(ctx: click.Context, events_path: Path | None, out_dir: Path | None,
                     null_days: int, seed: int, as_json: bool) -> None:
    """Check the index against dated real events (event study with placebos) and list every spike.

    Writes validation-<last day>.md; see README, "Validating the index".
    """
    from tracker.index.validate import summary_lines
    from tracker.pipeline import run_validate

    result, path = run_validate(get_settings(ctx, report_dir=out_dir), events_path=events_path,
                                null_days=null_days, seed=seed)
    if as_json:
        click.echo(json.dumps({**result.as_dict(), "summary_path": str(path)}, indent=1,
                              default=str))
        return
    for line in summary_lines(result.study.rates):
        click.echo(line)
    click.echo(plural(len(result.spikes), "spike")
               + f" listed with their headlines. Wrote {path}")


@cli.command("dynamics")
@click.option("--narratives", help="Comma-separated narrative ids or labels (default: every indexed one).")
@click.option("--since", help="First day of the series (YYYY-MM-DD; default: the whole index).")
@click.option("--max-lag", type=click.IntRange(min=1, max=60), default=14, show_default=True,
              help="Largest daily lag tried (weekly: --max-lag-weeks).")
@click.option("--max-lag-weeks", type=click.IntRange(min=1, max=12), default=4, show_default=True,
              help="Largest weekly lag tried.")
@click.option("--ic", type=click.Choice(["aic", "bic", "hqic"]), default="aic", show_default=True,
              help="Information criterion choosing the lag order.")
@click.option("--alpha", type=FiniteFloat(min=0.0001, max=0.5), default=0.05, show_default=True,
              help="Level of the corrected p-value a lead needs.")
@click.option("--correction", type=click.Choice(["holm", "fdr_bh"]), default="holm", show_default=True,
              help="Correction over the ordered pairs (Holm, or Benjamini-Hochberg).")
@click.option("--seed", type=int, default=20250101, show_default=True, help="Seed of the placebo shuffle.")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts and virality as JSON.")
@click.pass_context
@handle_errors
def dynamics_command(ctx: click.Context, narratives: str | None, since: str | None, max_lag: int,
                     max_lag_weeks: int, ic: str, alpha: float, correction: str, seed: int, wait: float,
                     as_json: bool) -> None:
    """Does one story lead another? Granger tests, cross-correlations, robustness and virality.

    Stores every row in the narrative_dynamics table; see README, "Narrative dynamics".
    """
    from dataclasses import asdict

    from tracker.index.dynamics import DynamicsParams
    from tracker.pipeline import run_dynamics

    params = DynamicsParams(max_lag=max_lag, max_lag_weekly=max_lag_weeks, ic=ic, alpha=alpha,
                            correction=correction, seed=seed)
    wanted = [n for n in (narratives or "").split(",") if n.strip()] or None
    summary = run_dynamics(get_settings(ctx), params, narratives=wanted, since=since, wait=wait)
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=1, default=str))
        return
    click.echo(f"Dynamics of {len(summary.narratives)} narratives over {summary.first_day}..{summary.last_day}: "
               f"{summary.rows} rows stored in narrative_dynamics.")
    for row in summary.verdicts:
        if row["significant"]:
            click.echo(f"  [{row['series']}, {row['frequency']}] {row['verdict']}")
    leads = sum(1 for r in summary.verdicts if r["significant"])
    click.echo(f"{plural(leads, 'lead')} found among {len(summary.verdicts)} pair tests "
               f"({params.correction}-corrected, alpha {params.alpha:g}).")
    for row in summary.virality:
        click.echo(f"  virality: {row['verdict']}")


@cli.command("report")
@click.option("--week", help="ISO week YYYY-Www (default: the last complete week).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the report files (default reports/, env TRACKER_REPORTS).")
@click.option("--pdf", is_flag=True, help="Also print the HTML to PDF with headless Chromium.")
@click.pass_context
@handle_errors
def report_command(ctx: click.Context, week: str | None, out_dir: Path | None, pdf: bool) -> None:
    """Write the week's narrative report as Markdown and self-contained HTML (optionally PDF)."""
    result = run_report(get_settings(ctx, report_dir=out_dir), week=week, pdf=pdf)
    for line in result.summary:
        click.echo(line)
    for path in result.paths:
        if path.suffix != ".svg":
            click.echo(f"wrote {path}")
    if result.chart_paths:
        click.echo(f"wrote {len(result.chart_paths)} charts to {result.chart_paths[0].parent}")


@cli.command("alerts")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Alerts YAML (feed_path, base_url, webhook_url, smtp_host, email_to, ...; "
                   "env TRACKER_ALERTS_CONFIG). TRACKER_ALERTS_* variables override it.")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def alerts_command(ctx: click.Context, config_path: Path | None, wait: float, as_json: bool) -> None:
    """Turn new significant spikes into alerts: Atom file, optional webhook and email.

    Each spike is alerted once (recorded in the database); failed deliveries are recorded
    and retried on later runs, and never make the command fail.
    """
    from tracker.pipeline import run_alerts
    from tracker.report.deliver import load_alert_config

    summary = run_alerts(get_settings(ctx), load_alert_config(config_path), wait=wait)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
        return
    click.echo(f"New alerts: {len(summary.new)}.")
    for title in summary.new:
        click.echo(f"  {title}")
    if summary.feed_path:
        click.echo(f"wrote {summary.feed_path}")
    for channel in sorted(set(summary.sent) | set(summary.failed)):
        click.echo(f"{channel}: {summary.sent.get(channel, 0)} sent, "
                   f"{summary.failed.get(channel, 0)} failed")
    for err in summary.errors:
        click.echo(f"not delivered: {err}", err=True)


@cli.command("export")
@click.option("--what", type=click.Choice(["index", "articles", "entities"]), required=True,
              help="What to export.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True, help="File format.")
@click.option("--wide", is_flag=True, help="Index only: one row per day, one column per narrative.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file, '-' for standard output (CSV only); default "
                   "reports/export-<what>[-wide].<format>.")
@click.option("--since", metavar="YYYY-MM-DD", help="First day to include.")
@click.option("--until", metavar="YYYY-MM-DD", help="Last day to include.")
@click.pass_context
@handle_errors
def export_command(ctx: click.Context, what: str, fmt: str, wide: bool, out: Path | None,
                   since: str | None, until: str | None) -> None:
    """Export the index, articles or entities as CSV or Parquet: every row, or an error."""
    from tracker.pipeline import run_export
    from tracker.report.export import check_options, default_path

    check_options(what, fmt, wide)
    settings = get_settings(ctx)
    to_stdout = out is not None and str(out) == "-"
    path = None if to_stdout else (out or default_path(settings.report_dir, what, fmt, wide))
    result = run_export(settings, what=what, fmt=fmt, out=path, wide=wide, since=since, until=until)
    if not to_stdout:
        click.echo(f"wrote {result.rows:,} rows x {result.columns} columns to {result.path}")


@cli.command("enrich")
@click.option("--limit", type=click.IntRange(min=1),
              help="Enrich at most this many pending articles per stage (default: all).")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True,
              help="Articles per model batch and per transaction.")
@click.option("--wait", type=FiniteFloat(min=0), default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@_engine_options
@click.pass_context
@handle_errors
def enrich_command(ctx: click.Context, limit: int | None, batch_size: int, wait: float,
                   as_json: bool, engine: str, address: str | None, workers: int | None) -> None:
    """Tag entities and claims (and run every other stage) on articles not yet enriched.

    Only articles without an enrichment at the stage's current version are
    processed, so re-running is cheap; a new model, gazetteer or stage version
    re-enriches everything. With --engine ray the stages run on Ray actors and
    this process writes (same rows as the local engine).
    """
    settings = get_settings(ctx)
    kind = database_kind(settings.db_path)
    summary = run_enrich(settings, limit=limit, batch_size=batch_size, wait=wait,
                         progress=not as_json, ray=ray_options(engine, address, workers))
    if as_json:
        figures = {"articles": summary.articles, "counts": summary.counts(),
                   "versions": {n: s.version for n, s in summary.stages.items()}}
        _note_new_database(settings, kind, figures)
        click.echo(json.dumps(figures, indent=2))
        return
    _note_new_database(settings, kind)
    click.echo(f"Enriched {plural(summary.articles, 'article')}.")
    for name, stage in summary.stages.items():
        rows = ", ".join(f"{n} {table}" for table, n in stage.rows.items()) or "no rows"
        click.echo(f"  {name}: {plural(stage.articles, 'article')}, {rows} ({stage.version})")


@cli.command("analyze")
@click.argument("source", type=click.File("rb"), default="-", metavar="[FILE|-]")
@click.option("--json", "as_json", is_flag=True, help="Print entities and claims as JSON.")
@click.pass_context
@handle_errors
def analyze_command(ctx: click.Context, source: Any, as_json: bool) -> None:
    """Analyse one text (a file, or stdin with - or no argument); no database needed."""
    from tracker.analyze import MAX_READ_BYTES, analyze_text, decode_input, format_analysis, limit_text

    name = str(getattr(source, "name", "-"))
    name = "stdin" if name in ("<stdin>", "-") else name
    if name == "stdin" and source.isatty():
        raise click.UsageError("Give a FILE to analyse, or pipe text in: echo '...' | tracker analyze -")
    raw = source.read(MAX_READ_BYTES + 1)
    total = None
    if len(raw) > MAX_READ_BYTES:  # only the head is analysed: count the rest, never hold it
        raw, total = raw[:MAX_READ_BYTES], len(raw)
        while chunk := source.read(1 << 20):
            total += len(chunk)
    text, warning = limit_text(decode_input(raw, name, cut=total is not None), total,
                               "bytes" if total is not None else "characters")
    if warning:
        click.secho(f"Warning: {warning}.", fg="yellow", err=True)
    result = analyze_text(text, get_settings(ctx))
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        click.echo(format_analysis(result))


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 exposes the database to your network.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True,
              help="Port to listen on.")
@click.option("--no-sql", is_flag=True,
              help="Switch off arbitrary SQL; canned queries, tables and search still work.")
@click.option("--open", "open_browser", is_flag=True, help="Open the home page in a browser.")
@click.pass_context
@handle_errors
def serve_command(ctx: click.Context, host: str, port: int, no_sql: bool,
                  open_browser: bool) -> None:
    """Explore the database in Datasette (read-only): canned queries, search, index charts."""
    from tracker.serve.server import serve

    serve(get_settings(ctx), host=host, port=port, allow_sql=not no_sql,
          open_browser=open_browser, announce=lambda line: click.echo(line, err=True))


@cli.command("train")
@click.option("--labels", "labels_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled JSONL or CSV: `text` (or `title`/`body`) and `labels` (narrative ids).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the head (default: models/heads/narratives.json).")
@click.option("--min-positives", type=click.IntRange(min=2), default=15, show_default=True,
              help="Narratives with fewer positive examples keep prototype+lexicon scoring.")
@click.option("--with-embedding/--no-embedding", default=True, show_default=True,
              help="Give the head the article's mean sentence embedding beside the features.")
@click.option("--json", "as_json", is_flag=True, help="Print the fit summary as JSON.")
@click.pass_context
@handle_errors
def train_command(ctx: click.Context, labels_path: Path, out: Path | None, min_positives: int,
                  with_embedding: bool, as_json: bool) -> None:
    """Fit the narrative head on labelled texts (thresholds calibrated by cross-validation).

    After training, `tracker enrich` re-scores every article (the head's hash is
    part of the narratives stage version).
    """
    from tracker.learn.train import format_train_report, train_from_settings

    report = train_from_settings(labels_path, get_settings(ctx), out=out,
                                 min_positives=min_positives, with_embedding=with_embedding,
                                 progress=not as_json)
    if as_json:
        click.echo(json.dumps({"path": str(report.path), "version": report.head.version,
                               "narratives": {k: v.to_dict() for k, v in report.fits.items()}},
                              indent=2))
    else:
        click.echo(format_train_report(report))


@cli.command("eval")
@click.option("--labels", "labels_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled JSONL or CSV: `text` (or `title`/`body`) and `labels` (narrative ids).")
@click.option("--no-head", is_flag=True, help="Ignore the trained head: prototype+lexicon only.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the report (with the first misclassified items) as JSON.")
@click.pass_context
@handle_errors
def eval_command(ctx: click.Context, labels_path: Path, no_head: bool, as_json: bool) -> None:
    """Precision, recall and F1 per narrative on a labelled file."""
    from tracker.learn.evaluate import evaluate_labels, format_report

    report = evaluate_labels(labels_path, get_settings(ctx), use_head=not no_head,
                             progress=not as_json)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_report(report))


def _print_fulltext(figures: dict[str, Any]) -> None:
    """Human summary of a full-text pass."""
    statuses = ", ".join(f"{n} {k}" for k, n in figures["statuses"].items()) or "none"
    click.echo(f"Full text: {figures['stored']} pages stored of {figures['fetched']} fetched "
               f"({figures['candidates']} wanted; {statuses})"
               + (f"; {figures['feed_text']} carried by their feed" if figures.get("feed_text") else "")
               + (f"; {figures['deferred']} deferred (hosts asked us to wait: "
                  f"{', '.join(figures['deferred_hosts'])})" if figures["deferred"] else "") + ".")


@cli.command("fulltext")
@click.option("--backfill", is_flag=True,
              help="Fetch pages for every stored article that lacks text, not only the last days' new ones.")
@click.option("--retry", is_flag=True,
              help="Also try again articles whose last attempt looked final (paywall, empty, robots ...).")
@click.option("--feed", "feed_names", multiple=True, metavar="NAME",
              help="Only this feed (repeatable); it must have 'fulltext: true'.")
@click.option("--limit", type=click.IntRange(min=1), help="Fetch at most this many pages.")
@click.option("--from-archive", "archive", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Instead of fetching, load an items archive (*.items.jsonl) whose items carry their text.")
@_feeds_option
@_wait_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def fulltext_command(ctx: click.Context, backfill: bool, retry: bool, feed_names: tuple[str, ...],
                     limit: int | None, archive: Path | None, feeds_path: Path | None, wait: float,
                     as_json: bool) -> None:
    """Fetch article pages politely and store their main text (feeds with 'fulltext: true').

    The nightly run does this for new articles; run `tracker enrich` (or `tracker run`)
    afterwards so the new text is analysed. See README, "Full text".
    """
    settings = get_settings(ctx, feeds_path=feeds_path)
    if archive is not None:
        figures = run_archive_text(settings, archive, wait=wait).as_dict()
        if as_json:
            click.echo(json.dumps(figures, indent=2))
        elif figures["skipped"]:
            click.echo(f"{archive}: already loaded, unchanged; nothing to do.")
        else:
            click.echo(f"{archive}: {figures['items']} items, {figures['new']} new articles "
                       f"(+{figures['duplicates']} duplicates linked); full text stored for "
                       f"{figures['text_stored']} articles.")
        return
    summary = run_fulltext(settings, backfill=backfill, retry=retry, limit=limit, feeds=feed_names, wait=wait,
                           progress=not as_json)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    else:
        _print_fulltext(summary.as_dict())


@cli.group("feeds")
def feeds_group() -> None:
    """Inspect the configured feeds."""


@feeds_group.command("check")
@click.option("--days", type=click.IntRange(min=1), default=7, show_default=True,
              help="Window for failures and items per day.")
@click.option("--as-of", metavar="YYYY-MM-DD", help="End of the window (default: the latest fetch).")
@_feeds_option
@click.option("--json", "as_json", is_flag=True, help="Print one object per feed as JSON.")
@click.pass_context
@handle_errors
def feeds_check_command(ctx: click.Context, days: int, as_of: str | None, feeds_path: Path | None,
                        as_json: bool) -> None:
    """Each feed's health from the database: last success, failures, items a day, full text.

    Exit status 1 when an enabled feed is dead or failing.
    """
    from tracker.ingest.feeds import load_feeds_config
    from tracker.ingest.health import feed_health, format_health

    settings = get_settings(ctx, feeds_path=feeds_path)
    if not settings.db_path.exists():
        raise TrackerError(f"No database at {settings.db_path}: run `tracker ingest` first, "
                           "or point --db / TRACKER_DB at an existing tracker database.")
    config = load_feeds_config(settings.feeds_path) if settings.feeds_path.exists() else None
    conn = _open_read(settings.db_path)
    try:
        rows = feed_health(conn, days=days, as_of=as_of, config=config)
    finally:
        conn.close()
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rows], indent=2))
    else:
        click.echo(format_health(rows, days=days, as_of=as_of))
    sys.exit(1 if any(r.verdict in ("dead", "failing") for r in rows) else 0)


def _open_read(path: Path) -> Any:
    """The database migrated (new columns and tables exist), then used read-only."""
    from tracker.base.db import open_db

    return open_db(path).conn
@cli.command("discover")
@click.option("--since", metavar="YYYY-MM-DD", help="First day of the window (default: --weeks back).")
@click.option("--until", metavar="YYYY-MM-DD", help="Last day of the window (default: the latest article).")
@click.option("--weeks", type=click.IntRange(min=1), default=4, show_default=True,
              help="Window length in weeks when --since is not given.")
@click.option("--scope", type=click.Choice(["both", "unclaimed", "all"]), default="both", show_default=True,
              help="Cluster the articles no narrative claims, all articles, or both (two runs).")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Random seed of UMAP: the same data and seed give the same topics.")
@click.option("--min-cluster-size", type=click.IntRange(min=0), default=0, show_default=True,
              help="Smallest topic (HDBSCAN); 0 = automatic from the number of articles.")
@click.option("--reducer", type=click.Choice(["umap", "pca"]), default="umap", show_default=True,
              help="Dimension reduction before HDBSCAN (pca: faster start, coarser topics).")
@click.option("--propose", "propose_id", type=int, metavar="ID",
              help="Print a narratives.yaml entry from discovered topic ID instead of running.")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def discover_command(ctx: click.Context, since: str | None, until: str | None, weeks: int, scope: str,
                     seed: int, min_cluster_size: int, reducer: str, propose_id: int | None, wait: float,
                     as_json: bool) -> None:
    """Find the stories no narrative covers yet: topics in the stored article vectors.

    Clusters the window's articles (those no narrative claims, and all of them) with
    BERTopic (UMAP + HDBSCAN, class-based TF-IDF terms), labels each topic with terms,
    entities and three headlines, measures its size per day and its growth (new, rising,
    fading, steady) and links it to the previous run's topic it continues. Results go to
    discover_runs, discovered_topics, topic_articles and topic_daily.
    """
    from tracker.pipeline import propose_narrative, run_discover

    settings = get_settings(ctx)
    if propose_id is not None:
        click.echo(propose_narrative(settings, propose_id), nl=False)
        return
    from tracker.learn.discover import DiscoverParams

    params = DiscoverParams(seed=seed, min_cluster_size=min_cluster_size, reducer=reducer)
    scopes = ("unclaimed", "all") if scope == "both" else (scope,)
    say = None if as_json else (lambda msg: click.echo(msg, err=True))
    runs = run_discover(settings, since=since, until=until, weeks=weeks, scopes=scopes, params=params,
                        wait=wait, progress=say)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in runs], indent=2, ensure_ascii=False))
        return
    for r in runs:
        growth = ", ".join(f"{n} {label}" for label, n in sorted(r.growth.items()))
        click.echo(f"Run {r.run_id} ({r.scope}, {r.start_day}..{r.end_day}): {r.articles:,} articles, "
                   f"{r.topics} topics ({growth or 'none'}), {r.outliers:,} outliers, "
                   f"{r.linked} continue run {r.previous_run_id or '-'}; {r.seconds:.0f}s.")
        for t in r.top[:10]:
            click.echo(f"  {t['id']:>6}  {t['articles']:>5}  {t['growth']:<7} {t['label']}")
    click.echo("Propose a narrative from a topic: tracker discover --propose ID")


@cli.command("stories")
@click.option("--full", is_flag=True, help="Rebuild every cluster instead of adding new articles.")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0),
              help="Cosine to a cluster's centroid from which an article joins it (default 0.75).")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another tracker process to release the database.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
@handle_errors
def stories_command(ctx: click.Context, full: bool, threshold: float | None, wait: float,
                    as_json: bool) -> None:
    """Group near-duplicate and same-event articles across outlets into story clusters."""
    from dataclasses import asdict

    from tracker.pipeline import run_stories

    summary = run_stories(get_settings(ctx), full=full, threshold=threshold, wait=wait)
    if as_json:
        click.echo(json.dumps(asdict(summary), indent=2))
        return
    click.echo(f"Story clusters ({summary.version}): {summary.articles_added:,} articles and "
               f"{summary.copies_added:,} copies added, {summary.clusters_new:,} new clusters, "
               f"{summary.clusters_total:,} in all" + (" (full rebuild)" if summary.full else "")
               + f"; {summary.seconds:.1f}s.")
