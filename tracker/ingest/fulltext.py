"""Full text after ingest: fetch each new article page of the feeds that allow it and store its main text.

Politeness (README "Full text"): robots.txt honoured and cached, one request at a time per
host with a minimum delay (a longer robots.txt Crawl-delay wins), a User-Agent with a
contact URL, conditional GET on refetches, size and time limits, Retry-After honoured (a
short one is waited out, a long one defers the host to a later run), no JavaScript.

Every attempt is a ``page_fetches`` row; the article keeps the outcome in
``content_status`` (``ok``, ``feed``, ``archive`` carry text in ``content_text``;
``paywall``, ``consent``, ``empty``, ``robots``, ``not_html``, ``too_large``, ``gone``,
``forbidden``, ``bad_url``, ``failed`` do not; ``retry`` is tried again on a later run).
Worker threads only talk to the network; the calling thread does every database write,
one transaction per page.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import click
import httpx
import sqlite_utils

from tracker.base.db import transaction, utcnow
from tracker.base.settings import Settings
from tracker.ingest.extract import Extraction, extract_page, extractor_version
from tracker.ingest.pagefetch import (
    BACKOFF_STATUSES,
    HostGate,
    PageResult,
    fetch_page,
    host_of,
    make_page_client,
)
from tracker.ingest.robots import RobotsCache
from tracker.ingest.store import finish_run, start_run

log = logging.getLogger(__name__)

#: A feed item whose own text (``content:encoded``, or a description) is this long carries the
#: article: it is kept as the full text (``content_source = 'feed'``) and its page is not fetched.
FEED_TEXT_MIN_CHARS = 1000
#: Statuses whose article has its main text in ``content_text``.
TEXT_STATUSES = ("ok", "feed", "archive")
#: Statuses a later run tries again (until ``fulltext_max_attempts``).
RETRY_STATUS = "retry"
#: Statuses ``--retry`` tries again although they looked final.
FINAL_STATUSES = ("paywall", "consent", "empty", "robots", "not_html", "too_large", "gone", "forbidden",
                  "bad_url", "failed")
#: Seconds a host is left alone after a 429/503 that named no Retry-After.
DEFAULT_BACKOFF = 600.0


@dataclass
class Candidate:
    """An article whose page is to be fetched."""

    article_id: int
    url: str
    attempts: int = 0
    etag: str | None = None
    last_modified: str | None = None

    @property
    def host(self) -> str:
        """The host whose turn this page waits for."""
        return host_of(self.url)


@dataclass
class FulltextSummary:
    """What one full-text pass did."""

    run_id: int | None = None
    candidates: int = 0
    fetched: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    deferred: int = 0
    deferred_hosts: list[str] = field(default_factory=list)
    feed_text: int = 0
    #: Articles that received text now (page, feed or archive), so enrichment can redo them.
    article_ids: set[int] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def stored(self) -> int:
        """Pages whose main text was stored."""
        return self.statuses.get("ok", 0)

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for JSON output and the runs table."""
        return {"candidates": self.candidates, "fetched": self.fetched, "stored": self.stored,
                "statuses": dict(sorted(self.statuses.items())), "deferred": self.deferred,
                "deferred_hosts": self.deferred_hosts, "feed_text": self.feed_text,
                "seconds": round(self.seconds, 2)}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def set_article_text(conn: sqlite3.Connection, article_id: int, text: str, *, status: str, source: str,
                     extractor: str, fetched_at: str | None = None) -> None:
    """Store an article's main text with its status, length, hash and extractor version."""
    conn.execute(
        "UPDATE articles SET content_text = ?, content_status = ?, content_source = ?, content_length = ?, "
        "content_sha256 = ?, content_extractor = ?, content_fetched_at = ? WHERE id = ?",
        (text, status, source, len(text), _sha256(text), extractor, fetched_at or utcnow(), article_id))


def adopt_feed_text(conn: sqlite3.Connection, *, run_id: int | None = None,
                    min_chars: int = FEED_TEXT_MIN_CHARS) -> set[int]:
    """Mark articles whose feed item carried the whole text (``feed``), so their pages are not fetched.

    The item's ``content:encoded`` when long enough, else a long description (archives of
    scraped statements carry the document there). ``run_id`` limits it to one ingest run.
    """
    where = "a.content_status IS NULL AND (length(a.content_text) >= ? OR length(a.summary) >= ?)"
    params: list[Any] = [min_chars, min_chars]
    if run_id is not None:
        where += " AND a.fetch_id IN (SELECT id FROM fetches WHERE run_id = ?)"
        params.append(run_id)
    rows = conn.execute(f"SELECT a.id, a.content_text, a.summary, a.fetched_at FROM articles a WHERE {where}",
                        params).fetchall()
    done: set[int] = set()
    with transaction(conn):
        for article_id, content, summary, fetched_at in rows:
            text = content if content and len(content) >= min_chars else summary
            set_article_text(conn, article_id, text, status="feed", source="feed", extractor="feed",
                             fetched_at=fetched_at)
            done.add(int(article_id))
    return done


