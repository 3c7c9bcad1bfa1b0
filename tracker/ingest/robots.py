"""robots.txt, fetched once per origin and cached (RFC 9309 semantics, parsed by Protego).

- 2xx: the rules apply to our product token (``NarrativeTracker``), with its Crawl-delay.
- 4xx (not 429): no robots.txt, everything allowed.
- 429, 5xx, network failure: the site is unreachable; everything is disallowed until a
  later run retries (an hour later, not the usual day).

The cache lives in memory during a run (shared by the worker threads) and in the
``robots_txt`` table between runs; only the calling thread writes it to SQLite.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from tracker.base.settings import Settings
from tracker.ingest.pagefetch import HostGate, host_of

#: The product token sites name in ``User-agent:`` lines to address this crawler.
ROBOTS_TOKEN = "NarrativeTracker"
#: Google reads the first 500 KiB of a robots.txt; so do we.
MAX_ROBOTS_BYTES = 500 * 1024
#: How long an unreachable robots.txt keeps a site disallowed before it is asked again.
UNREACHABLE_TTL = 3600.0
#: How an "unreachable robots.txt" refusal starts (a passing state, unlike a rule that disallows).
UNREACHABLE = "robots.txt unreachable"
#: A Crawl-delay longer than this is capped (a site asking for an hour per page would stall the run).
MAX_CRAWL_DELAY = 60.0


@dataclass
class RobotsEntry:
    """One origin's robots.txt as fetched: the rule kind and, for ``parse``, the text."""

    origin: str
    fetched_at: float
    expires_at: float
    rule: str  # "parse", "allow_all" or "disallow_all"
    http_status: int | None = None
    body: str | None = None
    error: str | None = None
    _parser: Any = None

    def parser(self) -> Any:
        """The Protego parser over the body (built once)."""
        if self._parser is None:
            from protego import Protego

            self._parser = Protego.parse(self.body or "")
        return self._parser

    def allows(self, url: str) -> bool:
        """Whether our product token may fetch ``url``."""
        if self.rule == "allow_all":
            return True
        if self.rule == "disallow_all":
            return False
        return bool(self.parser().can_fetch(url, ROBOTS_TOKEN))

    def crawl_delay(self) -> float | None:
        """The Crawl-delay (or Request-rate) addressed to us, in seconds, if any."""
        if self.rule != "parse":
            return None
        parser = self.parser()
        delay = parser.crawl_delay(ROBOTS_TOKEN)
        rate = parser.request_rate(ROBOTS_TOKEN)
        if rate is not None and rate.requests:
            delay = max(delay or 0.0, rate.seconds / rate.requests)
        return min(float(delay), MAX_CRAWL_DELAY) if delay else None


def origin_of(url: str) -> str:
    """``scheme://host[:port]``: robots.txt belongs to an origin."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{host_of(url)}"


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(iso: str) -> float:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


class RobotsCache:
    """Answers "may we fetch this URL?", fetching each origin's robots.txt at most once per TTL."""

    def __init__(self, client: httpx.Client, settings: Settings, gate: HostGate,
                 clock: Any = time.time) -> None:
        self.client = client
        self.settings = settings
        self.gate = gate
        self._clock = clock
        self._entries: dict[str, RobotsEntry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self._dirty: set[str] = set()

    def load(self, conn: sqlite3.Connection) -> None:
        """Read the cached entries from the database (expired ones are refetched on use)."""
        for origin, fetched, expires, status, rule, body, error in conn.execute(
                "SELECT origin, fetched_at, expires_at, http_status, rule, body, error FROM robots_txt"):
            self._entries[origin] = RobotsEntry(origin, _epoch(fetched), _epoch(expires), rule, status, body, error)

    def save(self, conn: sqlite3.Connection) -> int:
        """Write the entries fetched since the last save (inside the caller's transaction)."""
        with self._lock:
            dirty = [self._entries[o] for o in sorted(self._dirty)]
            self._dirty.clear()
        conn.executemany(
            "INSERT INTO robots_txt (origin, fetched_at, expires_at, http_status, rule, body, error) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(origin) DO UPDATE SET fetched_at = excluded.fetched_at, "
            "expires_at = excluded.expires_at, http_status = excluded.http_status, rule = excluded.rule, "
            "body = excluded.body, error = excluded.error",
            [(e.origin, _iso(e.fetched_at), _iso(e.expires_at), e.http_status, e.rule, e.body, e.error)
             for e in dirty])
        return len(dirty)

    def entry(self, url: str) -> RobotsEntry:
        """The (fresh) robots.txt entry for the URL's origin, fetched if missing or expired."""
        origin = origin_of(url)
        with self._lock:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:
            cached = self._entries.get(origin)
            if cached is not None and cached.expires_at > self._clock():
                return cached
            fresh = self._fetch(origin)
            with self._lock:
                self._entries[origin] = fresh
                self._dirty.add(origin)
            return fresh

    def allowed(self, url: str) -> tuple[bool, str | None]:
        """(allowed, reason when not); also sets the host's spacing to its Crawl-delay.

        A reason starting with :data:`UNREACHABLE` means the site could not be asked (try later).
        """
        entry = self.entry(url)
        delay = entry.crawl_delay()
        if delay:
            self.gate.set_delay(host_of(url), delay)
        if entry.allows(url):
            return True, None
        if entry.rule == "disallow_all":
            return False, f"{UNREACHABLE} of {entry.origin} ({entry.error}); not crawling it for now"
        return False, f"disallowed by {entry.origin}/robots.txt for {ROBOTS_TOKEN}"

    def _fetch(self, origin: str) -> RobotsEntry:
        now = self._clock()
        ttl = self.settings.robots_ttl_hours * 3600.0
        url = f"{origin}/robots.txt"
        try:
            with self.gate.turn(host_of(url)), self.client.stream(
                    "GET", url, follow_redirects=True,
                    timeout=httpx.Timeout(self.settings.connect_timeout)) as response:
                status = response.status_code
                if 200 <= status < 300:
                    body = b""
                    deadline = time.monotonic() + self.settings.fulltext_timeout
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) >= MAX_ROBOTS_BYTES:
                            body = body[:MAX_ROBOTS_BYTES]
                            break
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("robots.txt took too long")
                    text = body.decode("utf-8", errors="replace")
                    return RobotsEntry(origin, now, now + ttl, "parse", status, text)
                if 400 <= status < 500 and status != 429:
                    return RobotsEntry(origin, now, now + ttl, "allow_all", status)
                return RobotsEntry(origin, now, now + UNREACHABLE_TTL, "disallow_all", status,
                                   error=f"HTTP {status}")
        except httpx.HTTPError as exc:
            return RobotsEntry(origin, now, now + UNREACHABLE_TTL, "disallow_all", None,
                               error=f"{type(exc).__name__}: {exc}"[:300])
