"""Ingest: fetch feeds concurrently (or replay archived snapshots), parse, de-duplicate, store.

Each feed (or snapshot file) is written in one transaction, so a crash or kill
mid-run leaves the database consistent and the next run completes the work.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import httpx
import sqlite_utils

from tracker.base.db import transaction
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.fetch import FetchResult, fetch_feed, make_client
from tracker.ingest.normalize import body_hash, iso_utc
from tracker.ingest.parse import ParsedFeed, parse_feed
from tracker.ingest.store import (
    feed_state,
    finish_run,
    record_fetch,
    save_entries,
    start_run,
    update_feed_state,
    update_fetch,
    upsert_feed,
)

log = logging.getLogger(__name__)



#: File name suffixes replayed from a snapshot folder.
SNAPSHOT_SUFFIXES = (".xml", ".rss", ".atom", ".rdf", ".feed", ".json")
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?")


@dataclass
class FeedOutcome:
    """How one fetch of a feed (or one replayed snapshot file) fared in a run."""

    feed: str
    status: str
    items_seen: int = 0
    items_new: int = 0
    items_duplicate: int = 0
    error: str | None = None
    #: The snapshot file, for a replay.
    snapshot: str | None = None


#: Exit status of ``tracker ingest`` / ``tracker run``: every feed worked, some failed, or all of them.
EXIT_OK, EXIT_SOME_FAILED, EXIT_ALL_FAILED = 0, 1, 3


@dataclass
class IngestSummary:
    """Totals of an ingest or replay run, for the CLI summary and exit status.

    ``outcomes`` holds one entry per fetch: one per feed for a live ingest, one per
    snapshot file for a replay, so feed counts are counts of distinct feeds.
    """

    run_id: int | None = None
    outcomes: list[FeedOutcome] = field(default_factory=list)
    #: Feeds not due yet (live), or snapshot files replayed before (replay).
    skipped: int = 0
    replay: bool = False

    @property
    def feeds(self) -> int:
        """Distinct feeds fetched (or replayed) in this run."""
        return len({o.feed for o in self.outcomes})

    @property
    def feeds_failed(self) -> int:
        """Feeds with at least one failed fetch (or snapshot)."""
        return len({o.feed for o in self.outcomes if o.status == "failed"})

    @property
    def feeds_ok(self) -> int:
        """Feeds whose every fetch (or snapshot) worked or was unchanged."""
        return self.feeds - self.feeds_failed

    @property
    def fetches_failed(self) -> int:
        """Failed fetches (snapshot files, for a replay)."""
        return sum(1 for o in self.outcomes if o.status == "failed")

    @property
    def total_outage(self) -> bool:
        """Something was fetched and every fetch failed: not a partial failure."""
        return bool(self.outcomes) and self.fetches_failed == len(self.outcomes)

    @property
    def exit_status(self) -> int:
        """0 every feed worked, 1 some failed (the rest was processed), 3 all of them failed."""
        if self.total_outage:
            return EXIT_ALL_FAILED
        return EXIT_SOME_FAILED if self.fetches_failed else EXIT_OK

    @property
    def articles_new(self) -> int:
        """New distinct articles stored."""
        return sum(o.items_new for o in self.outcomes)

    @property
    def duplicates(self) -> int:
        """New items stored as duplicates of an earlier article."""
        return sum(o.items_duplicate for o in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for JSON output and the runs table."""
        return {
            "feeds": self.feeds,
            "feeds_ok": self.feeds_ok,
            "feeds_failed": self.feeds_failed,
            "fetches": len(self.outcomes),
            "fetches_failed": self.fetches_failed,
            "total_outage": self.total_outage,
            "articles_new": self.articles_new,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "failures": [{"feed": o.feed, "error": o.error, **({"snapshot": o.snapshot} if o.snapshot else {})}
                         for o in self.outcomes if o.status == "failed"],
        }


def _progress(items: list[Any], label: str, enabled: bool) -> Any:
    if not enabled:
        return nullcontext(items)
    return click.progressbar(items, label=label, file=sys.stderr, show_pos=True)


def _ts(seconds: float) -> str:
    return iso_utc(datetime.fromtimestamp(seconds, tz=UTC))


