"""Full text, politely, against local HTTP servers: robots.txt, turns per host, Retry-After, limits, walls.

Every test ingests a feed whose items link to pages on a local server, runs the full-text
pass and checks what was stored, what was recorded and what the server saw.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.feedserver import send, serve
from tests.ingest.fulltext_helpers import (
    PARAGRAPHS,
    article_page,
    fast_settings,
    feed_route,
    html_route,
    ingest_feed,
    statuses,
)
from tracker.ingest.extract import decode_html, extract_page
from tracker.ingest.fulltext import fetch_fulltext
from tracker.ingest.pagefetch import HostGate, parse_retry_after


def _page_rows(db, url: str) -> list[tuple]:  # type: ignore[no-untyped-def]
    return db.conn.execute("SELECT status, http_status, error_kind, error, final_url FROM page_fetches "
                           "WHERE url = ? ORDER BY id", (url,)).fetchall()


def test_pages_are_fetched_extracted_and_stored_with_their_provenance(tmp_path: Path) -> None:
    routes = {"/robots.txt": html_route(b"User-agent: *\nAllow: /\n", "text/plain")}
    with serve(routes) as server:
        for i in range(3):
            routes[f"/a/{i}"] = html_route(article_page(f"Story {i}"))
        routes["/feed"] = feed_route(server, [f"/a/{i}" for i in range(3)])
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        summary = fetch_fulltext(db, settings, ["news"])
        rows = db.conn.execute("SELECT content_text, content_status, content_source, content_length, "
                               "content_sha256, content_extractor FROM articles").fetchall()
        agent = server.hits("/a/0")[0]["user-agent"]
    assert summary.stored == 3 and summary.fetched == 3
    for text, status, source, length, digest, extractor in rows:
        assert status == "ok" and source == "page"
        assert PARAGRAPHS[0] in text and PARAGRAPHS[3] in text
        assert "All rights reserved" not in text and "About us" not in text
        assert length == len(text) and len(digest) == 64
        assert extractor.startswith("trafilatura-")
    assert "NarrativeTracker/" in agent and "https://example.org/contact" in agent
    # Nothing new: a second pass fetches nothing.
    again = fetch_fulltext(db, settings, ["news"])
    assert again.candidates == 0 and again.run_id is None


def test_robots_disallow_is_honoured_and_robots_txt_is_cached(tmp_path: Path) -> None:
    robots = b"User-agent: *\nDisallow: /nobody/\n\nUser-agent: NarrativeTracker\nDisallow: /private/\n"
    routes = {"/robots.txt": html_route(robots, "text/plain"),
              "/private/1": html_route(article_page("Secret")),
              "/public/1": html_route(article_page("Open"))}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/private/1", "/public/1"])
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        fetch_fulltext(db, settings, ["news"])
        fetch_fulltext(db, settings, ["news"], retry=True)  # a second run reads robots.txt from the cache
        assert statuses(db) == {server.url("/private/1"): "robots", server.url("/public/1"): "ok"}
        assert server.hits("/private/1") == []
        assert len(server.hits("/robots.txt")) == 1
        reason = _page_rows(db, server.url("/private/1"))[0][3]
        cached = db.conn.execute("SELECT rule, http_status FROM robots_txt").fetchall()
    assert "robots.txt" in reason and "NarrativeTracker" in reason
    assert cached == [("parse", 200)]


@pytest.mark.parametrize(("robots_status", "expected"), [(404, ["ok", "ok"]), (503, ["none", "retry"])])
def test_missing_robots_allows_and_unreachable_robots_defers_the_host(tmp_path: Path, robots_status: int,
                                                                      expected: list[str]) -> None:
    def robots(h: BaseHTTPRequestHandler) -> None:
        send(h, robots_status, b"no", {"Content-Type": "text/plain"})
    routes = {"/robots.txt": robots, "/a": html_route(article_page("A story")),
              "/b": html_route(article_page("B story"))}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/a", "/b"])
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        summary = fetch_fulltext(db, settings, ["news"])
        assert sorted(s or "none" for s in statuses(db).values()) == expected
        if robots_status == 503:
            # Unreachable: one attempt recorded as passing, the host's other page left for a later run,
            # and no page was requested at all.
            assert summary.deferred == 1 and server.hits("/a") == server.hits("/b") == []


def test_one_request_at_a_time_per_host_spaced_by_the_minimum_delay(tmp_path: Path) -> None:
    in_flight = 0
    peak = 0
    starts: list[float] = []
    ends: list[float] = []
    lock = threading.Lock()

    def slow(h: BaseHTTPRequestHandler) -> None:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
            starts.append(time.monotonic())
        time.sleep(0.05)
        with lock:
            in_flight -= 1
            ends.append(time.monotonic())
        send(h, 200, article_page("Paced"), {"Content-Type": "text/html"})

    routes = {f"/p/{i}": slow for i in range(4)}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, [f"/p/{i}" for i in range(4)])
        settings = fast_settings(tmp_path, fulltext_min_delay=0.3, fulltext_parallel_hosts=4)
        db = ingest_feed(settings, server.url("/feed"))
        summary = fetch_fulltext(db, settings, ["news"])
    assert summary.stored == 4
    assert peak == 1
    starts.sort()
    ends.sort()
    # Each request starts at least the delay after the previous one ended (small clock slack).
    assert all(starts[i + 1] - ends[i] >= 0.28 for i in range(3)), (starts, ends)


def test_crawl_delay_from_robots_lengthens_the_spacing(tmp_path: Path) -> None:
    stamps: list[float] = []

    def page(h: BaseHTTPRequestHandler) -> None:
        stamps.append(time.monotonic())
        send(h, 200, article_page("Slow please"), {"Content-Type": "text/html"})

    routes = {"/robots.txt": html_route(b"User-agent: *\nCrawl-delay: 0.6\n", "text/plain"),
              "/a": page, "/b": page}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/a", "/b"])
        settings = fast_settings(tmp_path, fulltext_min_delay=0.05)
        db = ingest_feed(settings, server.url("/feed"))
        fetch_fulltext(db, settings, ["news"])
    assert len(stamps) == 2 and stamps[1] - stamps[0] >= 0.55


def test_429_with_a_short_retry_after_is_waited_out_and_retried(tmp_path: Path) -> None:
    seen: list[float] = []

    def limited(h: BaseHTTPRequestHandler) -> None:
        seen.append(time.monotonic())
        if len(seen) == 1:
            send(h, 429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "1"})
        else:
            send(h, 200, article_page("Patience"), {"Content-Type": "text/html"})

    routes = {"/a": limited}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/a"])
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        summary = fetch_fulltext(db, settings, ["news"])
    assert summary.stored == 1
    assert len(seen) == 2 and seen[1] - seen[0] >= 0.95


def test_429_with_a_long_retry_after_defers_the_host_to_a_later_run(tmp_path: Path) -> None:
    def limited(h: BaseHTTPRequestHandler) -> None:
        send(h, 429, b"come back tomorrow", {"Content-Type": "text/plain", "Retry-After": "3600"})

    routes = {f"/a/{i}": limited for i in range(3)}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, [f"/a/{i}" for i in range(3)])
        settings = fast_settings(tmp_path, fulltext_max_wait=5.0)
        db = ingest_feed(settings, server.url("/feed"))
        first = fetch_fulltext(db, settings, ["news"])
        hits_after_first = sum(len(server.hits(f"/a/{i}")) for i in range(3))
        second = fetch_fulltext(db, settings, ["news"])
        hits_after_second = sum(len(server.hits(f"/a/{i}")) for i in range(3))
        backoff = db.conn.execute("SELECT host, not_before FROM host_backoff").fetchall()
        st = sorted(s or "none" for s in statuses(db).values())
        retry_after = db.conn.execute("SELECT retry_after FROM page_fetches").fetchall()
    assert hits_after_first == 1  # the first answer stopped the host: its other pages were not asked for
    assert first.fetched == 1 and first.deferred == 2 and first.statuses == {"retry": 1}
    assert hits_after_second == 1 and second.deferred == 3 and second.fetched == 0
    assert len(backoff) == 1 and backoff[0][0].startswith("127.0.0.1:")
    assert st == ["none", "none", "retry"]
    assert retry_after == [(3600.0,)]


def test_slow_drip_page_is_cut_at_the_time_budget(tmp_path: Path) -> None:
    body = article_page("Drip")

    def drip(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for i in range(len(body)):
            h.wfile.write(body[i:i + 1])
            h.wfile.flush()
            time.sleep(0.05)

    routes = {"/drip": drip, "/ok": html_route(article_page("Fine"))}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/drip", "/ok"])
        settings = fast_settings(tmp_path, fulltext_timeout=1.0, fulltext_max_attempts=3)
        db = ingest_feed(settings, server.url("/feed"))
        start = time.monotonic()
        fetch_fulltext(db, settings, ["news"])
        elapsed = time.monotonic() - start
        assert statuses(db) == {server.url("/drip"): "retry", server.url("/ok"): "ok"}
        row = _page_rows(db, server.url("/drip"))[0]
    assert row[2] == "timeout" and elapsed < 4.0


def test_fifty_megabyte_page_is_refused_without_reading_it(tmp_path: Path) -> None:
    sent = {"declared": 0, "streamed": 0}
    chunk = b"<p>" + b"x" * 65_530 + b"</p>"

    def huge_declared(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(50 * 1024 * 1024))
        h.end_headers()
        try:
            for _ in range(800):
                h.wfile.write(chunk)
                sent["declared"] += len(chunk)
        except OSError:
            pass

    def huge_streamed(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()  # no length: read until the server closes, 50 MB later
        h.wfile.write(b"<!DOCTYPE html><html><body>")
        try:
            for _ in range(800):
                h.wfile.write(chunk)
                sent["streamed"] += len(chunk)
        except OSError:
            pass
        h.close_connection = True

    routes = {"/declared": huge_declared, "/streamed": huge_streamed}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/declared", "/streamed"])
        settings = fast_settings(tmp_path, fulltext_max_bytes=1_000_000)
        db = ingest_feed(settings, server.url("/feed"))
        fetch_fulltext(db, settings, ["news"])
        assert set(statuses(db).values()) == {"too_large"}
        errors = [e for (e,) in db.conn.execute("SELECT error FROM page_fetches")]
    assert len(errors) == 2 and all("1,000,000-byte cap" in e for e in errors)
    # The download stopped near the cap, far short of 50 MB (socket buffers hold a few MB at most).
    assert sent["streamed"] < 20 * 1024 * 1024


def test_non_html_is_refused_and_mislabelled_html_is_sniffed(tmp_path: Path) -> None:
    routes = {
        "/report.pdf": html_route(b"%PDF-1.7\n" + b"0" * 5000, "application/pdf"),
        "/data.json": html_route(b'{"a": 1}', "application/json"),
        "/plain": html_route(article_page("Labelled plain"), "text/plain"),
        "/untyped": html_route(b"\x89PNG\r\n\x1a\n" + b"\0" * 2000, ""),
    }
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, list(routes))
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        fetch_fulltext(db, settings, ["news"])
        got = {u.rsplit("/", 1)[1]: s for u, s in statuses(db).items()}
    assert got == {"report.pdf": "not_html", "data.json": "not_html", "plain": "ok", "untyped": "not_html"}


def test_redirect_to_another_host_is_followed_under_that_hosts_rules(tmp_path: Path) -> None:
    other_routes = {"/robots.txt": html_route(b"User-agent: *\nDisallow: /closed/\n", "text/plain"),
                    "/story": html_route(article_page("Moved story")),
                    "/closed/story": html_route(article_page("Closed story"))}
    with serve(other_routes) as other:
        def to_other(path: str):  # type: ignore[no-untyped-def]
            def handler(h: BaseHTTPRequestHandler) -> None:
                # "localhost" is another host name than 127.0.0.1, on another port.
                send(h, 302, b"", {"Location": f"http://localhost:{other.port}{path}"})
            return handler
        routes = {"/r1": to_other("/story"), "/r2": to_other("/closed/story")}
        with serve(routes) as server:
            routes["/feed"] = feed_route(server, ["/r1", "/r2"])
            settings = fast_settings(tmp_path)
            db = ingest_feed(settings, server.url("/feed"))
            fetch_fulltext(db, settings, ["news"])
            st = statuses(db)
            r1 = _page_rows(db, server.url("/r1"))[0]
            origins = sorted(o for (o,) in db.conn.execute("SELECT origin FROM robots_txt"))
        assert st == {server.url("/r1"): "ok", server.url("/r2"): "robots"}
        assert r1[4] == f"http://localhost:{other.port}/story"
        assert other.hits("/closed/story") == [] and len(other.hits("/robots.txt")) == 1
        assert origins == [f"http://127.0.0.1:{server.port}", f"http://localhost:{other.port}"]


def test_paywall_and_consent_pages_are_recorded_not_stored(tmp_path: Path) -> None:
    paywall = (b"<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", "
               b"\"isAccessibleForFree\": false}</script></head><body><article><h1>Premium story</h1>"
               b"<p>The first paragraph of a story about bank capital rules is all you get to read here "
               b"before the wall comes down and asks for money.</p></article><div class='paywall'>"
               b"Subscribe to continue reading. Already a subscriber? Sign in.</div></body></html>")
    consent = (b"<html><head><title>Before you continue</title></head><body><div class='consent'>"
               b"<h1>We value your privacy</h1><p>We and our partners store and access information on your "
               b"device, such as cookies, to show you personalised ads and to measure them.</p>"
               b"<button>Accept all</button><button>Reject all</button><a href='/settings'>Manage privacy "
               b"settings</a></div></body></html>")
    routes = {"/pay": html_route(paywall), "/consent": html_route(consent),
              "/free": html_route(article_page("Free story"))}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/pay", "/consent", "/free"])
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        summary = fetch_fulltext(db, settings, ["news"])
        rows = {u.rsplit("/", 1)[1]: (s, t) for u, s, t in
                db.conn.execute("SELECT url, content_status, content_text FROM articles")}
    assert rows["pay"][0] == "paywall" and not rows["pay"][1]
    assert rows["consent"][0] == "consent" and not rows["consent"][1]
    assert rows["free"][0] == "ok"
    assert summary.statuses == {"paywall": 1, "consent": 1, "ok": 1}


def test_retry_uses_a_conditional_get_and_a_304_keeps_the_outcome(tmp_path: Path) -> None:
    stub = b"<html><body><p>Nothing much here.</p></body></html>"

    def etagged(h: BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, 304, b"", {"ETag": '"v1"'})
        else:
            send(h, 200, stub, {"Content-Type": "text/html", "ETag": '"v1"'})

    routes = {"/stub": etagged}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/stub"])
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        fetch_fulltext(db, settings, ["news"])
        fetch_fulltext(db, settings, ["news"], retry=True)
        hits = server.hits("/stub")
        rows = _page_rows(db, server.url("/stub"))
        assert list(statuses(db).values()) == ["empty"]
    assert "if-none-match" not in hits[0] and hits[1]["if-none-match"] == '"v1"'
    assert [r[0] for r in rows] == ["empty", "not_modified"]


def test_transient_failures_are_retried_then_given_up(tmp_path: Path) -> None:
    def broken(h: BaseHTTPRequestHandler) -> None:
        send(h, 500, b"oops", {"Content-Type": "text/plain"})

    routes = {"/b": broken}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/b"])
        settings = fast_settings(tmp_path, fulltext_max_attempts=2)
        db = ingest_feed(settings, server.url("/feed"))
        first = fetch_fulltext(db, settings, ["news"])
        second = fetch_fulltext(db, settings, ["news"])
        third = fetch_fulltext(db, settings, ["news"])
        assert list(statuses(db).values()) == ["failed"]
    assert first.statuses == {"retry": 1} and second.statuses == {"failed": 1} and third.candidates == 0


def test_feed_items_that_carry_the_article_are_not_fetched(tmp_path: Path) -> None:
    long_text = " ".join(PARAGRAPHS * 3)

    def feed(h: BaseHTTPRequestHandler) -> None:
        from tests.feedserver import rss
        send(h, 200, rss([{"guid": "x", "title": "Whole story in the feed", "link": "http://127.0.0.1:9/x",
                           "description": long_text}]), {"Content-Type": "application/rss+xml"})

    with serve({"/feed": feed}) as server:
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        from tracker.ingest.fulltext import adopt_feed_text
        adopted = adopt_feed_text(db.conn)
        summary = fetch_fulltext(db, settings, ["news"])
        row = db.conn.execute("SELECT content_status, content_source, content_length FROM articles").fetchone()
    assert len(adopted) == 1 and summary.candidates == 0
    assert row == ("feed", "feed", len(long_text))


def test_charset_without_declaration_is_guessed() -> None:
    text = ("Die Europäische Zentralbank hält die Zinsen stabil. Präsidentin Lagarde sagte, die Inflation "
            "nähere sich dem Ziel von zwei Prozent; Anleger erwarten weitere Schritte im Frühjahr. ") * 4
    page = f"<html><body><article><h1>Zinsentscheid</h1><p>{text}</p><p>{text}</p></article></body></html>"
    for codec in ("cp1252", "utf-8"):
        decoded, used = decode_html(page.encode(codec))
        assert "Europäische" in decoded and "Präsidentin" in decoded, (codec, used)
        extraction = extract_page(page.encode(codec), content_type="text/html")
        assert extraction.ok and "Frühjahr" in extraction.text
    # A declaration wins over guessing, from the header or from <meta>.
    latin = "<html><head><meta charset='iso-8859-1'></head><body>Zürich</body></html>".encode("latin-1")
    assert "Zürich" in decode_html(latin)[0]
    assert "Zürich" in decode_html("Zürich".encode("cp1252"), "windows-1252")[0]


def test_charset_without_declaration_end_to_end(tmp_path: Path) -> None:
    paragraphs = [p.replace("bank", "Bänk").replace("labour", "Arbeitsmärkte") for p in PARAGRAPHS]
    page = article_page("Währungshüter", paragraphs).replace(b"<meta charset='utf-8'>", b"")
    routes = {"/de": html_route(page.decode("utf-8").encode("cp1252"), "text/html")}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/de"])
        settings = fast_settings(tmp_path)
        db = ingest_feed(settings, server.url("/feed"))
        fetch_fulltext(db, settings, ["news"])
        text = db.conn.execute("SELECT content_text FROM articles").fetchone()[0]
    assert "Bänk" in text and "Arbeitsmärkte" in text


def test_retry_after_parsing_and_gate_holds() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 60) == 60.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    clock = [100.0]
    slept: list[float] = []
    gate = HostGate(2.0, sleep=lambda s: (slept.append(s), clock.__setitem__(0, clock[0] + s)),
                    clock=lambda: clock[0])
    with gate.turn("a"):
        pass
    with gate.turn("a"):
        pass
    gate.hold("b", 30.0)
    with gate.turn("b"):
        pass
    assert slept == [2.0, 30.0]
