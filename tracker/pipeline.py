"""The nightly job and the ingest entry points: the only place that joins the store and the stages."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from tracker.base.db import check_tracker_database, check_writable, open_db, transaction
from tracker.base.lock import write_lock
from tracker.base.settings import Settings
from tracker.ingest.feeds import load_feeds_config
from tracker.ingest.replay import replay_dir
from tracker.ingest.runner import IngestSummary, ingest_feeds
from tracker.ingest.store import abort_unfinished_runs

if TYPE_CHECKING:
    from tracker.enrich.runner import EnrichSummary
    from tracker.index.store import IndexSummary
    from tracker.report.write import ReportResult


@contextmanager
def locked_db(settings: Settings, *, wait: float = 0.0) -> Iterator[sqlite_utils.Database]:
    """The database, opened (migrated) under the write lock, closed afterwards.

    Some other SQLite file is refused before anything is written beside it; a read-only
    database is refused with a fix. Runs a killed process left unfinished are marked
    aborted (holding the lock, no other writer can be running).
    """
    check_tracker_database(settings.db_path)
    with write_lock(settings.db_path, wait=wait):
        check_writable(settings.db_path)
        db = open_db(settings.db_path)
        try:
            with transaction(db.conn):
                abort_unfinished_runs(db.conn)
            yield db
        finally:
            db.conn.close()


def run_ingest(
    settings: Settings,
    *,
    from_dir: Path | None = None,
    force: bool = False,
    wait: float = 0.0,
    progress: bool = False,
) -> IngestSummary:
    """Ingest the configured feeds (or replay a snapshot folder) under the write lock."""
    with locked_db(settings, wait=wait) as db:
        return _ingest(db, settings, from_dir=from_dir, force=force, progress=progress)


def run_enrich(settings: Settings, *, limit: int | None = None, batch_size: int = 256,
               wait: float = 0.0, progress: bool = False) -> EnrichSummary:
    """Enrich pending articles (every stage) under the write lock."""
    from tracker.enrich.runner import enrich_pending
    from tracker.enrich.stages import default_stages

    with locked_db(settings, wait=wait) as db:
        return enrich_pending(db, settings, limit=limit, batch_size=batch_size, progress=progress,
                              stages=default_stages(settings))


def run_index(settings: Settings, *, since: str | None = None, wait: float = 0.0) -> IndexSummary:
    """Recompute the narrative index (from ``since`` on) under the write lock."""
    from tracker.index.store import build_index

    with locked_db(settings, wait=wait) as db:
        return build_index(db, settings, since=since)


def run_report(settings: Settings, *, week: str | None = None, pdf: bool = False) -> ReportResult:
    """Write the weekly report from an existing database into ``settings.report_dir``."""
    from tracker.report.write import write_report

    check_tracker_database(settings.db_path, allow_new=False)
    db = open_db(settings.db_path)
    try:
        return write_report(db, settings, week=week, out_dir=settings.report_dir, pdf=pdf)
    finally:
        db.conn.close()


def _ingest(db: sqlite_utils.Database, settings: Settings, *, from_dir: Path | None, force: bool,
            progress: bool) -> IngestSummary:
    if from_dir is not None:
        return replay_dir(db, settings, from_dir, progress=progress)
    feeds = load_feeds_config(settings.feeds_path)
    return ingest_feeds(db, settings, feeds, force=force, progress=progress)


def earliest_day(conn: sqlite3.Connection, article_ids: set[int]) -> str | None:
    """The earliest ``day`` among these articles, or None for none."""
    ids = sorted(article_ids)
    days = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        row = conn.execute(
            f"SELECT MIN(day) FROM articles WHERE id IN ({','.join('?' * len(chunk))})", chunk
        ).fetchone()
        if row[0] is not None:
            days.append(row[0])
    return min(days) if days else None


@dataclass
class NightlySummary:
    """What one ``tracker run`` did, stage by stage."""

    ingest: IngestSummary
    enriched: int = 0
    enrich_counts: dict[str, int] = field(default_factory=dict)
    days_indexed: int = 0
    index_since: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for the CLI summary and JSON output."""
        return {
            **self.ingest.as_dict(),
            "enriched": self.enriched,
            "enrich": self.enrich_counts,
            "days_indexed": self.days_indexed,
            "index_since": self.index_since,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def run_nightly(
    settings: Settings,
    *,
    from_dir: Path | None = None,
    force: bool = False,
    wait: float = 0.0,
    progress: bool = False,
) -> NightlySummary:
    """Ingest -> enrich -> index in one locked run; re-running with nothing new writes nothing new."""
    from tracker.enrich.runner import enrich_pending
    from tracker.enrich.stages import default_stages
    from tracker.index.store import build_index

    with locked_db(settings, wait=wait) as db:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        ingested = _ingest(db, settings, from_dir=from_dir, force=force, progress=progress)
        timings["ingest"] = time.perf_counter() - start

        start = time.perf_counter()
        enriched = enrich_pending(db, settings, progress=progress, stages=default_stages(settings))
        timings["enrich"] = time.perf_counter() - start

        # Only days from the earliest article enriched now need recomputing (late
        # articles revise recent days, as the EPU daily index does); an empty index is
        # built whole.
        since = earliest_day(db.conn, enriched.article_ids)
        has_index = db.conn.execute("SELECT 1 FROM narrative_index LIMIT 1").fetchone() is not None
        summary = NightlySummary(ingest=ingested, enriched=enriched.articles,
                                 enrich_counts=enriched.counts(), seconds=timings)
        if since is not None or not has_index:
            start = time.perf_counter()
            indexed = build_index(db, settings, since=since if has_index else None)
            timings["index"] = time.perf_counter() - start
            summary.days_indexed = indexed.days
            summary.index_since = since if has_index else None
        return summary
