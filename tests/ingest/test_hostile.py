"""Hostile feed content: entities, scripts, absurd sizes, control characters and SQL-looking text.

Every feed here is served over HTTP and ingested the normal way. What must hold:
nothing outside the document is read, nothing is amplified, stored text is inert
plain text within the size limits, and hostile strings are data, never code.
"""

from __future__ import annotations

import html
import re
import tracemalloc
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import markdown
import pytest
import sqlite_utils

from tests.feedserver import FeedServer, rss, send, serve
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.parse import MAX_FIELD_CHARS, cap_author_fields, parse_feed
from tracker.ingest.runner import ingest_feeds
from tracker.report.data import safe_url
from tracker.report.render import md_escape

SECRET = "TOKEN-7f3a91-NEVER-STORE-ME"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "t.db", connect_timeout=1.0, read_timeout=2.0, total_timeout=10.0,
                    max_bytes=20_000_000, concurrency=2)


def ingest_body(db: sqlite_utils.Database, settings: Settings, body: bytes) -> FeedServer:
    """Serve ``body`` at /feed and ingest it once."""
    with serve({"/feed": lambda h: send(h, 200, body, {"Content-Type": "application/rss+xml"})}) as srv:
        summary = ingest_feeds(db, settings, [FeedConfig(name="hostile", url=srv.url("/feed"))])
    assert len(summary.outcomes) == 1  # recorded, whatever the outcome
    return srv


def all_text(db: sqlite_utils.Database) -> str:
    """Every value of every table, as one string."""
    chunks = []
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'articles_fts_%'"):
        for row in db.execute(f"SELECT * FROM [{name}]"):
            chunks.extend(str(value) for value in row)
    return "\n".join(chunks)


def articles(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT * FROM articles ORDER BY id"))


# ---- external entities (XXE) ------------------------------------------------------------------


def xxe_documents(secret: Path, port_marker: str) -> dict[str, str]:
    uri = secret.as_uri()
    item = "<item><guid>urn:x1</guid><title>Leak &xxe; here</title><description>Body &xxe; end</description></item>"
    channel = f'<rss version="2.0"><channel><title>T</title>{item}</channel></rss>'
    return {
        "doctype_own_line": f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{uri}">\n]>\n{channel}',
        # feedparser only strips declarations found at the start of a line.
        "doctype_same_line": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{uri}">]>{channel}',
        "public_id": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe PUBLIC "-//x//y" "{uri}">]>{channel}',
        "remote_entity": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{port_marker}/secret">]>{channel}',
        "parameter_entity_dtd": (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % dtd SYSTEM "{port_marker}/evil.dtd">'
                                 f"%dtd;]>{channel}"),
        "external_dtd": f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{port_marker}/evil.dtd">{channel}',
    }


@pytest.mark.parametrize("variant", ["doctype_own_line", "doctype_same_line", "public_id", "remote_entity",
                                     "parameter_entity_dtd", "external_dtd"])
def test_external_entities_never_read_files_or_the_network(
    db: sqlite_utils.Database, settings: Settings, tmp_path: Path, variant: str
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    evil_dtd = f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">'.encode()
    # The server's port is only known once it runs, so the document is built inside the route.
    state: dict[str, FeedServer] = {}

    def feed(handler: BaseHTTPRequestHandler) -> None:
        doc = xxe_documents(secret, state["srv"].url(""))[variant]
        send(handler, 200, doc.encode(), {"Content-Type": "application/rss+xml"})

    routes = {"/feed": feed, "/evil.dtd": lambda h: send(h, 200, evil_dtd),
              "/secret": lambda h: send(h, 200, SECRET.encode())}
    with serve(routes) as srv:
        state["srv"] = srv
        ingest_feeds(db, settings, [FeedConfig(name="hostile", url=srv.url("/feed"))])
    assert [path for path, _ in srv.requests] == ["/feed"], "the parser fetched something the feed pointed at"
    assert SECRET not in all_text(db)
    [article] = articles(db)
    # The reference stays unexpanded text; the rest of the item is kept.
    assert article["title"].startswith("Leak") and article["title"].endswith("here")
    assert article["guid"] == "urn:x1"


# ---- entity expansion (billion laughs, quadratic blowup) ---------------------------------------


def laughs(levels: int = 9, padding: int = 0, same_line: bool = True) -> bytes:
    decls = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, levels + 1))
    sep = "" if same_line else "\n"
    pad = f"<!--{'p' * padding}-->" if padding else ""
    return (f'<?xml version="1.0"?>{sep}<!DOCTYPE rss [{sep}{decls}{sep}]>{sep}<rss version="2.0"><channel>'
            f"<title>t</title>{pad}<item><guid>b1</guid><title>Laugh &lol{levels};</title>"
            f"<description>x</description></item></channel></rss>").encode()


