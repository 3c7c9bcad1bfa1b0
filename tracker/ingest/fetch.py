"""Fetch one feed over HTTP (or a local file) with conditional GET, timeouts and a size cap.

Network failures become data (:class:`FetchResult` with ``status="failed"``), never exceptions.
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import threading
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

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

    @property
    def ok(self) -> bool:
        """True when a body was received."""
        return self.status == "ok"


class FileTransport(httpx.BaseTransport):
    """Serve ``file://`` URLs like a web server, with ETag and Last-Modified, for offline feeds."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer a GET for a local file (404 when missing, 304 when unchanged)."""
        path = Path(unquote(urlsplit(str(request.url)).path))
        try:
            body = path.read_bytes()
            mtime = path.stat().st_mtime
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return httpx.Response(404, text=f"no such file: {path}", request=request)
        except OSError as exc:
            return httpx.Response(403, text=f"cannot read {path}: {exc}", request=request)
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        last_modified = email.utils.formatdate(mtime, usegmt=True)
        if request.headers.get("if-none-match") == etag:
            return httpx.Response(304, headers={"ETag": etag}, request=request)
        ims = request.headers.get("if-modified-since")
        if ims and "if-none-match" not in request.headers:
            parsed = email.utils.parsedate_to_datetime(ims) if ims else None
            if parsed is not None and int(mtime) <= parsed.timestamp():
                return httpx.Response(304, headers={"Last-Modified": last_modified}, request=request)
        is_xml = path.suffix.lower() in (".xml", ".rss", ".atom", ".rdf")
        content_type = "application/xml" if is_xml else "application/octet-stream"
        return httpx.Response(
            200,
            headers={"ETag": etag, "Last-Modified": last_modified, "Content-Type": content_type},
            content=body,
            request=request,
        )


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


def fetch_feed(
    client: httpx.Client,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """GET ``url`` conditionally (ETag first, else Last-Modified) within the size and time budgets."""
    result = FetchResult(url=url, status="failed", started_at=time.time())
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    elif last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + settings.total_timeout
    watchdog = _Watchdog(settings.total_timeout)
    watchdog.start()
    try:
        if urlsplit(url).scheme.lower() == "file":
            # httpx's client drops the scheme of host-less URLs, so local files skip it.
            request = httpx.Request("GET", url, headers=headers)
            opened: Any = nullcontext(FileTransport().handle_request(request))
        else:
            opened = client.stream("GET", url, headers=headers, extensions={"trace": watchdog.trace})
        with opened as response:
            watchdog.watch(response.extensions.get("network_stream"))
            result.http_status = response.status_code
            result.final_url = str(response.url)
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            result.etag = response.headers.get("etag")
            result.last_modified = response.headers.get("last-modified")
            result.content_type = response.headers.get("content-type")
            if response.status_code == 304:
                result.status = "not_modified"
                # A 304 may omit validators; keep the ones we sent so the next run sends them again.
                result.etag = result.etag or etag
                result.last_modified = result.last_modified or last_modified
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
    except httpx.HTTPError as exc:
        result.error_kind = "http_error"
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        watchdog.cancel()
        if result.status == "failed" and watchdog.expired and result.error_kind in (
                "connection", "decoding", "http_error"):
            # The watchdog cut the connection: the cause is the slow server, not the network.
            result.error_kind = "timeout"
            result.error = f"download took longer than {settings.total_timeout:g}s (slow server)"
        result.finished_at = time.time()
    return result
