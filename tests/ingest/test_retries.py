"""Retries against a local server: 429/503 and connection resets are tried again after a pause
(the server's Retry-After when given), always inside the fetch's wall-clock budget."""

from __future__ import annotations

import email.utils
import socket
import struct
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import sqlite_utils

from tests.feedserver import rss, send, serve
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.fetch import fetch_feed, make_client
from tracker.ingest.runner import ingest_feeds

Handler = Callable[[BaseHTTPRequestHandler], None]
BODY = rss([{"guid": "r1", "title": "Retried feed story on bond yields", "link": "http://r.example/1",
             "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"}])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "t.db", connect_timeout=1.0, read_timeout=1.0, total_timeout=8.0,
                    retry_attempts=3, retry_wait=0.2, retry_wait_max=0.5)


def ok(handler: BaseHTTPRequestHandler) -> None:
    send(handler, 200, BODY, {"Content-Type": "application/rss+xml"})


def reset(handler: BaseHTTPRequestHandler) -> None:
    # SO_LINGER 0 makes close() send a TCP RST: "connection reset by peer".
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()


def sequence(*handlers: Handler) -> tuple[Handler, list[float]]:
    """A route answering with each handler in turn (the last one repeats); records when each request came."""
    times: list[float] = []
    lock = threading.Lock()

    def route(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            times.append(time.monotonic())
            current = handlers[min(len(times), len(handlers)) - 1]
        current(handler)

    return route, times


def status(code: int, headers: dict[str, str] | None = None) -> Handler:
    return lambda h: send(h, code, b"busy", {"Content-Type": "text/plain", **(headers or {})})


@pytest.mark.parametrize("first", [status(503), status(429), reset], ids=["503", "429", "reset"])
def test_transient_failure_is_retried_and_the_fetch_succeeds(settings: Settings, first: Handler) -> None:
    route, times = sequence(first, ok)
    with serve({"/feed": route}) as srv, make_client(settings) as client:
        result = fetch_feed(client, srv.url("/feed"), settings)
    assert (result.status, result.http_status, result.body) == ("ok", 200, BODY)
    assert len(times) == 2
    assert times[1] - times[0] >= 0.2  # backed off


def test_retry_after_seconds_is_honoured(settings: Settings) -> None:
    route, times = sequence(status(429, {"Retry-After": "2"}), ok)
    with serve({"/feed": route}) as srv, make_client(settings) as client:
        result = fetch_feed(client, srv.url("/feed"), settings)
    assert result.status == "ok" and len(times) == 2
    assert times[1] - times[0] >= 1.9  # the server's pause, not our 0.2 s backoff


def test_retry_after_as_an_http_date_is_honoured(settings: Settings) -> None:
    when = email.utils.formatdate(time.time() + 3, usegmt=True)  # whole seconds: 2..3 s from now
    route, times = sequence(status(503, {"Retry-After": when}), ok)
    with serve({"/feed": route}) as srv, make_client(settings) as client:
        result = fetch_feed(client, srv.url("/feed"), settings)
    assert result.status == "ok" and len(times) == 2
    assert times[1] - times[0] >= 1.0


def test_retry_after_beyond_the_budget_fails_at_once_and_says_why(settings: Settings) -> None:
    route, times = sequence(status(503, {"Retry-After": "3600"}), ok)
    start = time.monotonic()
    with serve({"/feed": route}) as srv, make_client(settings) as client:
        result = fetch_feed(client, srv.url("/feed"), settings)
    assert time.monotonic() - start < 2.0
    assert len(times) == 1
    assert (result.status, result.http_status, result.error_kind) == ("failed", 503, "http_status")
    assert "Retry-After 3600s" in (result.error or "") and "not retried" in (result.error or "")


def test_persistent_failure_stops_after_the_attempts_within_the_budget(settings: Settings) -> None:
    route, times = sequence(status(503))
    start = time.monotonic()
    with serve({"/feed": route}) as srv, make_client(settings) as client:
        result = fetch_feed(client, srv.url("/feed"), settings)
    assert len(times) == 3 and time.monotonic() - start < settings.total_timeout
    assert result.status == "failed" and "after 3 attempts" in (result.error or "")


def test_retries_never_outlast_the_wall_clock_budget(settings: Settings) -> None:
    # Every answer asks for a 1 s pause; a 2.5 s budget leaves room for one retry at most.
    tight = settings.with_overrides(total_timeout=2.5, retry_attempts=10)
    route, times = sequence(status(429, {"Retry-After": "1"}))
    start = time.monotonic()
    with serve({"/feed": route}) as srv, make_client(tight) as client:
        result = fetch_feed(client, srv.url("/feed"), tight)
    elapsed = time.monotonic() - start
    assert result.status == "failed" and result.http_status == 429
    assert elapsed < tight.total_timeout and len(times) <= 2


@pytest.mark.parametrize("code", [404, 500, 403])
def test_other_failures_are_not_retried(settings: Settings, code: int) -> None:
    route, times = sequence(status(code), ok)
    with serve({"/feed": route}) as srv, make_client(settings) as client:
        result = fetch_feed(client, srv.url("/feed"), settings)
    assert result.status == "failed" and len(times) == 1


def test_a_refused_connection_is_not_retried(settings: Settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        start = time.monotonic()
        with make_client(settings) as client:
            result = fetch_feed(client, f"http://127.0.0.1:{port}/feed", settings)
    assert result.error_kind == "connection" and time.monotonic() - start < 0.5


def test_a_retried_feed_is_one_ok_fetch_row(db: sqlite_utils.Database, settings: Settings) -> None:
    route, _ = sequence(status(503), ok)
    with serve({"/feed": route}) as srv:
        summary = ingest_feeds(db, settings, [FeedConfig(name="r", url=srv.url("/feed"))])
    assert summary.feeds_failed == 0 and summary.articles_new == 1
    assert [row["status"] for row in db["fetches"].rows] == ["ok"]


def test_retry_after_parsing() -> None:
    from tracker.ingest.fetch import retry_after_seconds

    now = 1_800_000_000.0
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30)
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