def quadratic(size: int = 100_000, uses: int = 20_000) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "{"A" * size}">]><rss version="2.0"><channel>'
            f"<title>t</title><item><guid>q1</guid><title>Q {'&a;' * uses}</title></item></channel></rss>").encode()


EXPANSIONS = {
    "billion_laughs_one_line": laughs(),
    "billion_laughs_multi_line": laughs(same_line=False),
    # Expat stops expansion at 100x the input, so padding the document buys the attacker room.
    "billion_laughs_padded": laughs(padding=400_000),
    "quadratic_blowup": quadratic(),
}


@pytest.mark.parametrize("case", list(EXPANSIONS))
def test_entity_expansion_is_not_amplified(case: str) -> None:
    body = EXPANSIONS[case]
    tracemalloc.start()
    try:
        parsed = parse_feed(body, datetime(2026, 11, 20, tzinfo=UTC))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Without the guard the padded case peaked near 280 MB (and took 18 s).
    assert peak < 20 * len(body) + 10_000_000, f"peak {peak:,} bytes for a {len(body):,}-byte document"
    [entry] = parsed.entries
    assert len(entry.title) <= MAX_FIELD_CHARS
    assert "lol" * 20 not in entry.title and "A" * 1000 not in entry.title


def test_billion_laughs_over_http_is_stored_unexpanded(db: sqlite_utils.Database, settings: Settings) -> None:
    ingest_body(db, settings, laughs(padding=100_000))
    [article] = articles(db)
    assert article["title"] == "Laugh &lol9;"
    assert len(all_text(db)) < 50_000


# ---- scripts and markup -------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
SCRIPT_ITEMS = [
    {"guid": "urn:s1", "title": f"{SCRIPT}Rates rise", "link": "http://e.example/1",
     "description": f"<p>Lead{SCRIPT}</p><img src=x onerror=alert(2)><iframe src=//evil></iframe>"},
    {"guid": "urn:s2", "title": "Click <a href=\"javascript:alert(3)\">here</a> now", "link": "javascript:alert(4)",
     "description": "<svg onload=alert(5)><style>body{}</style>After"},
]


def rendered_inert(text: str) -> bool:
    """True when the report's Markdown (escaped, then rendered) and an HTML-escaped cell hold no live markup."""
    as_markdown = markdown.markdown(md_escape(text))
    as_html = html.escape(text)  # what Jinja's autoescape and Datasette do to a cell
    return not re.search(r"<\s*(script|img|iframe|svg|a|b)\b", as_markdown + as_html, re.I)


