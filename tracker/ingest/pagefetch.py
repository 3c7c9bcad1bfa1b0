"""Fetch one article page politely: one request at a time per host, spaced, within size and time limits.

Redirects are followed one hop at a time so that every hop is checked against its own host's
robots.txt and waits for its own host's turn. A page is read only when it is HTML; a
Retry-After is honoured. Failures are data (:class:`PageResult`), never exceptions.
"""

from __future__ import annotations

import email.utils
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import httpx

from tracker.base.settings import Settings
from tracker.ingest.fetch import _body_pieces, _Watchdog

#: Content types read as pages; anything else (PDF, images, feeds, JSON) is refused unread.
HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Statuses after which the host asked us to slow down.
BACKOFF_STATUSES = (429, 503)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass
class PageResult:
    """One page fetch: a body (``ok``), ``not_modified``, or why not (``failed``, ``robots``, ``deferred``)."""

    url: str
    status: str = "failed"
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    retry_after: float | None = None
    error_kind: str | None = None
    error: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    hops: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when an HTML body was received."""
        return self.status == "ok"


def host_of(url: str) -> str:
    """The host a politeness slot belongs to: ``host[:port]`` lower-cased."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


class HostGate:
    """Per-host turns: one request at a time per host, ``delay`` seconds after the last one ended.

    A host may also be held until a moment (Retry-After). Shared by every worker of a run,
    so a redirect into a host another worker is crawling still waits its turn.
    """

    def __init__(self, delay: float, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = delay
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._host_locks: dict[str, threading.Lock] = {}
        self._next: dict[str, float] = {}
        self._delays: dict[str, float] = {}

    def _host_lock(self, host: str) -> threading.Lock:
        with self._lock:
            return self._host_locks.setdefault(host, threading.Lock())

    def set_delay(self, host: str, seconds: float) -> None:
        """A longer spacing for one host (robots.txt Crawl-delay); never shorter than the default."""
        with self._lock:
            self._delays[host] = max(self.delay, seconds)

    def hold(self, host: str, seconds: float) -> None:
        """No request to ``host`` for ``seconds`` from now (Retry-After)."""
        with self._lock:
            self._next[host] = max(self._next.get(host, 0.0), self._clock() + seconds)

    def wait_needed(self, host: str) -> float:
        """Seconds until ``host`` may be asked again (0 when now)."""
        with self._lock:
            return max(0.0, self._next.get(host, 0.0) - self._clock())

    @contextmanager
    def turn(self, host: str) -> Iterator[None]:
        """Hold the host's slot for one request, after waiting for its spacing."""
        lock = self._host_lock(host)
        with lock:
            pause = self.wait_needed(host)
            if pause > 0:
                self._sleep(pause)
            try:
                yield
            finally:
                with self._lock:
                    spacing = self._delays.get(host, self.delay)
                    self._next[host] = max(self._next.get(host, 0.0), self._clock() + spacing)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def make_page_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client for pages: no automatic redirects (each hop is checked), the project's User-Agent."""
    timeout = httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                            write=settings.read_timeout, pool=settings.connect_timeout)
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        headers={
            "User-Agent": settings.http_user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        },
        transport=transport,
    )


def _html_verdict(content_type: str | None) -> bool | None:
    """True/False from a decisive Content-Type; None when the bytes must tell (none, text/plain)."""
    if not content_type:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in HTML_TYPES:
        return True
    # Servers that label everything text/plain or octet-stream: let the bytes decide.
    if kind in ("text/plain", "application/octet-stream", ""):
        return None
    return False


