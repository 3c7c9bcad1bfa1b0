"""Storing entries: de-duplication, idempotence and one transaction per feed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from tests.feedserver import rss
from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.ingest import store
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.parse import parse_feed
from tracker.ingest.runner import ingest_feeds

FETCHED = datetime(2026, 11, 20, 12, tzinfo=UTC)


def items(*specs: tuple[str, str, str, str]) -> bytes:
    return rss([{"guid": g, "title": t, "link": link, "pubDate": d, "description": f"About {t}."}
                for g, t, link, d in specs])


def save(db: sqlite_utils.Database, feed: str, body: bytes) -> store.SaveStats:
    conn = db.conn
    with transaction(conn):
        feed_id = store.upsert_feed(conn, FeedConfig(name=feed, url=f"http://{feed}.example/rss"))
        parsed = parse_feed(body, FETCHED)
        return store.save_entries(conn, feed_id, None, parsed.entries, "2026-11-20T12:00:00Z")


def test_republished_item_with_new_guid_points_at_the_first(db: sqlite_utils.Database) -> None:
    save(db, "wire", items(("g1", "Exchange prices its IPO at top of range", "http://wire/a",
                            "Wed, 04 Nov 2026 10:00:00 GMT")))
    stats = save(db, "wire", items(("g2", "Exchange prices its IPO at top of range", "http://wire/a-update",
                                    "Thu, 05 Nov 2026 09:00:00 GMT")))
    assert (stats.new, stats.duplicates) == (0, 1)
    first, second = db.execute("SELECT id, duplicate_of, duplicate_reason FROM articles ORDER BY id").fetchall()
    assert first[1] is None and second[1:] == (first[0], "content")


def test_same_title_across_outlets_is_a_near_duplicate(db: sqlite_utils.Database) -> None:
    save(db, "wire", items(("w1", "Bank raises its gold forecast to record", "http://wire/gold",
                            "Wed, 04 Nov 2026 10:00:00 GMT")))
    body = rss([{"guid": "o1", "title": "Bank Raises Its Gold Forecast To Record - Reuters",
                 "link": "http://other/gold", "pubDate": "Wed, 04 Nov 2026 11:00:00 GMT",
                 "description": "A different lead paragraph written by the other outlet."}])
    save(db, "other", body)
    rows = db.execute("SELECT duplicate_of, duplicate_reason FROM articles ORDER BY id").fetchall()
    assert rows == [(None, None), (1, "title_cross_source")]


def test_short_generic_titles_and_distant_repeats_are_not_merged(db: sqlite_utils.Database) -> None:
    save(db, "wire", items(("a", "Markets live", "http://wire/1", "Mon, 02 Nov 2026 08:00:00 GMT"),
                           ("b", "Oil rises as supply tightens further", "http://wire/2",
                            "Mon, 02 Nov 2026 09:00:00 GMT")))
    stats = save(db, "wire", rss([
        {"guid": "c", "title": "Markets live", "link": "http://wire/3", "pubDate": "Tue, 03 Nov 2026 08:00:00 GMT",
         "description": "Tuesday's blog."},
        {"guid": "d", "title": "Oil rises as supply tightens further", "link": "http://wire/4",
         "pubDate": "Thu, 19 Nov 2026 09:00:00 GMT", "description": "A new story weeks later."},
    ]))
    assert (stats.new, stats.duplicates) == (2, 0)


def test_same_guid_is_stored_once_and_rerun_changes_nothing(db: sqlite_utils.Database) -> None:
    body = items(("g1", "Fed signals patience on further cuts", "http://wire/fed", "Wed, 04 Nov 2026 10:00:00 GMT"))
    assert save(db, "wire", body).new == 1
    before = db.execute("SELECT * FROM articles").fetchall()
    again = save(db, "wire", body)
    assert (again.new, again.duplicates, again.already_stored) == (0, 0, 1)
    assert db.execute("SELECT * FROM articles").fetchall() == before


def test_absurd_dates_fall_back_to_the_fetch_day_and_are_flagged(db: sqlite_utils.Database) -> None:
    save(db, "wire", items(("old", "Placeholder date story here", "http://wire/o", "Thu, 01 Jan 1970 00:00:00 GMT"),
                           ("fut", "Future dated story from a bad clock", "http://wire/f",
                            "Fri, 01 Jan 2100 00:00:00 GMT")))
    rows = dict(db.execute("SELECT guid, date_flag || '|' || day || '|' || IFNULL(published_at, '-') FROM articles"))
    assert rows == {"old": "absurd_past|2026-11-20|-", "fut": "future|2026-11-20|-"}


def test_a_crash_mid_feed_leaves_nothing_half_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = items(("g1", "First story of the night run", "http://wire/1", "Wed, 04 Nov 2026 10:00:00 GMT"),
                 ("g2", "Second story of the night run", "http://wire/2", "Wed, 04 Nov 2026 11:00:00 GMT"))
    path = tmp_path / "wire.xml"
    path.write_bytes(body)
    db = open_db(tmp_path / "t.db")
    settings = Settings(db_path=tmp_path / "t.db")
    real_find = store.find_duplicate
    calls = {"n": 0}

    def crash_on_second(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed mid-feed")
        return real_find(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "find_duplicate", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        ingest_feeds(db, settings, [FeedConfig(name="wire", url=path.as_uri())])
    # The feed's transaction rolled back whole: no article, no fetch row, no validators.
    assert db["articles"].count == 0 and db["fetches"].count == 0
    assert db["feeds"].get(1)["etag"] is None
    monkeypatch.setattr(store, "find_duplicate", real_find)
    summary = ingest_feeds(db, settings, [FeedConfig(name="wire", url=path.as_uri())])
    assert summary.articles_new == 2 and db["articles"].count == 2


def one(guid: str, title: str, link: str, date: str, body: str = "") -> bytes:
    return rss([{k: v for k, v in {"guid": guid, "title": title, "link": link, "pubDate": date,
                                   "description": body}.items() if v}])


def reasons(db: sqlite_utils.Database) -> list[tuple[object, object]]:
    return db.execute("SELECT duplicate_of, duplicate_reason FROM articles ORDER BY id").fetchall()


def test_distinct_items_sharing_one_link_are_not_url_duplicates(db: sqlite_utils.Database) -> None:
    # A regulator's feed where every item links to the newsroom page.
    newsroom = "https://agency.example/newsroom"
    save(db, "agency", one("p1", "Agency fines broker for misleading crypto adverts", newsroom,
                           "Mon, 02 Nov 2026 10:00:00 GMT", "The agency fined a broker over adverts."))
    save(db, "agency", one("p2", "Agency approves two new stablecoin issuers", newsroom,
                           "Tue, 03 Nov 2026 10:00:00 GMT", "Two issuers received approval today."))
    save(db, "agency", one("p3", "Press release", newsroom, "Wed, 04 Nov 2026 10:00:00 GMT"))
    save(db, "agency", one("p4", "Press release", newsroom, "Thu, 05 Nov 2026 10:00:00 GMT"))
    assert reasons(db) == [(None, None), (None, None), (None, None), (3, "url")]  # only p4 repeats p3 whole


def test_an_article_link_is_one_story_even_retitled_or_translated(db: sqlite_utils.Database) -> None:
    link = "https://paper.example/content/3260bc45-e09e-45a7-ae30-e55effbaf29b"
    save(db, "home", one("h1", "Alphabet lines up 100-year sterling bond sale", link,
                         "Mon, 09 Feb 2026 10:00:00 GMT", "The company plans a rare century bond."))
    save(db, "mirror", one("m1", "Alphabet拟发行100年期英镑债券", link, "Mon, 09 Feb 2026 11:00:00 GMT"))
    save(db, "home2", one("x1", "BP becomes first oil major to suspend share buyback", "https://paper.example/"
                          "2026/02/10/bp-suspends-share-buyback", "Tue, 10 Feb 2026 10:00:00 GMT", "Updated story."))
    save(db, "home3", one("x2", "BP suspends share buyback plan", "https://paper.example/2026/02/10/"
                          "bp-suspends-share-buyback", "Tue, 10 Feb 2026 12:00:00 GMT", "First version."))
    assert reasons(db) == [(None, None), (1, "url"), (None, None), (3, "url")]


def test_a_shared_page_link_needs_the_same_story(db: sqlite_utils.Database) -> None:
    page = "https://paper.example/markets"
    dek = "China's central bank said it would cut interest rates and inject more cash into the economy."
    save(db, "economy", one("e1", "China's central bank cuts rates and injects cash as tariffs bite", page,
                            "Wed, 04 Nov 2026 10:00:00 GMT", dek))
    save(db, "world", one("w1", "China Lowers Rates in Response to Tariffs", page,
                          "Wed, 04 Nov 2026 11:00:00 GMT", dek))  # same text (10+ words)
    save(db, "world2", one("x1", "China Lowers Rates in Response to Tariffs", page,
                           "Wed, 04 Nov 2026 12:00:00 GMT", "A shorter dek."))  # same title (4+ words) as w1
    save(db, "world3", one("y1", "Oil slips as stockpiles grow again", page, "Wed, 04 Nov 2026 13:00:00 GMT",
                           "Crude fell."))  # another story linking to the same section page
    assert reasons(db) == [(None, None), (1, "url"), (1, "url"), (None, None)]


def test_content_rule_has_a_window_and_a_minimum_length(db: sqlite_utils.Database) -> None:
    stock = "Our weekly look at the data, the decisions and the earnings that will move markets."
    # "The week ahead" a month apart: same title, same stock text, different weeks.
    save(db, "paper", one("w45", "The week ahead", "http://paper/w45", "Sun, 01 Nov 2026 08:00:00 GMT", stock))
    save(db, "paper", one("w49", "The week ahead", "http://paper/w49", "Sun, 29 Nov 2026 08:00:00 GMT", stock))
    # Generic one-liners without text, 5 days apart (beyond the title window), at different links.
    save(db, "paper", one("l1", "Here's the latest.", "http://paper/live/1", "Mon, 02 Nov 2026 08:00:00 GMT"))
    save(db, "paper", one("l2", "Here's the latest.", "http://paper/live/2", "Sat, 07 Nov 2026 08:00:00 GMT"))
    # The same column republished within the week is still one story.
    save(db, "paper", one("w45b", "The week ahead", "http://paper/w45-again", "Tue, 03 Nov 2026 08:00:00 GMT",
                          stock))
    assert reasons(db) == [(None, None)] * 4 + [(1, "content")]
