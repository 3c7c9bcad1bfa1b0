"""Fetch one feed over HTTP (or a local file) with conditional GET, timeouts and a size cap.

Network failures become data (:class:`FetchResult` with ``status="failed"``), never exceptions.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import socket
import stat
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import tenacity

from tracker.base.settings import Settings


@dataclass
class FetchResult:
    """What one fetch returned: a body, a 304, or a failure with a readable reason."""

    url: str
    status: str  # "ok", "not_modified" or "failed"
    http_status: int | None = None
    final_url: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    error_kind: str | None = None
    error: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    #: The connection was reset or closed before the answer was complete (worth retrying).
    reset: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when a body was received."""
        return self.status == "ok"


def make_client(settings: Settings, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client with the project's timeouts, redirects and User-Agent."""
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout,
    )
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        max_redirects=settings.max_redirects,
        headers={
            "User-Agent": settings.user_agent,
            "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
        },
        transport=transport,
    )


class _Watchdog:
    """Shuts a fetch's sockets down once its wall-clock budget is spent.

    Read timeouts bound each read, not the response: a server that drips its headers,
    or a compressed body whose pieces decode to nothing, would hold a worker for as long
    as it likes. Shutting the socket down makes the blocked read fail at once. A kept-alive
    connection is only watched from its response headers on (httpcore reports new
    connections only), so a header drip on a reused connection is bounded by read timeouts.
    """

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        """Start the clock."""
        self._timer.start()

    def cancel(self) -> None:
        """Stop the clock: the fetch is over."""
        self._timer.cancel()

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore ``trace`` extension hook: watch each connection as soon as it is open."""
        if event == "connection.connect_tcp.complete":
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        """Watch a network stream's socket (streams without one are ignored)."""
        sock = stream.get_extra_info("socket") if stream is not None else None
        if not isinstance(sock, socket.socket):
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


#: Most bytes a compressed body is inflated into at a time. httpx inflates each network
#: read whole, and 64 KB of gzip can hold 64 MB, so a bomb would fill memory before the cap.
INFLATE_PIECE = 64 * 1024


def _inflate(chunks: Iterable[bytes], coding: str, piece: int = INFLATE_PIECE) -> Iterator[bytes]:
    """Inflate a gzip or deflate stream in pieces of at most ``piece`` bytes."""
    inflater: Any = None
    pending = b""
    for chunk in chunks:
        if inflater is None:
            pending += chunk
            if len(pending) < 2:
                continue
            if coding == "deflate":
                # "deflate" should be zlib-wrapped, but servers also send raw deflate (httpx accepts both).
                zlib_header = pending[0] & 0x0F == 8 and (pending[0] << 8 | pending[1]) % 31 == 0
                inflater = zlib.decompressobj(zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS)
            else:
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            chunk, pending = pending, b""
        data = chunk
        while True:
            out = inflater.decompress(data, piece)
            if out:
                yield out
            data = inflater.unconsumed_tail
            if not data and len(out) < piece:
                break
    if pending:
        raise zlib.error("compressed body too short")
    if inflater is not None and (tail := inflater.flush()):
        yield tail


def _body_pieces(response: httpx.Response) -> Iterator[bytes]:
    """The response body, decompressed in bounded pieces."""
    if response.is_stream_consumed:  # in-memory responses (local files) arrive already read
        return iter([response.content])
    coding = response.headers.get("content-encoding", "").strip().lower()
    if coding in ("", "identity"):
        return response.iter_raw()
    if coding in ("gzip", "x-gzip", "deflate"):
        return _inflate(response.iter_raw(), "gzip" if coding == "x-gzip" else coding)
    raise httpx.DecodingError(f"unsupported Content-Encoding {coding!r} (the tracker reads gzip and deflate)")


#: HTTP statuses worth another try after a pause: rate limited, temporarily unavailable.
RETRY_STATUSES = frozenset({429, 503})
#: A retry must leave at least this share of the wall-clock budget for its own attempt.
RETRY_BUDGET_SHARE = 0.75


class _Retry(Exception):
    """A failed attempt worth repeating; carries the attempt's result and the server's Retry-After."""

    def __init__(self, result: FetchResult, retry_after: float | None) -> None:
        super().__init__(result.error)
        self.result = result
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _retrying(settings: Settings) -> tenacity.Retrying:
    """The retry policy: a few attempts, exponential backoff with jitter, or the server's Retry-After;
    never a pause that would leave the next attempt too little of the fetch's wall-clock budget."""
    backoff = tenacity.wait_exponential_jitter(multiplier=settings.retry_wait, max=settings.retry_wait_max,
                                               jitter=settings.retry_wait)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retry) and exc.retry_after is not None:
            return exc.retry_after
        return float(backoff(state))

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(_Retry),
        stop=(tenacity.stop_after_attempt(max(1, settings.retry_attempts))
              | tenacity.stop_before_delay(settings.total_timeout * RETRY_BUDGET_SHARE)),
        wait=wait,
        reraise=True,
    )


