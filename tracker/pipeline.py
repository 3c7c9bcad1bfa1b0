"""The nightly job and the ingest entry points: the only place that joins the store and the stages."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from tracker.base.db import check_tracker_database, check_writable, open_db, transaction
from tracker.base.errors import TrackerError
from tracker.base.lock import write_lock
from tracker.base.settings import Settings
from tracker.ingest.archive import ArchiveSummary, load_items_archive
from tracker.ingest.feeds import load_feeds_config
from tracker.ingest.fulltext import FulltextSummary, adopt_feed_text, fetch_fulltext
from tracker.ingest.replay import replay_dir
from tracker.ingest.runner import IngestSummary, ingest_feeds
from tracker.ingest.store import abort_unfinished_runs

if TYPE_CHECKING:
    from tracker.enrich.ray_engine import RayOptions
    from tracker.enrich.runner import EnrichSummary
    from tracker.index.dynamics import DynamicsParams
    from tracker.index.dynamics_store import DynamicsSummary
    from tracker.index.store import IndexSummary
    from tracker.index.validate import Validation
    from tracker.learn.discover import DiscoverParams
    from tracker.learn.discover_store import RunSummary
    from tracker.learn.stories import StorySummary
    from tracker.report.deliver import AlertConfig
    from tracker.report.export import ExportResult
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
               wait: float = 0.0, progress: bool = False, ray: RayOptions | None = None) -> EnrichSummary:
    """Enrich pending articles (every stage) under the write lock; on Ray if ``ray`` is given."""
    _check_engine(ray)
    with locked_db(settings, wait=wait) as db:
        return _enrich(db, settings, limit=limit, batch_size=batch_size, progress=progress, ray=ray)


def _check_engine(ray: RayOptions | None) -> None:
    """Fail before any work if the Ray engine is asked for and Ray is missing."""
    if ray is not None:
        from tracker.enrich.ray_engine import require_ray

        require_ray()


def _enrich(db: sqlite_utils.Database, settings: Settings, *, limit: int | None = None,
            batch_size: int = 256, progress: bool = False, ray: RayOptions | None = None) -> EnrichSummary:
    """Every stage over the pending articles: in this process, or on Ray actors."""
    from tracker.enrich.stages import default_stages

    stages = default_stages(settings)
    if ray is None:
        from tracker.enrich.runner import enrich_pending

        return enrich_pending(db, settings, limit=limit, batch_size=batch_size, progress=progress,
                              stages=stages)
    from tracker.enrich.ray_engine import enrich_pending_ray

    return enrich_pending_ray(db, stages=stages, options=ray, limit=limit, batch_size=batch_size,
                              progress=progress, max_sentences=settings.fulltext_sentences)


def run_index(settings: Settings, *, since: str | None = None, wait: float = 0.0,
              reset_params: bool = False) -> IndexSummary:
    """Recompute the narrative index (from ``since`` on) under the write lock."""
    from tracker.index.store import build_index

    with locked_db(settings, wait=wait) as db:
        _require_scores(db.conn)
        return build_index(db, settings, since=since, reset_params=reset_params)


def _require_scores(conn: sqlite3.Connection) -> None:
    """Refuse to index articles that were never enriched, and say what to run."""
    if conn.execute("SELECT 1 FROM articles LIMIT 1").fetchone() is None:
        return  # an empty database builds an empty index
    if conn.execute("SELECT 1 FROM article_narratives LIMIT 1").fetchone() is None:
        articles = conn.execute("SELECT COUNT(*) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
        raise TrackerError(
            f"The database holds {articles} articles but none has narrative scores yet, so there "
            "is nothing to index: run `tracker enrich` first, then `tracker index` (or `tracker run`, "
            "which ingests, enriches and indexes)."
        )


def run_validate(settings: Settings, *, events_path: Path | None = None, null_days: int = 500,
                 seed: int = 20250101) -> tuple[Validation, Path]:
    """Run the event study on the stored index; write the Markdown summary into ``report_dir``."""
    from tracker.index.study import StudyParams
    from tracker.index.validate import to_markdown, validate

    with existing_db(settings) as db:
        result = validate(db.conn, events_path, models_dir=settings.models_dir,
                          params=StudyParams(null_days=null_days, seed=seed))
    try:
        settings.report_dir.mkdir(parents=True, exist_ok=True)
        path = settings.report_dir / f"validation-{result.last_day}.md"
        path.write_text(to_markdown(result), encoding="utf-8")
    except OSError as exc:
        raise TrackerError(f"Cannot write the summary into {settings.report_dir}: {exc}. "
                           "Choose another --out directory.") from None
    return result, path


def run_dynamics(settings: Settings, params: DynamicsParams, *, narratives: list[str] | None = None,
                 since: str | None = None, wait: float = 0.0) -> DynamicsSummary:
    """Test how the narratives' series lead one another; store the rows under the write lock."""
    from tracker.index.dynamics_store import build_dynamics

    check_tracker_database(settings.db_path, allow_new=False)
    with locked_db(settings, wait=wait) as db:
        return build_dynamics(db.conn, params, narratives=narratives, since=since)