def select_candidates(
    conn: sqlite3.Connection,
    feed_names: Iterable[str],
    settings: Settings,
    *,
    since: str | None = None,
    retry: bool = False,
    limit: int | None = None,
) -> list[Candidate]:
    """Articles of these feeds that have a link and no text yet (newest first), with their past attempts."""
    names = sorted(set(feed_names))
    if not names:
        return []
    statuses = [RETRY_STATUS, *(FINAL_STATUSES if retry else ())]
    marks = ",".join("?" * len(names))
    smarks = ",".join("?" * len(statuses))
    sql = (
        "SELECT a.id, COALESCE(a.canonical_url, a.url), "
        " (SELECT COUNT(*) FROM page_fetches p WHERE p.article_id = a.id) AS attempts "
        "FROM articles a JOIN feeds f ON f.id = a.feed_id "
        f"WHERE f.name IN ({marks}) AND a.duplicate_of IS NULL "
        " AND COALESCE(a.canonical_url, a.url) IS NOT NULL "
        f" AND (a.content_status IS NULL OR a.content_status IN ({smarks}))"
    )
    params: list[Any] = [*names, *statuses]
    if since is not None:
        sql += " AND a.fetched_at >= ?"
        params.append(since)
    sql += " ORDER BY a.id DESC"
    out: list[Candidate] = []
    for article_id, url, attempts in conn.execute(sql, params):
        if not retry and attempts >= settings.fulltext_max_attempts:
            continue
        out.append(Candidate(int(article_id), str(url), int(attempts)))
        if limit is not None and len(out) >= limit:
            break
    for cand in out:
        if cand.attempts:
            row = conn.execute("SELECT etag, last_modified FROM page_fetches WHERE article_id = ? "
                               "AND (etag IS NOT NULL OR last_modified IS NOT NULL) ORDER BY id DESC LIMIT 1",
                               (cand.article_id,)).fetchone()
            if row:
                cand.etag, cand.last_modified = row
    return out


def outcome_status(page: PageResult, extraction: Extraction | None) -> str:
    """The article's ``content_status`` after this attempt (``not_modified``: unchanged)."""
    if page.ok:
        return extraction.status if extraction is not None else "empty"
    if page.error_kind == "robots_unreachable":
        return RETRY_STATUS
    if page.status in ("not_modified", "robots"):
        return page.status
    kind = page.error_kind
    if kind in ("not_html", "too_large", "bad_url"):
        return kind
    if kind == "http_status" and page.http_status is not None:
        if page.http_status in (404, 410):
            return "gone"
        if page.http_status in (401, 402, 403):
            return "forbidden"
        if page.http_status in BACKOFF_STATUSES or page.http_status >= 500:
            return RETRY_STATUS
        return "failed"
    if kind == "too_many_redirects":
        return "failed"
    return RETRY_STATUS  # timeouts, resets, decoding trouble: the network's fault, try again later


def _ts(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def save_page_result(conn: sqlite3.Connection, cand: Candidate, page: PageResult, extraction: Extraction | None,
                     *, run_id: int | None, settings: Settings) -> str:
    """Record one attempt and update the article (inside the caller's transaction); return its status."""
    status = outcome_status(page, extraction)
    if status == RETRY_STATUS and cand.attempts + 1 >= settings.fulltext_max_attempts:
        status = "failed"
    reason = page.error or (extraction.reason if extraction is not None else None)
    conn.execute(
        "INSERT INTO page_fetches (article_id, run_id, url, final_url, started_at, finished_at, status, "
        "http_status, content_type, bytes, etag, last_modified, retry_after, error_kind, error) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (cand.article_id, run_id, cand.url, page.final_url, _ts(page.started_at), _ts(page.finished_at), status,
         page.http_status, (page.content_type or "")[:200] or None, len(page.body) if page.ok else None,
         page.etag, page.last_modified, page.retry_after, page.error_kind, (reason or "")[:1000] or None))
    fetched_at = _ts(page.finished_at)
    if status == "ok" and extraction is not None:
        set_article_text(conn, cand.article_id, extraction.text, status="ok", source="page",
                         extractor=extractor_version(), fetched_at=fetched_at)
    elif status != "not_modified":
        conn.execute("UPDATE articles SET content_status = ?, content_fetched_at = ? WHERE id = ?",
                     (status, fetched_at, cand.article_id))
    return status


def _load_backoff(conn: sqlite3.Connection) -> dict[str, str]:
    now = utcnow()
    return {host: until for host, until in conn.execute(
        "SELECT host, not_before FROM host_backoff WHERE not_before > ?", (now,))}


_DONE = object()


