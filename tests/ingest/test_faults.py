"""Fault injection against a local HTTP server: every fault is a recorded failure, nothing lost or doubled.

Each faulty feed is ingested next to a healthy one, twice. Afterwards the faulty
feed has a ``failed`` fetch row with an ``error_kind`` and a readable ``error``
for every attempt, the healthy feed's items are stored exactly once, and the run
rows say how the runs went.
"""

from __future__ import annotations

import gzip
import socket
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import sqlite_utils

from tests.feedserver import rss, send, serve
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.fetch import fetch_feed, make_client
from tracker.ingest.parse import cut_off_entries
from tracker.ingest.runner import ingest_feeds

Handler = Callable[[BaseHTTPRequestHandler], None]

GOOD_ITEMS = [
    {"guid": f"http://good.example/id/{i}", "title": f"Healthy feed story number {i} on rates", "link": f"http://good.example/{i}",
     "description": f"Body of healthy story {i}.", "pubDate": f"Mon, 02 Nov 2026 {10 + i}:00:00 GMT"}
    for i in range(3)
]
GOOD = rss(GOOD_ITEMS)
#: How long the drip servers keep dripping: far beyond the fetch budget below.
DRIP_SECONDS = 8.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # One attempt per fetch: each fault is judged as it comes (retries: tests/ingest/test_retries.py).
    return Settings(db_path=tmp_path / "t.db", connect_timeout=1.0, read_timeout=0.5,
                    total_timeout=1.5, max_bytes=200_000, max_redirects=5, concurrency=4, retry_attempts=1)


def good(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, GOOD, {"Content-Type": "application/rss+xml"})


# ---- fault handlers -------------------------------------------------------------------------


def body_drip(handler: BaseHTTPRequestHandler) -> None:
    """Valid headers, then the body one byte every 0.1 s: each read is quick, the whole never ends."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Length", str(len(GOOD)))
    handler.end_headers()
    stop = time.monotonic() + DRIP_SECONDS
    for byte in GOOD:
        if time.monotonic() > stop:
            break
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.1)


def header_drip(handler: BaseHTTPRequestHandler) -> None:
    """The status line, then one header line every 0.1 s (slowloris in reverse)."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
    stop = time.monotonic() + DRIP_SECONDS
    while time.monotonic() < stop:
        handler.wfile.write(b"X-Drip: 1\r\n")
        handler.wfile.flush()
        time.sleep(0.1)
    handler.wfile.write(b"Content-Length: %d\r\n\r\n" % len(GOOD) + GOOD)


def gzip_drip(handler: BaseHTTPRequestHandler) -> None:
    """A gzip body dripped byte by byte: most raw reads decode to nothing at all."""
    packed = gzip.compress(GOOD * 20)
    handler.send_response(200)
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Content-Length", str(len(packed)))
    handler.end_headers()
    stop = time.monotonic() + DRIP_SECONDS
    for byte in packed:
        if time.monotonic() > stop:
            break
        handler.wfile.write(bytes([byte]))
        handler.wfile.flush()
        time.sleep(0.05)


def endless_body(handler: BaseHTTPRequestHandler) -> None:
    """A chunked body of feed items that never ends, as fast as the socket takes it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    part = b"<item><title>again</title></item>" * 100
    chunk = f"{len(part):x}\r\n".encode() + part + b"\r\n"
    handler.wfile.write(b"%x\r\n<rss version=\"2.0\"><channel>\r\n" % len(b'<rss version="2.0"><channel>'))
    stop = time.monotonic() + DRIP_SECONDS
    while time.monotonic() < stop:
        handler.wfile.write(chunk)


def _reset(handler: BaseHTTPRequestHandler, sent: bytes) -> None:
    # SO_LINGER 0 makes close() send a TCP RST instead of a FIN.
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if sent:
        handler.wfile.write(sent)
        handler.wfile.flush()
    handler.connection.close()


def reset_at_once(handler: BaseHTTPRequestHandler) -> None:
    _reset(handler, b"")


def reset_mid_body(handler: BaseHTTPRequestHandler) -> None:
    _reset(handler, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(GOOD) + GOOD[: len(GOOD) // 2])


def closed_mid_body(handler: BaseHTTPRequestHandler) -> None:
    """An orderly close after half the promised bytes: the items so far must not be stored."""
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(GOOD) + GOOD[: len(GOOD) // 2])
    handler.wfile.flush()
    handler.connection.shutdown(socket.SHUT_RDWR)


def not_http(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")


def _bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(64)) + packer.flush()


BOMB = _bomb()  # 64 MiB of zeros in about 64 KB


def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    """64 MiB behind 64 KB of gzip, chunked, so only the streaming cap can stop it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Content-Encoding", "gzip")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for start in range(0, len(BOMB), 8192):
        part = BOMB[start:start + 8192]
        handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
    handler.wfile.write(b"0\r\n\r\n")


