"""Write ingest results to SQLite: feeds, runs, fetches and de-duplicated articles.

Callers wrap each feed's writes in :func:`tracker.base.db.transaction` so a crash leaves
either the whole fetch or none of it.

Rows written once or twice a run (``runs``) go through sqlite-utils. Rows written per
fetch and per article stay plain parameterised SQL, a measured need: a sqlite-utils
``insert`` costs about 0.5 ms more per row than the statement it builds (12x for a fetch
row, 2.7x for an article row, which dedupe must store one at a time; measured by
``bench/bench_ingest.py``), which would add seconds to the 22 s replay of the orx365
archive and double the no-op nightly run of 100 feeds.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlite_utils
from sqlite_utils.db import Table

from tracker.base.db import utcnow
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.normalize import identifies_article
from tracker.ingest.parse import Entry

#: Titles shorter than this are too generic ("Markets live") to prove two items are one story.
MIN_TITLE_WORDS_FOR_DEDUPE = 4
#: Title plus text shorter than this ("What to know about the report.") is too generic for
#: the content rule, and a text shorter than this too generic to prove a shared link is one story.
MIN_CONTENT_WORDS_FOR_DEDUPE = 10
#: How many earlier items sharing a page link are compared by text (a newsroom page can be the
#: link of thousands of items; true copies of a story sit among the first few).
URL_CANDIDATES = 50

@dataclass
class SaveStats:
    """What saving one fetch's entries did."""

    seen: int = 0
    new: int = 0
    duplicates: int = 0
    already_stored: int = 0


def upsert_feed(conn: sqlite3.Connection, feed: FeedConfig) -> int:
    """Insert or update a feed by name and return its id."""
    row = conn.execute("SELECT id FROM feeds WHERE name = ?", (feed.name,)).fetchone()
    tags = json.dumps(list(feed.tags))
    if row:
        conn.execute(
            "UPDATE feeds SET url = ?, title = COALESCE(?, title), tags = ?, enabled = ?, poll_minutes = ? "
            "WHERE id = ?",
            (feed.url, feed.title, tags, int(feed.enabled), feed.poll_minutes, row[0]),
        )
        return int(row[0])
    cur = conn.execute(
        "INSERT INTO feeds (name, title, url, tags, enabled, poll_minutes, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (feed.name, feed.title, feed.url, tags, int(feed.enabled), feed.poll_minutes, utcnow()),
    )
    return int(cur.lastrowid or 0)


def feed_state(conn: sqlite3.Connection, feed_id: int) -> dict[str, Any]:
    """The conditional-GET validators and last body hash stored for a feed."""
    row = conn.execute(
        "SELECT etag, last_modified, body_hash FROM feeds WHERE id = ?", (feed_id,)
    ).fetchone()
    return {"etag": row[0], "last_modified": row[1], "body_hash": row[2]} if row else {}


def _runs(conn: sqlite3.Connection) -> Table:
    return sqlite_utils.Database(conn).table("runs")


def start_run(conn: sqlite3.Connection, command: str) -> int:
    """Record the start of a run and return its id."""
    return int(_runs(conn).insert({"command": command, "started_at": utcnow()}).last_pk or 0)


