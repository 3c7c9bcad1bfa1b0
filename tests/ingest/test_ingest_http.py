"""Ingest against a local HTTP server: status codes, conditional GET, limits and bad bodies."""

from __future__ import annotations

import gzip
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import sqlite_utils

from tests.feedserver import rss, send, serve
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.runner import ingest_feeds

ITEMS = [
    {"title": "Fund raises stake in chip maker", "link": "http://example.com/a?utm_source=rss",
     "guid": "a-1", "description": "<p>The fund bought <b>more</b> shares.</p>",
     "pubDate": "Mon, 02 Nov 2026 10:00:00 +0100"},
    {"title": "Regulator grants custody licence", "link": "http://example.com/b", "guid": "b-2",
     "description": "A state regulator approved the licence.", "pubDate": "Mon, 02 Nov 2026 12:30:00 GMT"},
]
BODY = rss(ITEMS)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "t.db", connect_timeout=1.0, read_timeout=0.5,
                    total_timeout=3.0, max_bytes=20_000, concurrency=4)


def feed(name: str, url: str) -> FeedConfig:
    return FeedConfig(name=name, url=url)


def fetches(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT f.name, x.* FROM fetches x JOIN feeds f ON f.id = x.feed_id ORDER BY x.id"))


def ok(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, BODY, {"Content-Type": "application/rss+xml"})


def test_200_stores_normalised_items(db: sqlite_utils.Database, settings: Settings) -> None:
    with serve({"/feed": ok}) as srv:
        summary = ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    assert summary.articles_new == 2 and summary.feeds_failed == 0
    rows = list(db.query("SELECT * FROM articles ORDER BY guid"))
    assert rows[0]["canonical_url"] == "http://example.com/a"  # tracking parameter stripped
    assert rows[0]["summary"] == "The fund bought more shares."  # HTML to text
    assert rows[0]["published_at"] == "2026-11-02T09:00:00Z"  # +0100 converted to UTC
    assert rows[0]["day"] == "2026-11-02"
    [fetch] = fetches(db)
    assert (fetch["status"], fetch["http_status"], fetch["items_seen"], fetch["items_new"]) == ("ok", 200, 2, 2)
    assert srv.hits("/feed")[0]["user-agent"].startswith("NarrativeTracker/")


def test_304_with_etag_costs_no_parsing(db: sqlite_utils.Database, settings: Settings) -> None:
    def etagged(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            send(handler, 304, headers={"ETag": '"v1"'})
        else:
            send(handler, 200, BODY, {"ETag": '"v1"', "Last-Modified": "Mon, 02 Nov 2026 12:00:00 GMT"})

    with serve({"/feed": etagged}) as srv:
        ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
        second = ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    # ETag wins: only If-None-Match is sent when both validators are known.
    assert srv.hits("/feed")[1]["if-none-match"] == '"v1"'
    assert "if-modified-since" not in srv.hits("/feed")[1]
    last = fetches(db)[-1]
    assert (last["status"], last["http_status"], last["items_seen"]) == ("not_modified", 304, None)
    assert second.articles_new == 0 and second.feeds_failed == 0
    assert db["feeds"].get(1)["etag"] == '"v1"'


def test_304_with_last_modified(db: sqlite_utils.Database, settings: Settings) -> None:
    stamp = "Mon, 02 Nov 2026 12:00:00 GMT"

    def dated(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-Modified-Since") == stamp:
            send(handler, 304)
        else:
            send(handler, 200, BODY, {"Last-Modified": stamp})

    with serve({"/feed": dated}) as srv:
        ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
        ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    assert srv.hits("/feed")[1]["if-modified-since"] == stamp
    assert fetches(db)[-1]["status"] == "not_modified"
    assert db["feeds"].get(1)["last_modified"] == stamp


def test_identical_body_is_not_parsed_again(db: sqlite_utils.Database, settings: Settings) -> None:
    with serve({"/feed": ok}) as srv:
        ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
        ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    assert [f["status"] for f in fetches(db)] == ["ok", "unchanged"]
    assert db["articles"].count == 2


def test_timeout_is_recorded_and_the_run_goes_on(db: sqlite_utils.Database, settings: Settings) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(2)
        send(handler, 200, BODY)

    with serve({"/slow": slow, "/feed": ok}) as srv:
        summary = ingest_feeds(db, settings, [feed("slow", srv.url("/slow")), feed("good", srv.url("/feed"))])
    by_name = {f["name"]: f for f in fetches(db)}
    assert by_name["slow"]["status"] == "failed" and by_name["slow"]["error_kind"] == "timeout"
    assert by_name["good"]["status"] == "ok"
    assert summary.feeds_failed == 1 and summary.feeds_ok == 1 and summary.articles_new == 2


def test_server_error_is_recorded(db: sqlite_utils.Database, settings: Settings) -> None:
    with serve({"/feed": lambda h: send(h, 500, b"boom", {"Content-Type": "text/plain"})}) as srv:
        summary = ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    [fetch] = fetches(db)
    assert (fetch["status"], fetch["http_status"], fetch["error_kind"]) == ("failed", 500, "http_status")
    assert "HTTP 500" in fetch["error"]
    assert summary.feeds_failed == 1
    # A failure must not overwrite the validators of the last good fetch.
    assert db["feeds"].get(1)["last_ok_at"] is None


def test_redirect_is_followed_and_recorded(db: sqlite_utils.Database, settings: Settings) -> None:
    with serve({"/old": lambda h: send(h, 301, headers={"Location": "/feed"}), "/feed": ok}) as srv:
        ingest_feeds(db, settings, [feed("f", srv.url("/old"))])
    [fetch] = fetches(db)
    assert fetch["status"] == "ok" and fetch["final_url"] == srv.url("/feed")
    assert db["articles"].count == 2


def test_oversized_body_is_refused(db: sqlite_utils.Database, settings: Settings) -> None:
    big = rss([{**ITEMS[0], "guid": f"g{i}", "title": f"Item {i}" * 20} for i in range(400)])
    assert len(big) > settings.max_bytes

    def chunked(handler: BaseHTTPRequestHandler) -> None:
        # No Content-Length: the cap must hold while streaming, too.
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(big), 4096):
            part = big[start:start + 4096]
            handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    with serve({"/declared": lambda h: send(h, 200, big), "/chunked": chunked}) as srv:
        ingest_feeds(db, settings, [feed("declared", srv.url("/declared")), feed("chunked", srv.url("/chunked"))])
    assert {f["name"]: f["error_kind"] for f in fetches(db)} == {"declared": "too_large", "chunked": "too_large"}
    assert db["articles"].count == 0


def test_gzip_body_is_decoded(db: sqlite_utils.Database, settings: Settings) -> None:
    packed = gzip.compress(BODY)
    with serve({"/feed": lambda h: send(h, 200, packed, {"Content-Encoding": "gzip",
                                                          "Content-Type": "application/xml"})}) as srv:
        ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    assert srv.hits("/feed")[0]["accept-encoding"].startswith("gzip")
    assert db["articles"].count == 2


def test_html_error_page_is_a_failed_fetch(db: sqlite_utils.Database, settings: Settings) -> None:
    page = b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body>Try later</body></html>"
    with serve({"/feed": lambda h: send(h, 200, page, {"Content-Type": "text/html"})}) as srv:
        summary = ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    [fetch] = fetches(db)
    assert (fetch["status"], fetch["error_kind"]) == ("failed", "not_a_feed")
    assert "HTML page" in fetch["error"]
    assert summary.feeds_failed == 1


def test_real_broken_snapshots_are_recorded_not_fatal(
    db: sqlite_utils.Database, settings: Settings, shared_data: Path
) -> None:
    malformed = sorted((shared_data / "gesab001-headlines" / "malformed").glob("*.xml"))
    assert malformed
    settings = settings.with_overrides(max_bytes=10_000_000)
    routes = {f"/{p.name}": (lambda body: (lambda h: send(h, 200, body, {"Content-Type": "application/xml"})))(
        p.read_bytes()) for p in malformed}
    with serve({**routes, "/feed": ok}) as srv:
        feeds = [feed(f"m{i}", srv.url(f"/{p.name}")) for i, p in enumerate(malformed)]
        feeds.append(feed("good", srv.url("/feed")))
        summary = ingest_feeds(db, settings, feeds)
    statuses = {f["name"]: f for f in fetches(db)}
    assert statuses["good"]["status"] == "ok"
    truncated = next(n for n, p in zip([f.name for f in feeds], malformed, strict=False) if "unclosed_cdata" in p.name)
    # A feed cut off mid-CDATA keeps the items before the cut and says it was malformed.
    assert statuses[truncated]["status"] in ("partial", "failed")
    assert statuses[truncated]["bozo"] == 1 and statuses[truncated]["error"]
    # The CDN error page saved as a feed is a failed fetch with a reason.
    failed = [f for f in statuses.values() if f["status"] == "failed"]
    assert failed and all(f["error"] for f in failed)
    assert summary.feeds_failed == len(failed)


def test_file_urls_support_conditional_get(db: sqlite_utils.Database, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "local.xml"
    path.write_bytes(BODY)
    ingest_feeds(db, settings, [feed("local", path.as_uri())])
    ingest_feeds(db, settings, [feed("local", path.as_uri())])
    assert [f["status"] for f in fetches(db)] == ["ok", "not_modified"]
    missing = ingest_feeds(db, settings, [feed("gone", (tmp_path / "nope.xml").as_uri())])
    assert missing.feeds_failed == 1 and "404" in fetches(db)[-1]["error"]


def test_wrong_declared_type_is_noted_but_not_malformed(db: sqlite_utils.Database, settings: Settings) -> None:
    with serve({"/feed": lambda h: send(h, 200, BODY, {"Content-Type": "text/plain"})}) as srv:
        ingest_feeds(db, settings, [feed("f", srv.url("/feed"))])
    [fetch] = fetches(db)
    # The XML parsed whole: status ok, with feedparser's complaint kept for the record.
    assert (fetch["status"], fetch["bozo"], fetch["error"]) == ("ok", 1, None)
    assert "NonXMLContentType" in fetch["bozo_message"]
    assert db["articles"].count == 2
