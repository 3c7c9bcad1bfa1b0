"""Hypothesis properties of de-duplication, and of the URL and date normalisation it rests on.

Items are drawn from small pools of guids, links, titles and bodies so that
examples collide often: same guid, the same URL written differently, the same
story re-titled with an outlet suffix, short generic titles, dates in and out of
the title window.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.feedserver import rss
from tracker.base.db import open_db, transaction
from tracker.ingest import store
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.normalize import TRACKING_PARAMS, canonical_url, identifies_article, iso_utc, normalize_date
from tracker.ingest.parse import Entry, parse_feed

FETCHED = datetime(2026, 11, 20, 12, tzinfo=UTC)
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GUIDS = [None, "g1", "g2", "g3", "g4", "g5"]
LINKS = [None, "http://news.example/a", "HTTP://NEWS.example:80/a?utm_source=rss#top", "http://news.example/a?fbclid=1",
         "http://news.example/b", "https://web.archive.org/web/2026/http://news.example/b", "http://news.example/c?id=7"]
TITLES = ["Fed holds rates steady for third meeting", "FED HOLDS RATES STEADY FOR THIRD MEETING - Reuters",
          "Markets live", "Oil rises as supply fears grow", "Oil Rises As Supply Fears Grow | Bloomberg", ""]
BODIES = ["", "Policy makers kept the range unchanged.", "policy   makers KEPT the range unchanged.",
          "Brent crude gained two percent.",
          "Brent crude gained two percent as traders weighed new supply cuts from the largest producers."]
DATES = [None, "Wed, 18 Nov 2026 10:00:00 GMT", "Thu, 19 Nov 2026 09:00:00 +0100", "Sun, 01 Nov 2026 08:00:00 GMT",
         "Thu, 01 Jan 1970 00:00:00 GMT"]

items = st.builds(
    lambda guid, link, title, body, date: {k: v for k, v in
                                           {"guid": guid, "link": link, "title": title, "description": body,
                                            "pubDate": date}.items() if v},
    st.sampled_from(GUIDS), st.sampled_from(LINKS), st.sampled_from(TITLES), st.sampled_from(BODIES),
    st.sampled_from(DATES),
)
batches = st.lists(st.tuples(st.sampled_from(["wire", "paper"]), st.lists(items, max_size=6)), min_size=1, max_size=5)


def entries(batch: list[dict[str, str]]) -> list[Entry]:
    return parse_feed(rss(batch), FETCHED).entries


def save(conn: sqlite3.Connection, feed: str, batch: list[dict[str, str]]) -> store.SaveStats:
    with transaction(conn):
        feed_id = store.upsert_feed(conn, FeedConfig(name=feed, url=f"http://{feed}.example/rss"))
        return store.save_entries(conn, feed_id, None, entries(batch), iso_utc(FETCHED), window_days=3)


def table(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute("SELECT * FROM articles ORDER BY id").fetchall()


@PROPERTY_SETTINGS
@given(batch=st.lists(items, min_size=1, max_size=8), data=st.data())
def test_reingesting_any_permutation_or_subset_adds_nothing(batch: list[dict[str, str]], data: st.DataObject) -> None:
    db = open_db(":memory:")
    first = save(db.conn, "wire", batch)
    before = table(db.conn)
    assert first.new + first.duplicates == len(before)
    again = data.draw(st.permutations(batch))
    keep = data.draw(st.lists(st.booleans(), min_size=len(again), max_size=len(again)))
    subset = [item for item, kept in zip(again, keep, strict=True) if kept]
    stats = save(db.conn, "wire", subset)
    assert (stats.new, stats.duplicates) == (0, 0)
    assert table(db.conn) == before


@PROPERTY_SETTINGS
@given(feed_batches=batches, order=st.randoms(use_true_random=False))
def test_dedupe_invariants_hold_in_any_order(
    feed_batches: list[tuple[str, list[dict[str, str]]]], order: random.Random
) -> None:
    db = open_db(":memory:")
    for feed, batch in feed_batches:
        save(db.conn, feed, batch)
    conn = db.conn

    # Every distinct (feed, item key) is stored exactly once.
    expected_keys = {(feed, e.item_key) for feed, batch in feed_batches for e in entries(batch)}
    stored = conn.execute("SELECT f.name, a.item_key FROM articles a JOIN feeds f ON f.id = a.feed_id").fetchall()
    assert len(stored) == len(set(stored)) == len(expected_keys)
    assert set(stored) == expected_keys

    # duplicate_of always points at a root stored earlier, never at itself or at another duplicate.
    bad = conn.execute("SELECT a.id FROM articles a JOIN articles r ON r.id = a.duplicate_of "
                       "WHERE r.duplicate_of IS NOT NULL OR a.duplicate_of >= a.id").fetchall()
    assert bad == []
    assert conn.execute("SELECT COUNT(*) FROM articles WHERE (duplicate_of IS NULL) != (duplicate_reason IS NULL)"
                        ).fetchone() == (0,)
    # Each link is backed by its reason: some earlier member of the root's group matches by that rule.
    rows = {r[0]: r for r in conn.execute(
        "SELECT id, duplicate_of, feed_id, canonical_url, content_hash, title_key, content_text, summary, day "
        "FROM articles")}

    def words(text: str | None) -> int:
        return len(text.split()) if text else 0

    def holds(reason: str, a: tuple, g: tuple) -> bool:
        apart = abs((date.fromisoformat(a[8]) - date.fromisoformat(g[8])).days)
        body = store.body_key(a[6], a[7])
        if reason == "url":
            return a[3] == g[3] and (identifies_article(a[3]) or a[4] == g[4] or (a[5] == g[5] and words(a[5]) >= 4)
                                     or (body == store.body_key(g[6], g[7]) and words(body) >= 10))
        if reason == "content":
            return a[4] == g[4] and apart <= 7 and words(a[5]) + words(body) >= 10
        same_feed = a[2] == g[2]
        return (a[5] == g[5] and words(a[5]) >= 4 and apart <= 3
                and same_feed == (reason == "title_same_source"))

    for art_id, root, reason in conn.execute(
            "SELECT id, duplicate_of, duplicate_reason FROM articles WHERE duplicate_of IS NOT NULL"):
        group = [g for g in rows.values() if (g[0] == root or g[1] == root) and g[0] < art_id]
        assert any(holds(reason, rows[art_id], g) for g in group), (art_id, root, reason)

    # Re-running every batch, in another order, adds nothing.
    before = table(conn)
    shuffled = list(feed_batches)
    order.shuffle(shuffled)
    for feed, batch in shuffled:
        assert save(conn, feed, batch).new == 0
    assert table(conn) == before

    # The stored keys do not depend on the order the batches arrived in.
    other = open_db(":memory:")
    for feed, batch in shuffled:
        save(other.conn, feed, batch)
    assert set(other.conn.execute("SELECT f.name, a.item_key FROM articles a JOIN feeds f ON f.id = a.feed_id")
               .fetchall()) == expected_keys


# ---- the normalisation the keys rest on ---------------------------------------------------------

hosts = st.from_regex(r"[a-z][a-z0-9]{0,8}\.(com|org|co\.uk)", fullmatch=True)
segments = st.lists(st.from_regex(r"[A-Za-z0-9_~\-]{1,8}", fullmatch=True), max_size=3)
params = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(
    lambda k: k not in TRACKING_PARAMS and not k.startswith(("utm_", "pk_", "mtm_", "at_", "_ga"))),
    st.from_regex(r"[A-Za-z0-9]{0,6}", fullmatch=True), max_size=3)
tracking = st.dictionaries(st.sampled_from(["utm_source", "utm_campaign", "fbclid", "gclid", "mod", "smid"]),
                           st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), max_size=3)


@given(hosts, segments, params, tracking, st.data())
def test_urls_of_one_article_share_one_canonical_form(
    host: str, path: list[str], query: dict[str, str], noise: dict[str, str], data: st.DataObject
) -> None:
    base = f"https://{host}/{'/'.join(path)}"
    plain = canonical_url(f"{base}?{urlencode(sorted(query.items()))}" if query else base)
    mixed = list({**query, **noise}.items())
    mixed = data.draw(st.permutations(mixed))
    variant = f"HTTPS://{host.upper()}:443/{'/'.join(path)}" + (f"?{urlencode(mixed)}" if mixed else "") + "#x"
    # Tracking parameters, their order, host case, the default port and the fragment never matter.
    assert canonical_url(variant) == plain
    assert canonical_url(f"https://archive.ph/newest/{variant}") == plain
    # A parameter that identifies the article does.
    assert canonical_url(f"{base}?id=1") != canonical_url(f"{base}?id=2")


@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)),
       st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_one_instant_in_any_zone_normalises_to_one_day(moment: datetime, offset_minutes: int) -> None:
    utc = moment.replace(tzinfo=UTC)
    local = utc.astimezone(timezone(timedelta(minutes=offset_minutes)))
    assert normalize_date(local, FETCHED) == normalize_date(utc, FETCHED)
    trusted, _ = normalize_date(local, FETCHED)
    if trusted is not None:
        assert iso_utc(trusted)[:10] == utc.strftime("%Y-%m-%d")