def fetch_feed(
    client: httpx.Client,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET ``url`` conditionally (ETag first, else Last-Modified) within the size and time budgets.

    429 and 503 answers and connection resets are retried after a pause (the server's
    ``Retry-After`` when it gives one), as long as the pause leaves time within the
    fetch's wall-clock budget (``total_timeout``), which covers every attempt.
    """
    started = time.time()
    deadline = time.monotonic() + settings.total_timeout
    if urlsplit(url).scheme.lower() == "file":
        # httpx's client drops the scheme of host-less URLs, so local files have their own reader.
        result = fetch_local(url, settings, etag=etag, last_modified=last_modified, deadline=deadline)
        result.started_at = started
        result.finished_at = time.time()
        return result
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    elif last_modified:
        headers["If-Modified-Since"] = last_modified
    watchdog = _Watchdog(settings.total_timeout)
    watchdog.start()
    attempts = 0
    try:
        for attempt in _retrying(settings):
            with attempt:
                attempts += 1
                result = _get_once(client, url, settings, headers, watchdog, deadline)
                _raise_if_retryable(result, watchdog)
    except _Retry as exc:
        result = exc.result
        if attempts > 1:
            result.error = f"{result.error} (after {attempts} attempts)"
        elif exc.retry_after is not None and settings.retry_attempts > 1:
            result.error = (f"{result.error} (Retry-After {exc.retry_after:g}s is longer than the "
                            f"{settings.total_timeout:g}s fetch budget allows; not retried)")
    finally:
        watchdog.cancel()
    if result.etag is None and result.status == "not_modified":
        # A 304 may omit validators; keep the ones we sent so the next run sends them again.
        result.etag = etag
    if result.status == "not_modified":
        result.last_modified = result.last_modified or last_modified
    result.started_at = started
    result.finished_at = time.time()
    return result


def _raise_if_retryable(result: FetchResult, watchdog: _Watchdog) -> None:
    if result.status != "failed" or watchdog.expired:
        return
    if result.http_status in RETRY_STATUSES:
        raise _Retry(result, retry_after_seconds(result.headers.get("retry-after")))
    if result.error_kind == "connection" and result.reset:
        raise _Retry(result, None)


def _get_once(client: httpx.Client, url: str, settings: Settings, headers: dict[str, str],
              watchdog: _Watchdog, deadline: float) -> FetchResult:
    """One GET: a body, a 304 or a failure; never raises for network trouble."""
    result = FetchResult(url=url, status="failed")
    try:
        with client.stream("GET", url, headers=headers, extensions={"trace": watchdog.trace}) as response:
            watchdog.watch(response.extensions.get("network_stream"))
            result.http_status = response.status_code
            result.final_url = str(response.url)
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            result.etag = response.headers.get("etag")
            result.last_modified = response.headers.get("last-modified")
            result.content_type = response.headers.get("content-type")
            if response.status_code == 304:
                result.status = "not_modified"
                return result
            if response.status_code >= 400:
                result.error_kind = "http_status"
                result.error = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                return result
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > settings.max_bytes:
                result.error_kind = "too_large"
                result.error = f"body of {int(declared):,} bytes exceeds the {settings.max_bytes:,}-byte cap"
                return result
            chunks: list[bytes] = []
            size = 0
            # Pieces are decoded bytes, so the cap also stops gzip bombs.
            for chunk in _body_pieces(response):
                size += len(chunk)
                if size > settings.max_bytes:
                    result.error_kind = "too_large"
                    result.error = f"body exceeds the {settings.max_bytes:,}-byte cap (after decompression)"
                    return result
                if time.monotonic() > deadline:
                    result.error_kind = "timeout"
                    result.error = f"download took longer than {settings.total_timeout:g}s (slow server)"
                    return result
                chunks.append(chunk)
            result.body = b"".join(chunks)
            result.status = "ok"
            return result
    except httpx.TooManyRedirects:
        result.error_kind = "too_many_redirects"
        result.error = f"more than {settings.max_redirects} redirects (redirect loop?)"
    except httpx.TimeoutException as exc:
        result.error_kind = "timeout"
        result.error = f"timed out ({type(exc).__name__})"
    except (httpx.DecodingError, zlib.error) as exc:
        result.error_kind = "decoding"
        result.error = f"cannot decode the response body: {exc}"
    except httpx.UnsupportedProtocol as exc:
        result.error_kind = "bad_url"
        result.error = f"unsupported URL: {exc}"
    except httpx.InvalidURL as exc:
        result.error_kind = "bad_url"
        result.error = f"invalid URL: {exc}"
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        result.error_kind = "connection"
        result.error = f"{type(exc).__name__}: {exc or 'connection failed'}"
        # The server hung up (reset, or closed before answering): worth another try. A refused
        # or unresolvable connection is not.
        result.reset = not isinstance(exc, httpx.ConnectError) or _caused_by(exc, ConnectionResetError)
    except httpx.HTTPError as exc:
        result.error_kind = "http_error"
        result.error = f"{type(exc).__name__}: {exc}"
    if watchdog.expired and result.error_kind in ("connection", "decoding", "http_error"):
        # The watchdog cut the connection: the cause is the slow server, not the network.
        result.error_kind = "timeout"
        result.error = f"download took longer than {settings.total_timeout:g}s (slow server)"
    return result


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


#: Bytes read from a local file at a time (the size cap and the budget are checked between reads).
LOCAL_READ = 64 * 1024


def fetch_local(url: str, settings: Settings, *, etag: str | None = None, last_modified: str | None = None,
                deadline: float | None = None) -> FetchResult:
    """Read a ``file://`` feed like a web server would serve it: ETag, Last-Modified and 304,
    404 when missing, and the same size cap and wall-clock budget as HTTP.

    Only regular files are read: a FIFO would block forever and ``/dev/zero`` never ends,
    so both are failed fetches (``not_a_file``), as is a file over the cap (``too_large``).
    """
    result = FetchResult(url=url, status="failed", final_url=url)
    path = Path(unquote(urlsplit(url).path))
    body, problem = read_local_file(path, settings.max_bytes,
                                    time.monotonic() + settings.total_timeout if deadline is None else deadline,
                                    settings.total_timeout)
    if problem is not None:
        result.error_kind, result.error = problem
        if result.error_kind == "http_status":
            result.http_status = 404 if "no such file" in result.error else 403
        return result
    mtime = path.stat().st_mtime
    result.etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    result.last_modified = email.utils.formatdate(mtime, usegmt=True)
    is_xml = path.suffix.lower() in (".xml", ".rss", ".atom", ".rdf")
    result.content_type = "application/xml" if is_xml else "application/octet-stream"
    result.headers = {"etag": result.etag, "last-modified": result.last_modified, "content-type": result.content_type}
    since = None
    if last_modified and not etag:
        with suppress(TypeError, ValueError, IndexError):
            since = email.utils.parsedate_to_datetime(last_modified)
    if (etag and etag == result.etag) or (since is not None and int(mtime) <= since.timestamp()):
        result.status, result.http_status = "not_modified", 304
        return result
    result.status, result.http_status, result.body = "ok", 200, body
    return result


def read_local_file(path: Path, max_bytes: int, deadline: float,
                    budget: float) -> tuple[bytes, tuple[str, str] | None]:
    """(body, None), or (b"", (error_kind, error)) for a file that may not or cannot be read whole."""
    try:
        # O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return b"", ("http_status", f"HTTP 404 Not Found (no such file: {path})")
    except (IsADirectoryError, NotADirectoryError):
        return b"", ("not_a_file", f"{path} is not a regular file (a folder)")
    except OSError as exc:
        return b"", ("http_status", f"HTTP 403 Forbidden (cannot read {path}: {exc.strerror or exc})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = ("a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device" if stat.S_ISCHR(info.st_mode)
                    or stat.S_ISBLK(info.st_mode) else "a socket" if stat.S_ISSOCK(info.st_mode) else "a folder"
                    if stat.S_ISDIR(info.st_mode) else "not a regular file")
            return b"", ("not_a_file", f"{path} is not a regular file ({kind}); a local feed must be a file")
        if info.st_size > max_bytes:
            return b"", ("too_large", f"file of {info.st_size:,} bytes exceeds the {max_bytes:,}-byte cap")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, LOCAL_READ)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:  # the file grew while we read it
                return b"", ("too_large", f"file exceeds the {max_bytes:,}-byte cap")
            if time.monotonic() > deadline:
                return b"", ("timeout", f"reading took longer than {budget:g}s (slow disk or network share)")
            chunks.append(chunk)
        return b"".join(chunks), None
    except OSError as exc:
        return b"", ("io", f"cannot read {path}: {exc.strerror or exc}")
    finally:
        os.close(fd)
