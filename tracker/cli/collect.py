"""Commands that bring data in: ingest, run (the nightly job), fulltext, feeds check, enrich."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from tracker.base.db import database_kind
from tracker.base.errors import TrackerError
from tracker.cli.app import (
    FiniteFloat,
    _engine_options,
    _feeds_option,
    _ingest_options,
    _note_new_database,
    _open_read,
    _print_ingest,
    _wait_option,
    cli,
    get_settings,
    handle_errors,
    plural,
    ray_options,
)
from tracker.pipeline import (
    run_archive_text,
    run_enrich,
    run_fulltext,
    run_ingest,
    run_nightly,
)


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
