"""Parse feed bytes with feedparser into normalised entries. Bad input becomes data, never a crash."""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import feedparser

from tracker.ingest.normalize import (
    canonical_url,
    clean_whitespace,
    content_hash,
    html_to_text,
    iso_utc,
    normalize_date,
    struct_to_datetime,
    title_key,
)

log = logging.getLogger(__name__)

#: Longest field we keep; absurd feeds carry megabytes in one element.
MAX_FIELD_CHARS = 100_000


@dataclass
class Entry:
    """One feed item, normalised and ready to store."""

    item_key: str
    guid: str | None
    url: str | None
    canonical_url: str | None
    title: str
    summary: str
    content_text: str
    author: str | None
    published_at: str | None
    published_raw: str | None
    date_flag: str | None
    day: str
    content_hash: str
    title_key: str | None
    language: str | None


@dataclass
class ParsedFeed:
    """Entries plus what the parser said about the document."""

    status: str  # "ok", "partial" (bozo but items recovered) or "failed"
    entries: list[Entry] = field(default_factory=list)
    title: str | None = None
    version: str | None = None
    updated: datetime | None = None
    language: str | None = None
    bozo: bool = False
    bozo_message: str | None = None
    error_kind: str | None = None
    error: str | None = None
    items_seen: int = 0
    raw_entries: list[Any] = field(default_factory=list, repr=False)


def _text(detail: Any, value: str | None) -> str:
    """Plain text of a feedparser field, honouring its declared type."""
    if not value:
        return ""
    kind = (detail or {}).get("type", "text/html") if isinstance(detail, dict) else "text/html"
    text = html_to_text(value) if "html" in kind else clean_whitespace(value)
    return text[:MAX_FIELD_CHARS]


def _entry_datetime(entry: Any) -> tuple[datetime | None, str | None]:
    for key in ("published", "updated", "created"):
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            return struct_to_datetime(parsed), entry.get(key)
        if entry.get(key):
            return None, entry.get(key)
    return None, None


_URL_JUNK = re.compile(r"[\x00-\x1f\x7f\u200b\ufeff]")


def normalize_entry(entry: Any, fetched_at: datetime, language: str | None) -> Entry | None:
    """Turn one feedparser entry into an :class:`Entry`; None when it has nothing to identify it."""
    title = _text(entry.get("title_detail"), entry.get("title"))
    summary = _text(entry.get("summary_detail"), entry.get("summary"))
    content_text = ""
    for content in entry.get("content") or []:
        text = _text(content, content.get("value"))
        if text and text != summary:
            content_text = text
            break
    # Browsers drop tabs, newlines and control characters from URLs; so do we.
    url = _URL_JUNK.sub("", entry.get("link") or "").strip()[:4000] or None
    canon = canonical_url(url)
    guid_raw = entry.get("id") or entry.get("guid")
    guid = clean_whitespace(str(guid_raw))[:2000] if guid_raw else None
    body = content_text or summary
    if not (title or body or guid or canon):
        return None
    tkey = title_key(title)
    chash = content_hash(title, body, tkey)
    parsed, raw = _entry_datetime(entry)
    published, flag = normalize_date(parsed, fetched_at)
    day = (published or fetched_at).strftime("%Y-%m-%d")
    return Entry(
        item_key=guid or canon or f"sha256:{chash}",
        guid=guid,
        url=url,
        canonical_url=canon,
        title=title,
        summary=summary,
        content_text=content_text,
        author=clean_whitespace(entry.get("author") or "")[:500] or None,
        published_at=iso_utc(published) if published else None,
        published_raw=clean_whitespace(raw or "")[:200] or None,
        date_flag=flag,
        day=day,
        content_hash=chash,
        title_key=tkey,
        language=clean_whitespace(entry.get("language") or language or "")[:35] or None,
    )


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    head = body[:2048].lstrip().lower()
    return bool(
        (content_type and "html" in content_type.lower())
        or head.startswith((b"<!doctype html", b"<html"))
        or b"<html" in head[:512]
    )


_ENTRY_OPEN = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)(?:\s[^<>]*)?>", re.I)
_ENTRY_EMPTY = re.compile(rb"<(?:[\w.-]+:)?(?:item|entry)(?:\s[^<>]*)?/>", re.I)
_ENTRY_CLOSE = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>", re.I)
_ROOT_CLOSE = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|rdf)\s*>[\s\x00]*$", re.I)