def store_fetch(
    conn: sqlite3.Connection,
    feed_id: int,
    fetch: FetchResult | None,
    parsed: ParsedFeed | None,
    *,
    run_id: int | None,
    fetched_at: datetime,
    settings: Settings,
    source: str = "http",
    snapshot_path: str | None = None,
    raw_hash: str | None = None,
    unchanged: bool = False,
    nbytes: int | None = None,
) -> FeedOutcome:
    """Record one fetch and save its entries, all inside the caller's transaction."""
    fetched_iso = iso_utc(fetched_at)
    row: dict[str, Any] = {
        "run_id": run_id,
        "feed_id": feed_id,
        "source": source,
        "snapshot_path": snapshot_path,
        "started_at": _ts(fetch.started_at) if fetch else fetched_iso,
        "finished_at": _ts(fetch.finished_at) if fetch else fetched_iso,
        "body_hash": raw_hash,
        "bytes": nbytes,
    }
    if fetch is not None:
        row.update(url=fetch.url, final_url=fetch.final_url, http_status=fetch.http_status,
                   content_type=fetch.content_type, etag=fetch.etag, last_modified=fetch.last_modified)
    if fetch is not None and not fetch.ok:
        row.update(status=fetch.status, error_kind=fetch.error_kind, error=fetch.error)
    elif unchanged:
        row.update(status="unchanged")
    elif parsed is not None:
        row.update(status=parsed.status, items_seen=parsed.items_seen, bozo=int(parsed.bozo),
                   bozo_message=parsed.bozo_message, error_kind=parsed.error_kind, error=parsed.error)
    status = row["status"]
    outcome = FeedOutcome(feed="", status=status, error=row.get("error"))
    fetch_id = record_fetch(conn, **row)
    state: dict[str, Any] = {"last_fetched_at": fetched_iso}
    if parsed is not None and status != "failed":
        stats = save_entries(conn, feed_id, fetch_id, parsed.entries, fetched_iso,
                             window_days=settings.title_dedupe_days,
                             content_window_days=settings.content_dedupe_days)
        update_fetch(conn, fetch_id, items_new=stats.new, items_duplicate=stats.duplicates)
        outcome.items_seen, outcome.items_new, outcome.items_duplicate = (
            parsed.items_seen, stats.new, stats.duplicates)
        if stats.new:
            state["last_new_at"] = fetched_iso
    if status != "failed":
        state["last_ok_at"] = fetched_iso
        if fetch is not None and source == "http":
            state.update(etag=fetch.etag, last_modified=fetch.last_modified)
            if raw_hash:
                state["body_hash"] = raw_hash
    update_feed_state(conn, feed_id, **state)
    return outcome


def _due(conn: sqlite3.Connection, feed_id: int, feed: FeedConfig, now: datetime) -> bool:
    if not feed.poll_minutes:
        return True
    row = conn.execute("SELECT last_fetched_at FROM feeds WHERE id = ?", (feed_id,)).fetchone()
    if not row or not row[0]:
        return True
    last = datetime.strptime(row[0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return now - last >= timedelta(minutes=feed.poll_minutes)


def _fetch_and_parse(
    client: httpx.Client, feed: FeedConfig, settings: Settings, state: dict[str, Any]
) -> tuple[FetchResult, ParsedFeed | None, str | None, bool]:
    """Worker: fetch, then parse unless the body is byte-identical to the last one."""
    fetch = fetch_feed(client, feed.url, settings, etag=state.get("etag"),
                       last_modified=state.get("last_modified"))
    if not fetch.ok:
        return fetch, None, None, False
    raw_hash = body_hash(fetch.body)
    if raw_hash == state.get("body_hash"):
        return fetch, None, raw_hash, True
    parsed = parse_feed(fetch.body, datetime.now(UTC), headers=fetch.headers,
                        url=fetch.final_url or fetch.url)
    return fetch, parsed, raw_hash, False


def ingest_feeds(
    db: sqlite_utils.Database,
    settings: Settings,
    feeds: list[FeedConfig],
    *,
    client: httpx.Client | None = None,
    force: bool = False,
    progress: bool = False,
) -> IngestSummary:
    """Fetch every enabled, due feed with a bounded pool and store what is new."""
    conn = db.conn
    with transaction(conn):
        ids = {feed.name: upsert_feed(conn, feed) for feed in feeds}
        run_id = start_run(conn, "ingest")
    summary = IngestSummary(run_id=run_id)
    now = datetime.now(UTC)
    todo = [f for f in feeds if f.enabled and (force or _due(conn, ids[f.name], f, now))]
    summary.skipped = len(feeds) - len(todo)
    states = {f.name: feed_state(conn, ids[f.name]) for f in todo}
    own_client = client is None
    http = client or make_client(settings)
    try:
        with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
            futures = {pool.submit(_fetch_and_parse, http, f, settings, states[f.name]): f for f in todo}
            bar_ctx = (click.progressbar(length=len(futures), label="Fetching feeds", file=sys.stderr)
                       if progress else nullcontext(None))
            with bar_ctx as bar:
                for future in as_completed(futures):
                    feed = futures[future]
                    fetch, parsed, raw_hash, unchanged = future.result()
                    with transaction(conn):
                        outcome = store_fetch(
                            conn, ids[feed.name], fetch, parsed, run_id=run_id,
                            fetched_at=datetime.fromtimestamp(fetch.finished_at or fetch.started_at, tz=UTC),
                            settings=settings, raw_hash=raw_hash, unchanged=unchanged,
                            nbytes=len(fetch.body) if fetch.ok else None,
                        )
                    outcome.feed = feed.name
                    summary.outcomes.append(outcome)
                    if outcome.status == "failed":
                        log.warning("feed %s failed: %s", feed.name, outcome.error)
                    if bar is not None:
                        bar.update(1)
    finally:
        if own_client:
            http.close()
    _finish(conn, run_id, summary)
    return summary


def _finish(conn: sqlite3.Connection, run_id: int, summary: IngestSummary) -> None:
    status = "failed" if summary.total_outage else "partial" if summary.fetches_failed else "ok"
    with transaction(conn):
        finish_run(conn, run_id, status=status,
                   feeds_ok=summary.feeds_ok, feeds_failed=summary.feeds_failed,
                   articles_new=summary.articles_new, summary=summary.as_dict())