def fake_gzip(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, GOOD, {"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})


def fake_deflate(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, b"\x00\xffnot deflate at all" * 10, {"Content-Encoding": "deflate"})


def html_as_rss(handler: BaseHTTPRequestHandler) -> None:
    page = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking</body></html>"
    send(handler, 200, page, {"Content-Type": "application/rss+xml"})


def png_as_rss(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, {"Content-Type": "application/rss+xml"})


def json_as_xml(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, b'{"items": [{"title": "not a feed"}]}', {"Content-Type": "application/xml"})


def empty_200(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, b"", {"Content-Type": "application/rss+xml"})


def redirect_to(location: str, status: int = 302) -> Handler:
    return lambda handler: send(handler, status, headers={"Location": location})


FAULTS: dict[str, tuple[dict[str, Handler], set[str]]] = {
    # name: (routes, of which /fault is the faulty feed; the error kinds it may be recorded as)
    "body_drip": ({"/fault": body_drip}, {"timeout"}),
    "header_drip": ({"/fault": header_drip}, {"timeout"}),
    "gzip_drip": ({"/fault": gzip_drip}, {"timeout"}),
    "endless_body": ({"/fault": endless_body}, {"too_large"}),
    "reset_at_once": ({"/fault": reset_at_once}, {"connection"}),
    "reset_mid_body": ({"/fault": reset_mid_body}, {"connection"}),
    "closed_mid_body": ({"/fault": closed_mid_body}, {"connection"}),
    "not_http": ({"/fault": not_http}, {"connection"}),
    "gzip_bomb": ({"/fault": gzip_bomb}, {"too_large"}),
    "fake_gzip": ({"/fault": fake_gzip}, {"decoding"}),
    "fake_deflate": ({"/fault": fake_deflate}, {"decoding"}),
    "html_as_rss": ({"/fault": html_as_rss}, {"not_a_feed"}),
    "png_as_rss": ({"/fault": png_as_rss}, {"parse_error"}),
    "json_as_xml": ({"/fault": json_as_xml}, {"parse_error"}),
    "empty_200": ({"/fault": empty_200}, {"empty"}),
    "redirect_self_loop": ({"/fault": redirect_to("/fault")}, {"too_many_redirects"}),
    "redirect_two_step_loop": ({"/fault": redirect_to("/other"), "/other": redirect_to("/fault", 301)},
                               {"too_many_redirects"}),
    "redirect_chain_too_long": ({"/fault": redirect_to("/r1"),
                                 **{f"/r{i}": redirect_to(f"/r{i + 1}") for i in range(8)}}, {"too_many_redirects"}),
    "redirect_to_local_file": ({"/fault": redirect_to("file:///etc/passwd")}, {"bad_url"}),
    # httpx reports an unparseable Location as a protocol error; the message names the header.
    "redirect_to_bad_url": ({"/fault": redirect_to("http://[::1")}, {"bad_url", "connection"}),
    "redirect_without_location": ({"/fault": lambda h: send(h, 302)}, {"empty"}),
}


def fetch_rows(db: sqlite_utils.Database, feed: str) -> list[dict]:
    return list(db.query("SELECT x.* FROM fetches x JOIN feeds f ON f.id = x.feed_id WHERE f.name = ? "
                         "ORDER BY x.id", [feed]))


def assert_good_feed_stored_once(db: sqlite_utils.Database) -> None:
    rows = db.execute("SELECT a.item_key, a.title, a.summary FROM articles a JOIN feeds f ON f.id = a.feed_id "
                      "WHERE f.name = 'good' ORDER BY a.item_key").fetchall()
    assert rows == [(i["guid"], i["title"], i["description"]) for i in GOOD_ITEMS]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_fault_is_recorded_and_loses_nothing(db: sqlite_utils.Database, settings: Settings, fault: str) -> None:
    routes, kinds = FAULTS[fault]
    with serve({**routes, "/good": good}) as srv:
        feeds = [FeedConfig(name="fault", url=srv.url("/fault")), FeedConfig(name="good", url=srv.url("/good"))]
        for _ in range(2):
            start = time.monotonic()
            summary = ingest_feeds(db, settings, feeds)
            # The budget holds even when the server would keep going for DRIP_SECONDS.
            assert time.monotonic() - start < DRIP_SECONDS - 2
            assert (summary.feeds_failed, summary.feeds_ok) == (1, 1)
    attempts = fetch_rows(db, "fault")
    assert len(attempts) == 2
    for attempt in attempts:
        assert attempt["status"] == "failed"
        assert attempt["error_kind"] in kinds, attempt
        assert attempt["error"] and attempt["finished_at"]
        assert attempt["items_new"] is None
    assert [f["status"] for f in fetch_rows(db, "good")] == ["ok", "unchanged"]
    assert db.execute("SELECT COUNT(*) FROM articles a JOIN feeds f ON f.id = a.feed_id "
                      "WHERE f.name = 'fault'").fetchone()[0] == 0
    assert_good_feed_stored_once(db)
    # A failure never counts as a good fetch nor leaves validators behind.
    fault_feed = next(db["feeds"].rows_where("name = 'fault'"))
    assert (fault_feed["last_ok_at"], fault_feed["etag"], fault_feed["body_hash"]) == (None, None, None)
    assert [(r["status"], r["feeds_failed"], r["articles_new"]) for r in db["runs"].rows] == [
        ("partial", 1, 3), ("partial", 1, 0)]


def test_redirect_to_a_local_file_reads_nothing(db: sqlite_utils.Database, settings: Settings) -> None:
    routes, _ = FAULTS["redirect_to_local_file"]
    with serve(routes) as srv:
        ingest_feeds(db, settings, [FeedConfig(name="fault", url=srv.url("/fault"))])
    [attempt] = fetch_rows(db, "fault")
    assert attempt["bytes"] is None and "root:" not in (attempt["error"] or "")


def test_gzip_bomb_is_stopped_without_inflating_it_in_memory(settings: Settings) -> None:
    with serve({"/bomb": gzip_bomb}) as srv, make_client(settings) as client:
        tracemalloc.start()
        try:
            result = fetch_feed(client, srv.url("/bomb"), settings)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert (result.status, result.error_kind, result.body) == ("failed", "too_large", b"")
    # The cap is 200 KB; the bomb holds 64 MiB. Decoding in bounded pieces keeps the peak near the cap.
    assert peak < 20 * settings.max_bytes, f"peak {peak:,} bytes"


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(("coding", "pack"), [
    ("gzip", gzip.compress), ("x-gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", _raw_deflate),
], ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw"])
def test_compressed_bodies_are_decoded_in_bounded_pieces(
    db: sqlite_utils.Database, settings: Settings, coding: str, pack: Callable[[bytes], bytes]
) -> None:
    packed = pack(GOOD)

    def small_chunks(handler: BaseHTTPRequestHandler) -> None:
        # Chunks of 7 bytes: the decoder must carry state (and a split gzip header) across reads.
        handler.send_response(200)
        handler.send_header("Content-Encoding", coding)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(packed), 7):
            part = packed[start:start + 7]
            handler.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")

    with serve({"/feed": small_chunks}) as srv:
        summary = ingest_feeds(db, settings, [FeedConfig(name="good", url=srv.url("/feed"))])
    assert summary.feeds_failed == 0
    assert_good_feed_stored_once(db)


# ---- wrong content types and invalid encodings that still carry a feed -----------------------


def item_feed(guid: str, title: str, description: str) -> str:
    return (f'<rss version="2.0"><channel><title>T</title><item><guid>{guid}</guid><title>{title}</title>'
            f"<description>{description}</description></item></channel></rss>")


RECOVERABLE: dict[str, tuple[bytes, dict[str, str]]] = {
    "rss_as_text_html": (GOOD, {"Content-Type": "text/html; charset=utf-8"}),
    "rss_as_image_png": (GOOD, {"Content-Type": "image/png"}),
    "rss_as_octet_stream": (GOOD, {"Content-Type": "application/octet-stream"}),
    "rss_without_content_type": (GOOD, {}),
    "latin1_declared_utf8": (('<?xml version="1.0" encoding="utf-8"?>' + item_feed(
        "enc-1", "Caf\u00e9 owners cheer rate cut", "Pr\u00eats \u00e0 taux z\u00e9ro")).encode("latin-1"),
        {"Content-Type": "application/rss+xml; charset=utf-8"}),
    "bogus_charset": (('<?xml version="1.0" encoding="x-no-such-charset"?>' + item_feed(
        "enc-2", "Bank lifts euro forecast again", "Plain body")).encode("utf-8"),
        {"Content-Type": "application/xml; charset=x-no-such-charset"}),
    "utf16_declared_utf8": (('<?xml version="1.0" encoding="utf-16"?>' + item_feed(
        "enc-3", "Yen slides as carry trade returns", "Body")).encode("utf-16"),
        {"Content-Type": "application/xml; charset=utf-8"}),
    # Cut after the item, inside a multi-byte character of a later channel element.
    "truncated_multibyte": (('<?xml version="1.0" encoding="utf-8"?>' + item_feed(
        "enc-4", "Euro \u20ac bonds rally", "Ends in \u20ac")).replace(
        "</channel></rss>", "<copyright>Fees in \u20ac").encode("utf-8")[:-1], {"Content-Type": "application/xml"}),
    "nul_bytes": (('<?xml version="1.0" encoding="utf-8"?>' + item_feed(
        "enc-5", "Nul\x00 bytes in\x00 title", "Body\x00 text")).encode("utf-8"), {"Content-Type": "application/xml"}),
}


@pytest.mark.parametrize("case", list(RECOVERABLE))
def test_wrong_type_or_encoding_never_crashes_and_is_recorded(
    db: sqlite_utils.Database, settings: Settings, case: str
) -> None:
    body, headers = RECOVERABLE[case]
    with serve({"/feed": lambda h: send(h, 200, body, headers), "/good": good}) as srv:
        feeds = [FeedConfig(name="odd", url=srv.url("/feed")), FeedConfig(name="good", url=srv.url("/good"))]
        ingest_feeds(db, settings, feeds)
        ingest_feeds(db, settings, feeds)
    first, second = fetch_rows(db, "odd")
    assert second["status"] in ("unchanged", "failed")
    stored = db.execute("SELECT a.item_key, a.title, a.summary FROM articles a JOIN feeds f ON f.id = a.feed_id "
                        "WHERE f.name = 'odd'").fetchall()
    if first["status"] == "failed":
        # Refusing the document is allowed, silently storing nothing is not.
        assert first["error_kind"] and first["error"] and not stored
    else:
        assert first["status"] in ("ok", "partial")
        if first["status"] == "partial":
            assert first["bozo"] == 1 and first["error"]
        assert stored, "a readable feed must not be lost"
        assert len({key for key, *_ in stored}) == len(stored)
        for _, title, summary in stored:
            assert "\x00" not in title + summary
    assert_good_feed_stored_once(db)


def test_valid_feed_behind_wrong_content_type_keeps_every_item(
    db: sqlite_utils.Database, settings: Settings
) -> None:
    with serve({"/feed": lambda h: send(h, 200, GOOD, {"Content-Type": "text/html"})}) as srv:
        ingest_feeds(db, settings, [FeedConfig(name="odd", url=srv.url("/feed"))])
    assert sorted(r[0] for r in db.execute("SELECT guid FROM articles")) == [i["guid"] for i in GOOD_ITEMS]


def test_latin1_bytes_in_a_utf8_feed_are_decoded_not_lost(db: sqlite_utils.Database, settings: Settings) -> None:
    body, headers = RECOVERABLE["latin1_declared_utf8"]
    with serve({"/feed": lambda h: send(h, 200, body, headers)}) as srv:
        ingest_feeds(db, settings, [FeedConfig(name="odd", url=srv.url("/feed"))])
    [(title,)] = db.execute("SELECT title FROM articles").fetchall()
    assert title.startswith("Caf") and title.endswith("owners cheer rate cut")


def test_download_cut_inside_a_character_keeps_the_text_readable(
    db: sqlite_utils.Database, settings: Settings
) -> None:
    body, headers = RECOVERABLE["truncated_multibyte"]
    with serve({"/feed": lambda h: send(h, 200, body, headers)}) as srv:
        ingest_feeds(db, settings, [FeedConfig(name="odd", url=srv.url("/feed"))])
    # Not mojibake ("Euro â‚¬"): the cut character must not switch the whole document to windows-1252.
    assert db.execute("SELECT title, summary FROM articles").fetchall() == [("Euro \u20ac bonds rally",
                                                                              "Ends in \u20ac")]


# ---- a feed that alternates between valid and broken -----------------------------------------

V1 = [
    {"guid": f"http://alt.example/id/{i}", "title": f"Alternating feed story {i} moves markets", "link": f"http://alt.example/{i}",
     "description": "Full description of the story, long enough to be cut in half by a broken server. " * 3,
     "pubDate": f"Tue, 03 Nov 2026 0{i}:00:00 GMT"}
    for i in range(4)
]
V2 = V1[2:] + [{**V1[0], "guid": f"http://alt.example/id/{i}", "title": f"Later alternating story {i} lifts bonds",
                "link": f"http://alt.example/{i}", "description": f"Second edition item {i} with its own text."}
               for i in range(4, 6)]


def truncated(body: bytes) -> bytes:
    """Cut inside the third item's description (the channel has one too), as a dropped connection would."""
    cut = -1
    for _ in range(4):
        cut = body.index(b"<description>", cut + 1)
    return body[: cut + 40]


def test_only_entries_left_open_by_a_cut_are_counted_as_cut_off() -> None:
    whole = rss(V1)
    assert cut_off_entries(whole) == 0
    assert cut_off_entries(truncated(whole)) == 1
    # Cut between items: nothing is open, nothing is dropped.
    assert cut_off_entries(whole[: whole.index(b"</item>") + len(b"</item>")]) == 0
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id></entry><atom:entry><id>2</id>'
            b"<title>cut")
    assert cut_off_entries(atom) == 1
    assert cut_off_entries(b'<rss version="2.0"><channel><item/><item><title>x</title></item>') == 0


BROKEN: dict[str, Callable[[bytes], tuple[int, bytes, dict[str, str]]]] = {
    "html_error_page": lambda _: (200, b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                                  {"Content-Type": "text/html"}),
    "server_error": lambda _: (503, b"try later", {"Content-Type": "text/plain"}),
    "truncated": lambda valid: (200, truncated(valid), {"Content-Type": "application/rss+xml"}),
    "garbage": lambda _: (200, b"\x1f\x8b\x08garbage" * 50, {"Content-Type": "application/rss+xml"}),
}


@pytest.mark.parametrize("broken", list(BROKEN))
def test_feed_alternating_valid_and_broken_stores_each_item_once_and_whole(
    db: sqlite_utils.Database, settings: Settings, broken: str
) -> None:
    # The feed moves on from V1 to V2 and the first answer with V2 is the broken one,
    # so whatever a broken body leaves behind meets the valid V2 afterwards.
    ok_type = {"Content-Type": "application/rss+xml"}
    versions = [(200, rss(V1), ok_type), BROKEN[broken](rss(V2)), (200, rss(V2), ok_type), BROKEN[broken](rss(V2))]
    served = iter(versions)

    def alternating(handler: BaseHTTPRequestHandler) -> None:
        status, body, headers = next(served)
        send(handler, status, body, headers)

    with serve({"/feed": alternating}) as srv:
        summaries = [ingest_feeds(db, settings, [FeedConfig(name="alt", url=srv.url("/feed"))]) for _ in versions]
    statuses = [row["status"] for row in fetch_rows(db, "alt")]
    assert statuses[0] == statuses[2] == "ok"
    for odd in (statuses[1], statuses[3]):
        # Broken bodies are failures, or partial parses that keep only whole items.
        assert odd in ("failed", "partial")
    assert all(row["error"] for row in fetch_rows(db, "alt") if row["status"] != "ok")
    expected = {i["guid"]: i for i in V1 + V2}
    stored = db.execute("SELECT guid, title, summary, duplicate_of FROM articles ORDER BY guid").fetchall()
    assert [row[0] for row in stored] == sorted(expected)
    for guid, title, summary, duplicate_of in stored:
        # Whole items only: a cut-off copy must never be stored in place of the real one.
        assert (title, summary) == (expected[guid]["title"], " ".join(expected[guid]["description"].split()))
        assert duplicate_of is None
    assert sum(s.articles_new for s in summaries) == len(expected)
    assert summaries[1].feeds_failed + summaries[3].feeds_failed == statuses.count("failed")