def cut_off_entries(body: bytes) -> int:
    """How many entries a truncated document leaves unclosed at its end (0 if it ends properly).

    The parser still returns such an entry with whatever came before the cut (a guid
    and title, half a summary); stored, it would shadow the whole item a later fetch brings.
    """
    if _ROOT_CLOSE.search(body[-256:]):
        return 0
    opened = len(_ENTRY_OPEN.findall(body)) - len(_ENTRY_EMPTY.findall(body))
    return max(0, opened - len(_ENTRY_CLOSE.findall(body)))


def trim_cut_character(body: bytes) -> bytes:
    """Drop an incomplete UTF-8 character at the very end of a cut-off download.

    Otherwise the strict decode fails and feedparser falls back to windows-1252 for the
    whole document, garbling every non-ASCII character the items before the cut hold.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(body) - 3:
            return body[: exc.start]
    return body


_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DOCTYPE_SUBSET = re.compile(rb"(<!DOCTYPE\b[^\[>]*)\[(.*?)\]\s*>", re.S | re.I)
#: Entity declarations that may stay: a name and a short value without references.
_FLAT_ENTITY = re.compile(rb'<!ENTITY\s+([A-Za-z_][\w.-]*)\s+(?:"(&#x?[0-9A-Fa-f]+;|[^&"%<]{0,32})"|'
                          rb"'(&#x?[0-9A-Fa-f]+;|[^&'%<]{0,32})')\s*>")


def defuse_doctype(body: bytes) -> bytes:
    """Keep only short, flat entity declarations in the DOCTYPE's internal subset.

    Nested entities (billion laughs), long ones used many times, parameter and external
    (XXE) entities are dropped, so references to them stay unexpanded text. feedparser
    has the same rule but only finds declarations at the start of a line: a DOCTYPE on
    the line of the XML declaration reached expat whole, which then expanded up to 100
    times the document's size in Python callbacks (400 KB in, 18 s and 280 MB).
    """
    first = _FIRST_ELEMENT.search(body)
    head_end = first.start() if first else len(body)
    match = _DOCTYPE_SUBSET.search(body, 0, head_end)
    if match is None:
        return body
    flat = [(name, dq or sq) for name, dq, sq in _FLAT_ENTITY.findall(match.group(2))]
    subset = b"".join(b'\n<!ENTITY %s "%s">' % (name, value) for name, value in flat)
    doctype = match.group(1) + (b"[" + subset + b"\n]>" if flat else b">")
    return body[: match.start()] + doctype + body[match.end():]


#: Longest author-like element text handed to feedparser (we keep 500 characters of it).
MAX_AUTHOR_CHARS = 1000
_AUTHOR_TEXT = re.compile(
    r"(<(?:[\w.-]+:)?(?:author|creator|managingeditor|webmaster|publisher)(?:\s[^<>]*)?>)"
    r"(\s*<!\[CDATA\[(?:[^\]]|\](?!\]>))*|[^<]*)", re.I)
_WIDE_CODECS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
    (b"<\x00", "utf-16-le"), (b"\x00<", "utf-16-be"),
)


def cap_author_fields(body: bytes, limit: int = MAX_AUTHOR_CHARS) -> bytes:
    """Shorten the text of author-like elements to ``limit`` characters before feedparser sees it.

    feedparser looks for an e-mail address in every author with a regex that backtracks
    quadratically: a 100 KB author took 40 s to parse, a megabyte one about an hour.
    """
    codec = next((name for prefix, name in _WIDE_CODECS if body.startswith(prefix)), "latin-1")
    try:
        # latin-1 maps bytes to characters one to one, so any ASCII-based encoding survives the round trip.
        text = body.decode(codec)
    except UnicodeDecodeError:
        return body

    def cap(match: re.Match[str]) -> str:
        content = match.group(2)
        if len(content) <= limit:
            return match.group(0)
        kept = content[:limit]
        if codec == "latin-1":
            kept = re.sub(r"[\xc0-\xff][\x80-\xbf]*$", "", kept)  # never split a UTF-8 character
        if not kept.lstrip().startswith("<![CDATA["):
            kept = re.sub(r"&[#\w]*$", "", kept)  # nor an entity reference
        return match.group(1) + kept

    capped = _AUTHOR_TEXT.sub(cap, text)
    return body if capped == text else capped.encode(codec)


#: feedparser complaints about HTTP metadata, not about the document's XML.
_BENIGN_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def parse_document(
    body: bytes,
    *,
    headers: dict[str, str] | None = None,
    url: str | None = None,
) -> ParsedFeed:
    """Run feedparser over the bytes; entries stay raw until :func:`normalize_entries`."""
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    if url and "content-location" not in response_headers:
        response_headers["content-location"] = url
    if response_headers and "content-type" not in response_headers:
        # feedparser flags any headers without a Content-Type as a bozo feed, which would mark
        # every replayed snapshot "partial"; application/xml leaves encoding to the document.
        response_headers["content-type"] = "application/xml"
    body = cap_author_fields(defuse_doctype(trim_cut_character(body)))
    try:
        doc = feedparser.parse(body, response_headers=response_headers, sanitize_html=True)
    except Exception as exc:  # feedparser promises not to raise; a bug there must not stop a run
        log.warning("feedparser raised on %s: %r", url, exc)
        return ParsedFeed(status="failed", error_kind="parse_error", error=f"parser crashed: {exc!r}")
    bozo = bool(doc.get("bozo"))
    problem = doc.get("bozo_exception")
    bozo_message = f"{type(problem).__name__}: {problem}"[:1000] if bozo and problem is not None else None
    feed_info = doc.get("feed", {})
    version = doc.get("version") or None
    raw_entries = list(doc.get("entries") or [])
    result = ParsedFeed(
        status="ok",
        title=_text(feed_info.get("title_detail"), feed_info.get("title")) or None,
        version=version,
        updated=struct_to_datetime(feed_info.get("updated_parsed")),
        language=feed_info.get("language") or None,
        bozo=bozo,
        bozo_message=bozo_message,
        items_seen=len(raw_entries),
        raw_entries=raw_entries,
    )
    if not raw_entries and not version:
        result.status = "failed"
        if not body.strip():
            result.error_kind, result.error = "empty", "empty response body"
        elif body.lstrip()[:1] == b"{" and b"jsonfeed.org/version" in body[:65536]:
            result.error_kind = "unsupported_format"
            result.error = "a JSON Feed: the feed parser (feedparser 6.0) reads RSS, Atom and RDF only"
        elif _looks_like_html(body, response_headers.get("content-type")):
            result.error_kind = "not_a_feed"
            result.error = "got an HTML page, not a feed (error page or wrong URL?)"
        else:
            result.error_kind = "parse_error"
            result.error = f"not a parseable feed ({bozo_message or 'no feed elements found'})"
    elif bozo and isinstance(problem, _BENIGN_BOZO):
        # The XML parsed whole; only the declared type or charset disagreed with the
        # document. Keep feedparser's complaint (bozo, bozo_message) without calling it malformed.
        pass
    elif bozo:
        result.status = "partial"
        result.error_kind = "malformed"
        cut = min(cut_off_entries(body), len(raw_entries))
        if cut:
            del raw_entries[-cut:]
        dropped = f", {cut} cut-off item(s) dropped" if cut else ""
        result.error = f"malformed feed, {len(raw_entries)} items recovered{dropped} ({bozo_message})"
    return result


def normalize_entries(
    parsed: ParsedFeed, fetched_at: datetime, known_guids: frozenset[str] | set[str] = frozenset()
) -> ParsedFeed:
    """Fill ``parsed.entries`` from its raw entries, judging dates against ``fetched_at``.

    Entries whose guid is in ``known_guids`` (already stored for this feed) are not
    normalised at all: feeds repeat most of their items every day.
    """
    seen: set[str] = set()
    parsed.entries = []
    for raw in parsed.raw_entries:
        guid_raw = raw.get("id") or raw.get("guid")
        if guid_raw and clean_whitespace(str(guid_raw))[:2000] in known_guids:
            continue
        entry = normalize_entry(raw, fetched_at, parsed.language)
        if entry is None or entry.item_key in seen:
            continue
        seen.add(entry.item_key)
        parsed.entries.append(entry)
    return parsed


def parse_feed(
    body: bytes,
    fetched_at: datetime,
    *,
    headers: dict[str, str] | None = None,
    url: str | None = None,
) -> ParsedFeed:
    """Parse feed bytes (with the response headers) into normalised, de-duplicated entries."""
    return normalize_entries(parse_document(body, headers=headers, url=url), fetched_at)
