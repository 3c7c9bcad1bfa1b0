"""Replay (backfill) of archived snapshots: every distinct item once, re-runs add nothing."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
import sqlite_utils

from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.ingest.replay import replay_dir, snapshot_files

FEEDS = ("ft_home", "wsj_economy", "economist_finance")


def subset(daily: Path, days: int = 25) -> list[tuple[str, Path]]:
    files = [(name, path) for name, path in snapshot_files(daily) if name in FEEDS]
    by_feed: dict[str, list[tuple[str, Path]]] = {}
    for name, path in files:
        by_feed.setdefault(name, []).append((name, path))
    return [item for items in by_feed.values() for item in items[:days]]


def bare_distinct(files: list[tuple[str, Path]]) -> set[tuple[str, str]]:
    """What feedparser alone finds: distinct (feed, guid-or-link) pairs."""
    found = set()
    for name, path in files:
        for entry in feedparser.parse(path.read_bytes()).entries:
            found.add((name, entry.get("id") or entry.get("link")))
    return found


def dump(db: sqlite_utils.Database) -> list[tuple]:
    return db.execute(
        "SELECT f.name, a.item_key, a.title, a.canonical_url, a.published_at, a.day, a.fetched_at, "
        "a.content_hash, a.duplicate_of FROM articles a JOIN feeds f ON f.id = a.feed_id ORDER BY a.id"
    ).fetchall()


def test_replay_stores_each_distinct_item_once_and_rerun_adds_nothing(
    tmp_path: Path, shared_data: Path
) -> None:
    daily = shared_data / "orx365-rss-arch" / "daily"
    files = subset(daily)
    db = open_db(tmp_path / "replay.db")
    first = replay_dir(db, Settings(), daily, files=files)
    assert first.feeds_failed == 0 and len(first.outcomes) == len(files)
    stored = {(name, key) for name, key, *_ in dump(db)}
    assert stored == bare_distinct(files)
    assert first.articles_new + first.duplicates == len(stored)

    before_articles, before_fetches = dump(db), db["fetches"].count
    second = replay_dir(db, Settings(), daily, files=files)
    assert second.articles_new == 0 and second.skipped == len(files) and not second.outcomes
    assert dump(db) == before_articles and db["fetches"].count == before_fetches


def test_replayed_items_are_dated_by_their_snapshot_day(tmp_path: Path, shared_data: Path) -> None:
    daily = shared_data / "orx365-rss-arch" / "daily"
    files = subset(daily, days=3)
    db = open_db(tmp_path / "replay.db")
    replay_dir(db, Settings(), daily, files=files)
    days = {path.stem for _, path in files}
    fetched_days = {row[0][:10] for row in db.execute("SELECT DISTINCT fetched_at FROM articles")}
    assert fetched_days <= days
    # Archive links (archive.is/newest/https://www.ft.com/...) are unwrapped to the publisher's URL.
    urls = [row[0] for row in db.execute("SELECT canonical_url FROM articles WHERE canonical_url LIKE '%ft.com%'")]
    assert urls and all(u.startswith("https://www.ft.com/") for u in urls)
    # A publish date is trusted only if it is not after the snapshot (plus a day of clock skew).
    assert db.execute("SELECT COUNT(*) FROM articles WHERE published_at > fetched_at").fetchone()[0] == 0 or all(
        row[0] <= row[1][:10] + "T23:59:59Z" for row in db.execute("SELECT published_at, fetched_at FROM articles"))


def test_replay_of_a_missing_folder_says_how_to_fix(tmp_path: Path) -> None:
    from tracker.base.errors import TrackerError

    db = open_db(":memory:")
    with pytest.raises(TrackerError, match="--from-dir"):
        replay_dir(db, Settings(), tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrackerError, match="no snapshot files"):
        replay_dir(db, Settings(), tmp_path / "empty")


def test_replay_into_a_known_feed_keeps_its_url(tmp_path: Path, shared_data: Path) -> None:
    from tracker.base.db import transaction
    from tracker.ingest.feeds import FeedConfig
    from tracker.ingest.store import upsert_feed

    daily = shared_data / "orx365-rss-arch" / "daily"
    db = open_db(tmp_path / "replay.db")
    with transaction(db.conn):
        upsert_feed(db.conn, FeedConfig(name="ft_home", url="https://www.ft.com/rss/home"))
    replay_dir(db, Settings(), daily, files=subset(daily, days=2))
    urls = dict(db.execute("SELECT name, url FROM feeds").fetchall())
    assert urls["ft_home"] == "https://www.ft.com/rss/home"
    assert urls["wsj_economy"] == (daily / "wsj_economy").resolve().as_uri()


def _snapshot(path: Path, guid: str) -> None:
    from tests.feedserver import rss

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(rss([{"guid": guid, "title": f"Replayed story {guid} about rates", "link": f"http://r.example/{guid}",
                           "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"}]))


def test_folders_that_normalise_to_one_feed_are_not_merged(db: sqlite_utils.Database, tmp_path: Path) -> None:
    from tracker.base.errors import TrackerError

    _snapshot(tmp_path / "daily" / "FT Home" / "2026-11-02.xml", "a")
    _snapshot(tmp_path / "daily" / "ft_home" / "2026-11-02.xml", "b")
    with pytest.raises(TrackerError, match=r"would both replay into the feed 'ft_home'.*Fix: rename one"):
        replay_dir(db, Settings(db_path=Path("unused.db")), tmp_path / "daily")
    assert db["articles"].count == 0 and db["fetches"].count == 0 and db["runs"].count == 0


def test_only_json_feeds_are_replayed_not_other_json(db: sqlite_utils.Database, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    _snapshot(root / "daily" / "wire" / "2026-11-02.xml", "x1")
    (root / "stats.json").write_text('{"feeds": 1, "items": 10}')
    (root / "daily" / "wire" / "notes.json").write_text("[1, 2, 3]")
    (root / "daily" / "wire" / "broken.json").write_text("{not json")
    (root / "daily" / "jf").mkdir()
    (root / "daily" / "jf" / "2026-11-02.json").write_text(
        '{"version": "https://jsonfeed.org/version/1.1", "title": "JF", "items": [{"id": "j1", '
        '"url": "https://jf.example/1", "title": "A JSON Feed item on stablecoins", '
        '"date_published": "2026-11-02T10:00:00Z", "content_text": "Body."}]}')
    assert [(name, p.name) for name, p in snapshot_files(root)] == [
        ("daily_jf", "2026-11-02.json"), ("daily_wire", "2026-11-02.xml")]
    summary = replay_dir(db, Settings(db_path=Path("unused.db")), root)
    # feedparser 6.0 cannot read JSON Feed: the one real feed fails with that reason; stats.json is not a feed.
    assert (summary.feeds, summary.fetches_failed, summary.articles_new) == (2, 1, 1)
    assert summary.as_dict()["failures"][0]["error"].startswith("a JSON Feed")
