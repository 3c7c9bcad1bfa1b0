"""Helpers for the full-text tests: a feed listing local pages, ingested into a fresh database."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from pathlib import Path

import sqlite_utils

from tests.feedserver import FeedServer, rss, send
from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.runner import ingest_feeds

ARTICLE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/markets'>Markets</a> <a href='/about'>About us</a></nav>"
    "<article><h1>{title}</h1>{paragraphs}</article>"
    "<footer>Copyright Example Ledger. All rights reserved. Contact the newsroom.</footer></body></html>"
)
PARAGRAPHS = [
    "The central bank held its policy rate steady on Wednesday and said it would keep reducing the "
    "size of its balance sheet at a slower pace from next month, citing tighter money markets.",
    "Officials noted that inflation had eased over the past year but remained above the two percent "
    "goal, while the labour market stayed solid and consumer spending held up better than expected.",
    "Several policymakers argued that further cuts could come later in the year if price pressures "
    "kept cooling, though others warned that tariffs might push goods prices higher again.",
    "Treasury yields fell after the decision and the dollar weakened against most major currencies, "
    "as traders added to bets on a rate cut before the end of the summer.",
]


def article_page(title: str, paragraphs: list[str] | None = None) -> bytes:
    """A small news page written for the tests: navigation, the article, a footer."""
    body = "".join(f"<p>{p}</p>" for p in (paragraphs or PARAGRAPHS))
    return ARTICLE.format(title=title, paragraphs=body).encode("utf-8")


def html_route(body: bytes, content_type: str = "text/html; charset=utf-8",
               headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A route answering 200 with these bytes."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, body, {"Content-Type": content_type, **(headers or {})})
    return handler


def feed_route(server: FeedServer, paths: list[str], titles: list[str] | None = None):  # type: ignore[no-untyped-def]
    """A route serving an RSS feed whose items link to ``paths`` on ``server`` (read at request time)."""
    def handler(h: BaseHTTPRequestHandler) -> None:
        items = [{"guid": f"item-{i}", "title": (titles or [])[i] if titles else f"Story number {i} about rates",
                  "link": p if p.startswith("http") else server.url(p), "description": f"Short summary {i}.",
                  "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"} for i, p in enumerate(paths)]
        send(h, 200, rss(items), {"Content-Type": "application/rss+xml"})
    return handler


def fast_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Settings with short limits and no politeness delay unless a test sets one."""
    base = Settings(db_path=tmp_path / "t.db", connect_timeout=2.0, read_timeout=1.0, total_timeout=5.0,
                    fulltext_min_delay=0.0, fulltext_timeout=3.0, fulltext_max_bytes=2_000_000,
                    fulltext_parallel_hosts=4, contact_url="https://example.org/contact")
    return base.with_overrides(**overrides)


def ingest_feed(settings: Settings, feed_url: str, name: str = "news") -> sqlite_utils.Database:
    """Open the database and ingest one feed that allows full text."""
    db = open_db(settings.db_path)
    summary = ingest_feeds(db, settings, [FeedConfig(name=name, url=feed_url, fulltext=True)])
    assert summary.feeds_failed == 0, summary.as_dict()
    return db


def statuses(db: sqlite_utils.Database) -> dict[str, str | None]:
    """Article link -> content_status."""
    return {url: status for url, status in db.conn.execute("SELECT url, content_status FROM articles")}