def abort_unfinished_runs(conn: sqlite3.Connection) -> list[int]:
    """Mark runs that a killed process left unfinished as ``aborted``; return their ids.

    Call only while holding the write lock: then no other process can be running one.
    A run's end is taken as its last fetch's end (else its start), and its counts from
    the fetches it completed.
    """
    aborted = [int(row[0]) for row in conn.execute("SELECT id FROM runs WHERE finished_at IS NULL ORDER BY id")]
    for run_id in aborted:
        feeds, failed, fetches, new, last = conn.execute(
            "SELECT COUNT(DISTINCT feed_id), COUNT(DISTINCT CASE WHEN status = 'failed' THEN feed_id END), "
            "COUNT(*), COALESCE(SUM(items_new), 0), MAX(finished_at) FROM fetches WHERE run_id = ?",
            (run_id,)).fetchone()
        summary = {"aborted": True, "noticed_at": utcnow(), "fetches_done": fetches,
                   "note": "the process stopped (killed or crashed) before the run finished; "
                           "every fetch it recorded is complete"}
        started = conn.execute("SELECT started_at FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
        _runs(conn).update(run_id, {"status": "aborted", "finished_at": last or started, "feeds_ok": feeds - failed,
                                    "feeds_failed": failed, "articles_new": new, "summary": json.dumps(summary)})
    return aborted


def finish_run(conn: sqlite3.Connection, run_id: int, *, status: str, feeds_ok: int,
               feeds_failed: int, articles_new: int, summary: dict[str, Any]) -> None:
    """Record how a run ended."""
    _runs(conn).update(run_id, {"finished_at": utcnow(), "status": status, "feeds_ok": feeds_ok,
                                "feeds_failed": feeds_failed, "articles_new": articles_new,
                                "summary": json.dumps(summary)})


def record_fetch(conn: sqlite3.Connection, **fields: Any) -> int:
    """Insert one ``fetches`` row from keyword fields and return its id."""
    columns = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    cur = conn.execute(f"INSERT INTO fetches ({columns}) VALUES ({marks})", tuple(fields.values()))
    return int(cur.lastrowid or 0)


def update_fetch(conn: sqlite3.Connection, fetch_id: int, **fields: Any) -> None:
    """Set fields on a ``fetches`` row."""
    sets = ", ".join(f"{k} = ?" for k in fields)
    conn.execute(f"UPDATE fetches SET {sets} WHERE id = ?", (*fields.values(), fetch_id))


def update_feed_state(conn: sqlite3.Connection, feed_id: int, **fields: Any) -> None:
    """Set validators and timestamps on a feed row (None values are skipped)."""
    fields = {k: v for k, v in fields.items() if v is not None}
    if fields:
        sets = ", ".join(f"{k} = ?" for k in fields)
        conn.execute(f"UPDATE feeds SET {sets} WHERE id = ?", (*fields.values(), feed_id))


def _shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def body_key(content_text: str | None, summary: str | None) -> str:
    """An item's text (full text, else summary) normalised for comparison: case and spacing folded."""
    return " ".join((content_text or summary or "").casefold().split())


def find_duplicate(
    conn: sqlite3.Connection, feed_id: int, entry: Entry, window_days: int, content_window_days: int = 7
) -> tuple[int, str] | None:
    """The stored article this entry repeats, and why; None for a new story.

    - ``url``: the same canonical URL, when that URL names an article (an id, a date or a
      slug: :func:`~tracker.ingest.normalize.identifies_article`), whatever the title now
      says (publishers retitle and translate); when it is a page many items share (a home,
      section or newsroom page), only with the same story there: the same title and text,
      the same title (at least four words) or the same text (at least ten words).
    - ``content``: same normalised title and text, at least ten words in all, within
      ``content_window_days`` (a weekly column keeps its title and stock text for months).
    - ``title_same_source`` / ``title_cross_source``: the same title of at least four words
      within ``window_days``, in the same feed or another one.
    """
    body = body_key(entry.content_text, entry.summary)
    title_words = len(entry.title_key.split()) if entry.title_key else 0
    if entry.canonical_url:
        article = identifies_article(entry.canonical_url)
        for art_id, root, chash, tkey, content_text, summary in conn.execute(
                "SELECT id, duplicate_of, content_hash, title_key, content_text, summary FROM articles "
                "WHERE canonical_url = ? ORDER BY id LIMIT ?", (entry.canonical_url, 1 if article else URL_CANDIDATES)):
            if (article or chash == entry.content_hash
                    or (title_words >= MIN_TITLE_WORDS_FOR_DEDUPE and tkey == entry.title_key)
                    or (len(body.split()) >= MIN_CONTENT_WORDS_FOR_DEDUPE and body_key(content_text, summary) == body)):
                return int(root or art_id), "url"
    checks: list[tuple[str, str, tuple[Any, ...]]] = []
    if title_words + len(body.split()) >= MIN_CONTENT_WORDS_FOR_DEDUPE:
        checks.append(("content", "content_hash = ? AND day BETWEEN ? AND ?",
                       (entry.content_hash, _shift(entry.day, -content_window_days),
                        _shift(entry.day, content_window_days))))
    if entry.title_key and title_words >= MIN_TITLE_WORDS_FOR_DEDUPE:
        window = (entry.title_key, _shift(entry.day, -window_days), _shift(entry.day, window_days))
        checks.append(("title_same_source", "title_key = ? AND day BETWEEN ? AND ? AND feed_id = ?",
                       (*window, feed_id)))
        checks.append(("title_cross_source", "title_key = ? AND day BETWEEN ? AND ? AND feed_id != ?",
                       (*window, feed_id)))
    for reason, where, params in checks:
        row = conn.execute(
            f"SELECT id, duplicate_of FROM articles WHERE {where} ORDER BY id LIMIT 1", params
        ).fetchone()
        if row:
            return int(row[1] or row[0]), reason
    return None


def save_entries(
    conn: sqlite3.Connection,
    feed_id: int,
    fetch_id: int | None,
    entries: list[Entry],
    fetched_at: str,
    *,
    window_days: int = 3,
    content_window_days: int = 7,
) -> SaveStats:
    """Store entries not seen before; repeats of a stored story are kept but point at it."""
    stats = SaveStats(seen=len(entries))
    for entry in entries:
        exists = conn.execute(
            "SELECT 1 FROM articles WHERE feed_id = ? AND item_key = ?", (feed_id, entry.item_key)
        ).fetchone()
        if exists:
            stats.already_stored += 1
            continue
        duplicate = find_duplicate(conn, feed_id, entry, window_days, content_window_days)
        conn.execute(
            "INSERT INTO articles (feed_id, fetch_id, guid, item_key, url, canonical_url, title, "
            "summary, content_text, author, published_at, published_raw, date_flag, day, fetched_at, "
            "content_hash, title_key, language, duplicate_of, duplicate_reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                feed_id, fetch_id, entry.guid, entry.item_key, entry.url, entry.canonical_url,
                entry.title, entry.summary, entry.content_text, entry.author, entry.published_at,
                entry.published_raw, entry.date_flag, entry.day, fetched_at, entry.content_hash,
                entry.title_key, entry.language,
                duplicate[0] if duplicate else None, duplicate[1] if duplicate else None,
            ),
        )
        if duplicate:
            stats.duplicates += 1
        else:
            stats.new += 1
    return stats
