"""Archives that carry article text: items archives (*.items.jsonl) and feed items with the whole document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.ingest.fulltext_helpers import PARAGRAPHS
from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.ingest.archive import load_items_archive
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.fulltext import FEED_TEXT_MIN_CHARS, adopt_feed_text
from tracker.ingest.parse import ParsedFeed, normalize_entry
from tracker.ingest.runner import store_fetch
from tracker.ingest.store import upsert_feed
from tracker.pipeline import run_ingest

LONG = "\n\n".join(PARAGRAPHS * 2)


def _write(path: Path, items: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
    return path


def test_items_archive_text_becomes_full_text_and_loads_once(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "t.db")
    db = open_db(settings.db_path)
    # An article stored earlier from a live feed, without text: the archive's copy gives it one.
    from datetime import UTC, datetime
    feed_id = upsert_feed(db.conn, FeedConfig(name="wire", url="https://wire.example/rss"))
    entry = normalize_entry({"title": "Bank holds rates as inflation cools further", "id": "w1",
                             "link": "https://news.example/story-1?utm_source=x", "summary": "Short."},
                            datetime(2026, 3, 1, tzinfo=UTC), None)
    assert entry is not None
    store_fetch(db.conn, feed_id, None, ParsedFeed(status="ok", entries=[entry], items_seen=1), run_id=None,
                fetched_at=datetime(2026, 3, 1, tzinfo=UTC), settings=settings)
    archive = _write(tmp_path / "scraped.items.jsonl", [
        {"feed": "scraped", "guid": None, "title": "Bank holds rates as inflation cools further",
         "link": "https://news.example/story-1", "summary": LONG, "published_iso": "2026-03-01T09:00:00Z",
         "first_seen": "2026-03-01T09:30:00Z"},
        {"feed": "scraped", "guid": None, "title": "A second story with its whole text in the archive",
         "link": "https://news.example/story-2", "summary": LONG.replace("central", "national"),
         "published_iso": "2026-03-02T09:00:00Z"},
        {"feed": "scraped", "guid": None, "title": "A headline with a one-line summary only",
         "link": "https://news.example/story-3", "summary": "Just one line.", "published_iso": "2026-03-02T10:00:00Z"},
    ])
    (tmp_path / "broken.items.jsonl").write_text('{"title": "ok"}\nnot json\n', encoding="utf-8")
    summary = load_items_archive(db, settings, archive)
    rows = db.conn.execute(
        "SELECT a.id, f.name, a.title, a.summary, a.content_status, a.content_source, a.content_length, "
        "a.content_extractor, a.duplicate_of, a.day FROM articles a JOIN feeds f ON f.id = a.feed_id ORDER BY a.id"
    ).fetchall()
    assert summary.items == 3 and summary.new == 2 and summary.duplicates == 1
    assert summary.with_text == 2 and len(summary.article_ids) == 2
    by_title = {r[2]: r for r in rows if r[1] == "wire" or r[8] is None}
    live = by_title["Bank holds rates as inflation cools further"]
    assert live[1] == "wire" and live[4:6] == ("archive", "archive") and live[6] == len(LONG)
    assert live[7] == "archive:scraped.items.jsonl"
    second = by_title["A second story with its whole text in the archive"]
    assert second[4] == "archive" and second[9] == "2026-03-02"
    assert second[3] == PARAGRAPHS[0].replace("central", "national")  # the lead paragraph is the summary
    third = by_title["A headline with a one-line summary only"]
    assert third[4] is None and third[3] == "Just one line."
    # Loading the same file again does nothing; a broken file loads what it can.
    again = load_items_archive(db, settings, archive)
    assert again.skipped and db.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 4
    broken = load_items_archive(db, settings, tmp_path / "broken.items.jsonl")
    assert broken.bad_lines == 1 and broken.items == 1
    db.conn.close()


def test_reuters_scraped_archive_loads_its_lead_paragraphs(tmp_path: Path, shared_data: Path) -> None:
    path = shared_data / "reuters-wl" / "reuters_scraped.items.jsonl"
    if not path.is_file():
        pytest.skip("reuters_scraped not in the shared data")
    settings = Settings(db_path=tmp_path / "t.db")
    db = open_db(settings.db_path)
    summary = load_items_archive(db, settings, path)
    lines = sum(1 for _ in path.open(encoding="utf-8"))
    long_items = sum(len(json.loads(line).get("summary") or "") >= FEED_TEXT_MIN_CHARS
                     for line in path.open(encoding="utf-8"))
    stored = db.conn.execute("SELECT COUNT(*), SUM(content_status = 'archive') FROM articles").fetchone()
    assert summary.items == lines and stored[0] == summary.new + summary.duplicates
    # Every long item gave its text to an article (its own, or the one it repeats); a few
    # reach the threshold only with markup and runs of blanks that cleaning removes.
    assert long_items - 10 <= summary.with_text <= long_items and long_items > 1000
    assert stored[1] == len(summary.article_ids) >= summary.with_text - summary.duplicates
    db.conn.close()


def test_replayed_statements_keep_their_text_as_full_text(tmp_path: Path, shared_data: Path) -> None:
    folder = shared_data / "central-bank-statements" / "daily"
    if not folder.is_dir():
        pytest.skip("central-bank-statements not in the shared data")
    settings = Settings(db_path=tmp_path / "t.db")
    run_ingest(settings, from_dir=folder)
    db = open_db(settings.db_path)
    rows = db.conn.execute("SELECT content_status, content_source, length(summary), content_length "
                           "FROM articles").fetchall()
    assert len(rows) == 39
    assert all(r[0] == "feed" and r[1] == "feed" and r[3] >= FEED_TEXT_MIN_CHARS for r in rows)
    assert adopt_feed_text(db.conn) == set()  # idempotent
    db.conn.close()