def test_script_in_titles_is_text_and_stripped_from_html_fields(
    db: sqlite_utils.Database, settings: Settings
) -> None:
    cdata = rss(SCRIPT_ITEMS).replace(b"</channel>", (
        b"<item><guid>urn:s3</guid><title><![CDATA[<script>alert(6)</script>CDATA title]]></title>"
        b"<description><![CDATA[<b onmouseover=alert(7)>bold</b>]]></description></item></channel>"))
    ingest_body(db, settings, cdata)
    stored = {a["guid"]: a for a in articles(db)}
    # RSS titles are plain text: what the feed wrote is kept, angle brackets and all ...
    assert stored["urn:s1"]["title"] == f"{SCRIPT}Rates rise"
    # ... unless feedparser recognises HTML it allows, then the visible text is kept.
    assert stored["urn:s2"]["title"] == "Click here now"
    assert stored["urn:s3"]["title"] == "<script>alert(6)</script>CDATA title"
    # Descriptions are HTML: reduced to their visible text, scripts, handlers and styles gone.
    assert (stored["urn:s1"]["summary"], stored["urn:s3"]["summary"]) == ("Lead", "bold")
    # An unclosed <svg> hides what follows it; dropping text is the safe side of that.
    assert stored["urn:s2"]["summary"] in ("After", "")
    for article in stored.values():
        assert not re.search(r"<|on\w+\s*=|javascript:", article["summary"] + article["content_text"], re.I)
        assert rendered_inert(article["title"]) and rendered_inert(article["summary"])
    # A javascript: link may be stored as the feed gave it, but the report never makes it a link.
    assert safe_url(stored["urn:s2"]["url"]) is None


def test_text_typed_markup_is_kept_as_text_and_rendered_escaped(
    db: sqlite_utils.Database, settings: Settings
) -> None:
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>urn:a:1</id>'
            b'<title type="text">&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;Fed&lt;/b&gt;</title>'
            b'<summary type="text">Use &lt;img src=x onerror=alert(2)&gt; safely</summary>'
            b"<updated>2026-11-02T10:00:00Z</updated></entry></feed>")
    ingest_body(db, settings, atom)
    [article] = articles(db)
    # Plain text that happens to contain angle brackets is what the publisher wrote: keep it verbatim.
    assert article["title"] == f"{SCRIPT} <b>Fed</b>"
    assert article["summary"] == "Use <img src=x onerror=alert(2)> safely"
    assert rendered_inert(article["title"]) and rendered_inert(article["summary"])


# ---- absurd sizes ------------------------------------------------------------------------------


def test_megabyte_fields_are_truncated(db: sqlite_utils.Database, settings: Settings) -> None:
    huge = "word " * 400_000  # 2 MB
    body = (f'<rss version="2.0"><channel><title>{huge}</title><language>{"en" * 500_000}</language><item>'
            f"<guid>g{'1' * 1_000_000}</guid><title>{huge}</title><link>http://e.example/{'p' * 1_000_000}</link>"
            f"<author>{'a' * 1_000_000}</author><pubDate>Mon, 02 Nov 2026 {'9' * 1_000_000}</pubDate>"
            f"<description>{huge}</description><content:encoded xmlns:content=\"http://purl.org/rss/1.0/modules/"
            f"content/\">&lt;p&gt;Full text: {huge}&lt;/p&gt;</content:encoded></item></channel></rss>").encode()
    ingest_body(db, settings, body)
    [article] = articles(db)
    limits = {"title": MAX_FIELD_CHARS, "summary": MAX_FIELD_CHARS, "content_text": MAX_FIELD_CHARS,
              "guid": 2000, "item_key": 2000, "url": 4000, "author": 500, "published_raw": 200, "language": 35}
    for column, limit in limits.items():
        assert article[column] is not None and 0 < len(article[column]) <= limit, column
    assert len(article["canonical_url"]) <= 4100 and len(article["title_key"]) <= MAX_FIELD_CHARS
    [fetch] = db["fetches"].rows
    assert fetch["status"] in ("ok", "partial") and len(fetch["bozo_message"] or "") <= 1000


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_long_author_fields_are_capped_before_the_parser(encoding: str) -> None:
    # feedparser's e-mail regex is quadratic in an author's length (100 KB took 40 s).
    author = "\u00e9crivain " * 30_000
    doc = (f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0" '
           f'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title><managingEditor>{author}'
           f"</managingEditor><item><guid>urn:1</guid><title>x</title><author>{author}&amp;co</author>"
           f"<dc:creator><![CDATA[{author}]]></dc:creator></item></channel></rss>")
    body = doc.encode(encoding)
    capped = cap_author_fields(body)
    assert len(capped) < len(body) / 50
    # Cut on a character boundary, outside entity references, with CDATA closed.
    assert capped.decode(encoding).count("]]></dc:creator>") == 1
    parsed = parse_feed(body, datetime(2026, 11, 20, tzinfo=UTC))
    assert not parsed.bozo, parsed.bozo_message
    [entry] = parsed.entries
    assert entry.author is not None and entry.author.startswith("\u00e9crivain \u00e9crivain")
    assert len(entry.author) == 500