def fetch_fulltext(
    db: sqlite_utils.Database,
    settings: Settings,
    feed_names: Iterable[str],
    *,
    backfill: bool = False,
    retry: bool = False,
    limit: int | None = None,
    client: httpx.Client | None = None,
    progress: bool = False,
) -> FulltextSummary:
    """Fetch and store the main text of these feeds' articles that lack it (new ones, or all with ``backfill``)."""
    conn = db.conn
    started = time.perf_counter()
    since = None if backfill else _iso_days_ago(settings.fulltext_new_days)
    cands = select_candidates(conn, feed_names, settings, since=since, retry=retry, limit=limit)
    summary = FulltextSummary(candidates=len(cands))
    if not cands:
        return summary  # a night with nothing to fetch writes nothing
    with transaction(conn):
        run_id = start_run(conn, "fulltext --backfill" if backfill else "fulltext")
    summary.run_id = run_id
    backoff = _load_backoff(conn)
    by_host: dict[str, list[Candidate]] = {}
    for cand in cands:
        if cand.host in backoff:
            summary.deferred += 1
            continue
        by_host.setdefault(cand.host, []).append(cand)
    summary.deferred_hosts = sorted({c.host for c in cands if c.host in backoff})
    own_client = client is None
    http = client or make_page_client(settings)
    gate = HostGate(settings.fulltext_min_delay)
    robots = RobotsCache(http, settings, gate)
    robots.load(conn)
    results: queue.Queue[Any] = queue.Queue()
    new_backoff: dict[str, tuple[float, str]] = {}
    unreachable_hosts: set[str] = set()
    backoff_lock = threading.Lock()

    def work(host: str, todo: list[Candidate]) -> None:
        try:
            for index, cand in enumerate(todo):
                page = _fetch_with_retry_after(http, cand, settings, gate, robots)
                wait = page.retry_after if page.retry_after is not None else DEFAULT_BACKOFF
                unreachable = page.error_kind == "robots_unreachable"
                if unreachable or (page.http_status in BACKOFF_STATUSES and wait > settings.fulltext_max_wait):
                    # The host cannot be asked now: record this attempt, leave its other pages for later.
                    if not unreachable:
                        with backoff_lock:
                            new_backoff[host] = (time.time() + wait, page.error or "")
                    else:
                        with backoff_lock:
                            unreachable_hosts.add(host)
                    results.put((cand, page, None))
                    for skipped in todo[index + 1:]:
                        results.put((skipped, None, None))
                    return
                extraction = extract_page(page.body, url=page.final_url, content_type=page.content_type) \
                    if page.ok else None
                results.put((cand, page, extraction))
        except Exception:  # a bug must not hang the run: report it and let the other hosts finish
            log.exception("full-text worker for %s failed", host)
        finally:
            results.put(_DONE)

    bar: Any = click.progressbar(length=len(cands) - summary.deferred, label="Fetching pages",
                                 file=sys.stderr) if progress and cands else None
    try:
        with ThreadPoolExecutor(max_workers=max(1, settings.fulltext_parallel_hosts)) as pool:
            for host, todo in by_host.items():
                pool.submit(work, host, todo)
            running = len(by_host)
            while running:
                item = results.get()
                if item is _DONE:
                    running -= 1
                    continue
                cand, page, extraction = item
                if bar is not None:
                    bar.update(1)
                if page is None:
                    summary.deferred += 1
                    continue
                with transaction(conn):
                    status = save_page_result(conn, cand, page, extraction, run_id=run_id, settings=settings)
                summary.fetched += 1
                summary.statuses[status] += 1
                if status == "ok":
                    summary.article_ids.add(cand.article_id)
    finally:
        if bar is not None:
            bar.render_finish()
        if own_client:
            http.close()
        with transaction(conn):
            robots.save(conn)
            for host, (until, reason) in new_backoff.items():
                conn.execute("INSERT INTO host_backoff (host, not_before, reason) VALUES (?, ?, ?) "
                             "ON CONFLICT(host) DO UPDATE SET not_before = excluded.not_before, "
                             "reason = excluded.reason", (host, _ts(until), reason[:300]))
        summary.deferred_hosts = sorted(set(summary.deferred_hosts) | set(new_backoff) | unreachable_hosts)
        summary.seconds = time.perf_counter() - started
        with transaction(conn):
            finish_run(conn, run_id, status="ok", feeds_ok=0, feeds_failed=0, articles_new=summary.stored,
                       summary=summary.as_dict())
    return summary


def _fetch_with_retry_after(client: httpx.Client, cand: Candidate, settings: Settings, gate: HostGate,
                            robots: RobotsCache) -> PageResult:
    """Fetch a page; after a 429/503 whose Retry-After is short enough, hold the host that long and try once more."""
    page = fetch_page(client, cand.url, settings, gate, allowed=robots.allowed, etag=cand.etag,
                      last_modified=cand.last_modified)
    if page.http_status in BACKOFF_STATUSES and page.retry_after is not None \
            and page.retry_after <= settings.fulltext_max_wait:
        gate.hold(host_of(page.final_url or cand.url), page.retry_after)
        page = fetch_page(client, cand.url, settings, gate, allowed=robots.allowed, etag=cand.etag,
                          last_modified=cand.last_modified)
    return page


def _iso_days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