def run_stories(settings: Settings, *, full: bool = False, threshold: float | None = None,
                wait: float = 0.0) -> StorySummary:
    """Group new articles into story clusters (all of them with ``full``) under the write lock."""
    from tracker.learn.stories import StoryParams, refresh_stories

    params = StoryParams() if threshold is None else StoryParams(threshold=threshold)
    with locked_db(settings, wait=wait) as db:
        return refresh_stories(db.conn, params, full=full)


def run_discover(settings: Settings, *, since: str | None = None, until: str | None = None,
                 weeks: int = 4, scopes: tuple[str, ...] = ("unclaimed", "all"),
                 params: DiscoverParams | None = None, wait: float = 0.0,
                 progress: Callable[[str], None] | None = None) -> list[RunSummary]:
    """Refresh story clusters, then discover topics in the window, under the write lock."""
    from tracker.learn.discover_store import run_discover as discover
    from tracker.learn.stories import refresh_stories

    with locked_db(settings, wait=wait) as db:
        refresh_stories(db.conn)
        return discover(db.conn, params, since=since, until=until, weeks=weeks, scopes=scopes,
                        progress=progress)


def propose_narrative(settings: Settings, topic_id: int) -> str:
    """A narratives.yaml entry proposed from a discovered topic (read-only)."""
    from tracker.enrich.narratives import narratives_path
    from tracker.learn.topics import narrative_ids, propose

    if not settings.db_path.exists():
        raise TrackerError(f"No database at {settings.db_path}: run `tracker run` and `tracker discover` first.")
    db = open_db(settings.db_path)
    try:
        return propose(db.conn, topic_id, narrative_ids(narratives_path(settings.models_dir)))
    finally:
        db.conn.close()


def run_report(settings: Settings, *, week: str | None = None, pdf: bool = False) -> ReportResult:
    """Write the weekly report from an existing database into ``settings.report_dir``."""
    from tracker.report.write import write_report

    with existing_db(settings) as db:
        return write_report(db, settings, week=week, out_dir=settings.report_dir, pdf=pdf)


