"""Load an items archive that carries article text (``*.items.jsonl``): its items, and their text as full text.

An items archive has one JSON object a line (``feed``, ``guid``, ``link``, ``title``,
``summary``, ``published_iso``, ``first_seen`` ...), the layout of every archive in
``../shared/data``. Where ``summary`` holds the article (scraped lead paragraphs, a whole
statement: at least :data:`~tracker.ingest.fulltext.FEED_TEXT_MIN_CHARS` characters) it is stored
as the article's full text with ``content_source = 'archive'``; the item itself is stored like
a replayed snapshot (one ``fetches`` row per feed and file, de-duplicated, in one
transaction), and an item that repeats a stored article gives that article its text.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from tracker.base.db import transaction
from tracker.base.errors import TrackerError
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.fulltext import FEED_TEXT_MIN_CHARS, TEXT_STATUSES, set_article_text
from tracker.ingest.normalize import body_hash, iso_utc
from tracker.ingest.parse import Entry, ParsedFeed, normalize_entry
from tracker.ingest.runner import store_fetch
from tracker.ingest.store import finish_run, start_run, upsert_feed

#: The lead kept as the summary when the item's text becomes the full text.
LEAD_CHARS = 600


@dataclass
class ArchiveSummary:
    """What loading one items archive did."""

    items: int = 0
    new: int = 0
    duplicates: int = 0
    with_text: int = 0
    skipped: bool = False
    bad_lines: int = 0
    #: Articles that received text from the archive (enrichment redoes them).
    article_ids: set[int] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for JSON output."""
        return {"items": self.items, "new": self.new, "duplicates": self.duplicates,
                "text_stored": len(self.article_ids), "items_with_text": self.with_text,
                "skipped": self.skipped, "bad_lines": self.bad_lines}


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def item_entry(item: dict[str, Any], fallback: datetime) -> tuple[Entry | None, datetime]:
    """One archive item -> (normalised entry with its text as content, the time it was seen)."""
    published = _when(item.get("published_iso"))
    seen = _when(item.get("first_seen")) or published or fallback
    raw: dict[str, Any] = {
        "title": item.get("title") or "",
        "link": item.get("link") or "",
        "id": item.get("guid"),
        "summary": item.get("summary") or "",
        "author": item.get("author") or "",
    }
    if published is not None:
        raw["published"] = item.get("published") or iso_utc(published)
        raw["published_parsed"] = published.astimezone(UTC).timetuple()
    entry = normalize_entry(raw, seen, None)
    if entry is not None and len(entry.summary) >= FEED_TEXT_MIN_CHARS:
        entry.content_text = entry.summary
        lead = re.split(r"\n+", entry.summary, maxsplit=1)[0]
        entry.summary = lead[:LEAD_CHARS]
    return entry, seen


def _feed_name(raw: Any, path: Path) -> str:
    base = raw if isinstance(raw, str) and raw else path.name.split(".")[0]
    return re.sub(r"[^a-z0-9_\-]+", "_", base.lower()).strip("_") or "archive"


def load_items_archive(db: sqlite_utils.Database, settings: Settings, path: Path) -> ArchiveSummary:
    """Store an items archive's items and their text; a file already loaded unchanged is skipped."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise TrackerError(f"cannot read {path}: {exc}. Fix: pass an existing *.items.jsonl file") from exc
    conn = db.conn
    summary = ArchiveSummary()
    snapshot, digest = str(path.resolve()), body_hash(raw_bytes)
    if conn.execute("SELECT 1 FROM fetches WHERE snapshot_path = ? AND body_hash = ? LIMIT 1",
                    (snapshot, digest)).fetchone():
        summary.skipped = True
        return summary
    groups: dict[str, list[tuple[Entry, datetime]]] = {}
    now = datetime.now(UTC)
    for line in raw_bytes.decode("utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            summary.bad_lines += 1
            continue
        if not isinstance(item, dict):
            summary.bad_lines += 1
            continue
        summary.items += 1
        entry, seen = item_entry(item, now)
        if entry is not None:
            groups.setdefault(_feed_name(item.get("feed"), path), []).append((entry, seen))
    if not groups:
        raise TrackerError(f"{path}: no items found. Fix: pass an items archive (one JSON object a line "
                           "with title, link, summary)")
    with transaction(conn):
        run_id = start_run(conn, f"archive {path}")
    started = time.time()
    with transaction(conn):
        for name, pairs in sorted(groups.items()):
            row = conn.execute("SELECT id FROM feeds WHERE name = ?", (name,)).fetchone()
            feed_id = int(row[0]) if row else upsert_feed(conn, FeedConfig(name=name, url=path.resolve().as_uri()))
            entries = [e for e, _ in pairs]
            parsed = ParsedFeed(status="ok", entries=entries, items_seen=len(entries))
            outcome = store_fetch(conn, feed_id, None, parsed, run_id=run_id, fetched_at=max(s for _, s in pairs),
                                  settings=settings, source="archive", snapshot_path=snapshot, raw_hash=digest,
                                  nbytes=len(raw_bytes))
            summary.new += outcome.items_new
            summary.duplicates += outcome.items_duplicate
            for entry, seen in pairs:
                if not entry.content_text:
                    continue
                summary.with_text += 1
                found = conn.execute(
                    "SELECT a.id, a.duplicate_of FROM articles a WHERE a.feed_id = ? AND a.item_key = ?",
                    (feed_id, entry.item_key)).fetchone()
                if found is None:
                    continue
                target = int(found[1] or found[0])
                status = conn.execute("SELECT content_status FROM articles WHERE id = ?", (target,)).fetchone()[0]
                if status in TEXT_STATUSES:
                    continue
                set_article_text(conn, target, entry.content_text, status="archive", source="archive",
                                 extractor=f"archive:{path.name}", fetched_at=iso_utc(seen))
                summary.article_ids.add(target)
    with transaction(conn):
        finish_run(conn, run_id, status="ok", feeds_ok=len(groups), feeds_failed=0, articles_new=summary.new,
                   summary={**summary.as_dict(), "seconds": round(time.time() - started, 2)})
    return summary