# ---- control characters ------------------------------------------------------------------------

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


@pytest.mark.parametrize("style", ["raw", "char_refs"])
def test_control_characters_are_removed(db: sqlite_utils.Database, settings: Settings, style: str) -> None:
    def c(code: int) -> str:
        return chr(code) if style == "raw" else f"&#{code};"

    body = (f'<rss version="2.0"><channel><title>T{c(1)}</title><language>en{c(2)}</language><item>'
            f"<guid>id{c(3)}-1</guid><title>Bank{c(4)} lifts{c(0x7f)} \u200bgold\ufeff forecast{c(0x1b)}[31m</title>"
            f"<link>http://e.example/a{c(5)}b\tc</link><author>desk{c(6)}</author>"
            f"<pubDate>Mon, 02 Nov 2026 10:00:00{c(7)} GMT</pubDate>"
            f"<description>Line{c(8)} one{c(0x0c)}\n\nLine two{c(0x1f)}</description></item></channel></rss>")
    ingest_body(db, settings, body.encode("utf-8"))
    [article] = articles(db)
    for column in ("guid", "item_key", "url", "canonical_url", "title", "summary", "content_text", "author",
                   "published_raw", "language", "title_key"):
        assert not CONTROL.search(article[column] or ""), (column, article[column])
    assert article["title"] == "Bank lifts gold forecast[31m"
    assert article["url"] == "http://e.example/abc"
    assert article["summary"].startswith("Line one") and article["summary"].endswith("Line two")


# ---- SQL-looking strings -----------------------------------------------------------------------

SQLISH = {
    "guid": "urn:x' OR '1'='1",
    "title": "Robert'); DROP TABLE articles;-- rally",
    "link": "http://e.example/?q=1';DROP%20TABLE%20feeds;--",
    "description": "1; UPDATE articles SET title = 'pwned'; DELETE FROM fetches WHERE 1=1; --",
    "author": '"; DROP TABLE runs; --',
}


def test_sql_looking_strings_are_stored_verbatim_and_tables_survive(
    db: sqlite_utils.Database, settings: Settings
) -> None:
    tables_before = db.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()
    body = rss([{**SQLISH, "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"},
                {"guid": "urn:plain", "title": "Ordinary second item stays put", "link": "http://e.example/2"}])
    body = body.replace(b"</item>", f"<author>{SQLISH['author']}</author></item>".encode(), 1)
    ingest_body(db, settings, body)
    assert db.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall() == tables_before
    stored = {a["guid"]: a for a in articles(db)}
    assert set(stored) == {SQLISH["guid"], "urn:plain"}
    hostile = stored[SQLISH["guid"]]
    assert (hostile["title"], hostile["summary"], hostile["author"]) == (
        SQLISH["title"], SQLISH["description"], SQLISH["author"])
    assert hostile["url"] == SQLISH["link"]
    assert db["fetches"].count == 1 and db["runs"].count == 1 and stored["urn:plain"]["title"] != "pwned"
    # Full-text search finds the hostile words as words.
    hits = db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", ['"DROP TABLE articles"']
                      ).fetchall()
    assert hits == [(hostile["id"],)]