def looks_like_html(first: bytes) -> bool:
    """Whether the first bytes of a body are an HTML document."""
    head = first[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head


#: Bytes read before sniffing a body whose Content-Type does not say it is HTML.
SNIFF_BYTES = 512


#: Decides whether a URL may be fetched: (allowed, reason when not). Also told of a host's crawl delay.
Permission = Callable[[str], tuple[bool, str | None]]


def fetch_page(
    client: httpx.Client,
    url: str,
    settings: Settings,
    gate: HostGate,
    *,
    allowed: Permission | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> PageResult:
    """GET a page: every hop allowed by robots.txt and taken in its host's turn; HTML only, capped."""
    result = PageResult(url=url, started_at=time.time())
    current = url
    try:
        for _ in range(settings.max_redirects + 1):
            scheme = urlsplit(current).scheme.lower()
            if scheme not in ("http", "https"):
                result.error_kind, result.error = "bad_url", f"not an http(s) URL: {current[:200]}"
                return result
            if allowed is not None:
                ok, why = allowed(current)
                if not ok:
                    # An unreachable robots.txt passes (try later); a disallowing rule does not.
                    unreachable = (why or "").startswith("robots.txt unreachable")
                    result.status = "robots"
                    result.error_kind = "robots_unreachable" if unreachable else "robots"
                    result.error, result.final_url = why, current
                    return result
            result.hops.append(current)
            with gate.turn(host_of(current)):
                location = _one_hop(client, current, settings, result, etag=etag if current == url else None,
                                    last_modified=last_modified if current == url else None)
            if location is None:
                return result
            current = urljoin(current, location)
        result.error_kind = "too_many_redirects"
        result.error = f"more than {settings.max_redirects} redirects (redirect loop?)"
        return result
    finally:
        result.finished_at = time.time()


def _one_hop(client: httpx.Client, url: str, settings: Settings, result: PageResult, *,
             etag: str | None, last_modified: str | None) -> str | None:
    """One request; returns the redirect target, or None when ``result`` is final."""
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    elif last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.fulltext_timeout
    watchdog = _Watchdog(settings.fulltext_timeout)
    watchdog.start()
    result.final_url = url
    try:
        with client.stream("GET", url, headers=headers, extensions={"trace": watchdog.trace}) as response:
            watchdog.watch(response.extensions.get("network_stream"))
            result.http_status = response.status_code
            result.content_type = response.headers.get("content-type")
            result.etag = response.headers.get("etag")
            result.last_modified = response.headers.get("last-modified")
            status = response.status_code
            if status in REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    result.error_kind, result.error = "http_status", f"HTTP {status} without a Location"
                    return None
                return location
            if status == 304:
                result.status = "not_modified"
                result.etag, result.last_modified = result.etag or etag, result.last_modified or last_modified
                return None
            if status >= 400:
                result.error_kind = "http_status"
                result.error = f"HTTP {status} {response.reason_phrase}".strip()
                if status in BACKOFF_STATUSES:
                    result.retry_after = parse_retry_after(response.headers.get("retry-after"))
                return None
            if status >= 300 or status < 200:
                result.error_kind, result.error = "http_status", f"unexpected HTTP {status}"
                return None
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > settings.fulltext_max_bytes:
                result.error_kind = "too_large"
                result.error = f"page of {int(declared):,} bytes exceeds the {settings.fulltext_max_bytes:,}-byte cap"
                return None
            verdict = _html_verdict(result.content_type)
            if verdict is False:
                result.error_kind = "not_html"
                result.error = f"not an HTML page ({result.content_type})"
                return None
            chunks: list[bytes] = []
            size = 0
            for chunk in _body_pieces(response):
                size += len(chunk)
                if size > settings.fulltext_max_bytes:
                    result.error_kind = "too_large"
                    result.error = f"page exceeds the {settings.fulltext_max_bytes:,}-byte cap"
                    return None
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("wall-clock budget spent")
                chunks.append(chunk)
                if verdict is None and size >= SNIFF_BYTES:
                    verdict = looks_like_html(b"".join(chunks))
                    if not verdict:
                        break
            if verdict is None:
                verdict = looks_like_html(b"".join(chunks))
            if not verdict:
                result.error_kind = "not_html"
                result.error = f"not an HTML page ({result.content_type or 'no Content-Type'})"
                return None
            result.body = b"".join(chunks)
            result.status = "ok"
            return None
    except httpx.TimeoutException as exc:
        result.error_kind, result.error = "timeout", f"timed out ({type(exc).__name__})"
    except (httpx.DecodingError, zlib.error) as exc:
        result.error_kind, result.error = "decoding", f"cannot decode the page: {exc}"
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        result.error_kind, result.error = "bad_url", f"invalid URL: {exc}"
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        result.error_kind, result.error = "connection", f"{type(exc).__name__}: {exc or 'connection failed'}"
    except httpx.HTTPError as exc:
        result.error_kind, result.error = "http_error", f"{type(exc).__name__}: {exc}"
    finally:
        watchdog.cancel()
        if result.status == "failed" and watchdog.expired and result.error_kind in (
                "connection", "decoding", "http_error", "timeout"):
            result.error_kind = "timeout"
            result.error = f"page took longer than {settings.fulltext_timeout:g}s (slow server)"
    return None