@dataclass
class AlertsSummary:
    """What one ``tracker alerts`` did: new alerts, the feed file, deliveries per channel."""

    new: list[str] = field(default_factory=list)
    feed_path: Path | None = None
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for the CLI."""
        return {"new": self.new, "feed_path": str(self.feed_path) if self.feed_path else None,
                "sent": self.sent, "failed": self.failed, "errors": self.errors}


def run_alerts(settings: Settings, config: AlertConfig | None = None, *, wait: float = 0.0,
               db: sqlite_utils.Database | None = None) -> AlertsSummary:
    """Record new spikes as alerts, rewrite the Atom file, deliver by webhook/email; failures recorded.

    Given ``db`` (the nightly run holds the lock already), it is used as is.
    """
    if db is None:
        with locked_db(settings, wait=wait) as opened:
            return run_alerts(settings, config, db=opened)
    from tracker.base.db import utcnow
    from tracker.report import alerts as al
    from tracker.report.deliver import load_alert_config, post_webhook, send_email, webhook_target

    cfg = config or load_alert_config()
    conn = db.conn
    summary = AlertsSummary()
    now = utcnow()
    found = al.find_new_alerts(conn, lookback_days=cfg.lookback_days, top=cfg.top_stories,
                               base_url=cfg.base_url, day_url=cfg.day_url)
    with transaction(conn):
        al.record_alerts(conn, found, now)
    summary.new = [a.title for a in found]
    feed_path = cfg.feed_path or settings.report_dir / "alerts.atom"
    recent = al.recent_alerts(conn)
    # No alert ever: no file (a nightly run without spikes leaves the reports folder alone).
    if recent or feed_path.exists():
        try:
            feed_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = feed_path.with_name(f".{feed_path.name}.tmp")
            tmp.write_text(al.atom_feed(recent), encoding="utf-8")
            tmp.replace(feed_path)
            summary.feed_path = feed_path
        except OSError as exc:
            summary.errors.append(f"atom feed {feed_path}: {exc}")
    channels = []
    if cfg.webhook_url:
        channels.append(("webhook", webhook_target(cfg.webhook_url), lambda a: post_webhook(a, cfg)))
    if cfg.email_enabled:
        channels.append(("email", ",".join(cfg.email_to), lambda a: send_email(a, cfg)))
    for channel, target, send in channels:
        for alert_id, alert in al.pending(conn, channel, target, max_failures=cfg.max_failed_runs):
            outcome = send(alert)
            with transaction(conn):
                al.record_delivery(conn, alert_id, channel, target, ok=outcome.ok,
                                   attempts=outcome.attempts, error=outcome.error, now=utcnow())
            bucket = summary.sent if outcome.ok else summary.failed
            bucket[channel] = bucket.get(channel, 0) + 1
            if not outcome.ok:
                summary.errors.append(f"{channel}: {alert.title}: {outcome.error}")
    return summary


def run_export(settings: Settings, *, what: str, fmt: str, out: Path | None, wide: bool = False,
               since: str | None = None, until: str | None = None) -> ExportResult:
    """Export the index, articles or entities from an existing database (CSV or Parquet)."""
    from tracker.report.export import export

    with existing_db(settings) as db:
        return export(db.conn, what=what, fmt=fmt, out=out, wide=wide, since=since, until=until)


@contextmanager
def existing_db(settings: Settings) -> Iterator[sqlite_utils.Database]:
    """The database for a reading command (report, validate); an error if there is none."""
    check_tracker_database(settings.db_path, allow_new=False)
    db = open_db(settings.db_path)
    try:
        yield db
    finally:
        db.conn.close()


def _ingest(db: sqlite_utils.Database, settings: Settings, *, from_dir: Path | None, force: bool,
            progress: bool) -> IngestSummary:
    if from_dir is not None:
        summary = replay_dir(db, settings, from_dir, progress=progress)
    else:
        feeds = load_feeds_config(settings.feeds_path)
        summary = ingest_feeds(db, settings, feeds, force=force, progress=progress)
    if summary.run_id is not None:
        # Items whose feed (or archive) carried the whole article keep it as their full text.
        adopt_feed_text(db.conn, run_id=summary.run_id)
    return summary


def _fulltext_feeds(settings: Settings, only: tuple[str, ...] = ()) -> list[str]:
    """Names of the configured feeds whose pages may be fetched (``fulltext: true``), optionally some."""
    feeds = load_feeds_config(settings.feeds_path)
    names = [f.name for f in feeds if f.fulltext and f.enabled]
    if only:
        unknown = sorted(set(only) - {f.name for f in feeds})
        if unknown:
            raise TrackerError(f"{', '.join(unknown)}: not in {settings.feeds_path}. "
                               "Fix: use a feed name from that file (tracker feeds check lists them)")
        refused = sorted(set(only) - set(names))
        if refused:
            raise TrackerError(f"{', '.join(refused)}: full text is not allowed for this feed. "
                               f"Fix: set 'fulltext: true' on it in {settings.feeds_path} if its publisher allows it")
        names = [n for n in names if n in only]
    return names


def run_fulltext(
    settings: Settings,
    *,
    backfill: bool = False,
    retry: bool = False,
    limit: int | None = None,
    feeds: tuple[str, ...] = (),
    wait: float = 0.0,
    progress: bool = False,
) -> FulltextSummary:
    """Fetch article pages for the feeds that allow it (new articles, or all with ``backfill``)."""
    from tracker.enrich.runner import forget_enrichments

    names = _fulltext_feeds(settings, feeds)
    with locked_db(settings, wait=wait) as db:
        fed = adopt_feed_text(db.conn, run_id=None) if backfill else set()
        summary = fetch_fulltext(db, settings, names, backfill=backfill, retry=retry, limit=limit,
                                 progress=progress)
        summary.feed_text = len(fed)
        summary.article_ids |= fed
        with transaction(db.conn):
            # Articles enriched on their summary are enriched again on their text.
            forget_enrichments(db.conn, summary.article_ids)
        return summary


def run_archive_text(settings: Settings, path: Path, *, wait: float = 0.0) -> ArchiveSummary:
    """Load an items archive (``*.items.jsonl``) that carries article text."""
    from tracker.enrich.runner import forget_enrichments

    with locked_db(settings, wait=wait) as db:
        summary = load_items_archive(db, settings, path)
        with transaction(db.conn):
            forget_enrichments(db.conn, summary.article_ids)
        return summary


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
    fulltext: FulltextSummary | None = None
    enriched: int = 0
    enrich_counts: dict[str, int] = field(default_factory=dict)
    days_indexed: int = 0
    index_since: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    alerts: AlertsSummary | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for the CLI summary and JSON output."""
        return {
            "alerts": self.alerts.as_dict() if self.alerts is not None else None,
            **self.ingest.as_dict(),
            "fulltext": self.fulltext.as_dict() if self.fulltext is not None else None,
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
    ray: RayOptions | None = None,
) -> NightlySummary:
    """Ingest -> enrich -> index in one locked run; re-running with nothing new writes nothing new.

    With ``ray``, enrichment runs on Ray actors (:mod:`tracker.enrich.ray_engine`).
    """
    from tracker.index.store import build_index
    from tracker.learn.stories import refresh_stories

    _check_engine(ray)
    with locked_db(settings, wait=wait) as db:
        timings: dict[str, float] = {}
        start = time.perf_counter()
        ingested = _ingest(db, settings, from_dir=from_dir, force=force, progress=progress)
        timings["ingest"] = time.perf_counter() - start

        fulltext = None
        if from_dir is None:
            # New articles of the feeds that allow it get their page's main text before enrichment.
            start = time.perf_counter()
            fulltext = fetch_fulltext(db, settings, _fulltext_feeds(settings), progress=progress)
            timings["fulltext"] = time.perf_counter() - start

        start = time.perf_counter()
        enriched = _enrich(db, settings, progress=progress, ray=ray)
        timings["enrich"] = time.perf_counter() - start

        # New articles join their story clusters (incremental: only unclustered articles).
        start = time.perf_counter()
        refresh_stories(db.conn)
        timings["stories"] = time.perf_counter() - start

        # Only days from the earliest article enriched now need recomputing (late
        # articles revise recent days, as the EPU daily index does); an empty index is
        # built whole.
        since = earliest_day(db.conn, enriched.article_ids)
        has_index = db.conn.execute("SELECT 1 FROM narrative_index LIMIT 1").fetchone() is not None
        summary = NightlySummary(ingest=ingested, fulltext=fulltext, enriched=enriched.articles,
                                 enrich_counts=enriched.counts(), seconds=timings)
        if since is not None or not has_index:
            start = time.perf_counter()
            indexed = build_index(db, settings, since=since if has_index else None)
            timings["index"] = time.perf_counter() - start
            summary.days_indexed = indexed.days
            summary.index_since = since if has_index else None
        # New spikes become alerts; delivery problems are recorded and reported, never fatal.
        start = time.perf_counter()
        try:
            summary.alerts = run_alerts(settings, db=db)
        except TrackerError as exc:
            summary.alerts = AlertsSummary(errors=[str(exc)])
        timings["alerts"] = time.perf_counter() - start
        return summary
