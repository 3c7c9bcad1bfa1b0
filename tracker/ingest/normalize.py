"""Pure normalisation: canonical URLs, UTC dates, HTML to text, hashes and title keys."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that identify a campaign or a reader, never the article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid",
        "cmpid", "cmp", "smid", "smtyp", "sref", "ref", "ref_src", "referrer", "src",
        "segmentid", "ftcamp", "mod", "ns", "wt.mc_id", "_hsenc", "_hsmi", "mkt_tok",
        "guccounter", "guce_referrer", "guce_referrer_sig", "ito", "partner", "rss",
        "feed", "feedtype", "output", "xtor", "at_medium", "at_campaign", "ocid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "__twitter", "_ga")

# Archive services that wrap the original URL in their own path.
_ARCHIVE_PATTERNS = [
    re.compile(
        r"^https?://(?:www\.)?archive\.(?:is|ph|today|li|vn|md|fo)/(?:newest/|oldest/|\d{4,14}/)?(https?://.+)$",
        re.I,
    ),
    re.compile(r"^https?://web\.archive\.org/web/[^/]*/(https?://.+)$", re.I),
    re.compile(r"^https?://webcache\.googleusercontent\.com/search\?q=cache:(https?://.+)$", re.I),
]

#: Dates before this are placeholders (1970 epochs, 0001-01-01), not publication times.
EARLIEST_PLAUSIBLE = datetime(1995, 1, 1, tzinfo=UTC)
#: Clock skew we tolerate between a publisher's pubDate and our fetch time.
FUTURE_TOLERANCE = timedelta(days=1)


def unwrap_archive_url(url: str) -> str:
    """Return the original URL inside an archive.is / Wayback / cache link, else ``url``."""
    for _ in range(3):  # archives of archives exist
        for pattern in _ARCHIVE_PATTERNS:
            match = pattern.match(url)
            if match:
                url = match.group(1)
                break
        else:
            return url
    return url


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """Canonical form of an article URL: unwrapped, lower-case host, no tracking or fragment.

    Idempotent: ``canonical_url(canonical_url(u)) == canonical_url(u)``.
    """
    if not url:
        return None
    url = url.strip()
    if not url:
        return None
    url = unwrap_archive_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return url
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    # Normalise percent-encoding so that equivalent paths compare equal.
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=~-._%") or "/"
    path = re.sub(r"/{2,}", "/", path)
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    query = urlencode(sorted(query_pairs), doseq=True)
    return urlunsplit((scheme, host, path, query, ""))


_DIGIT = re.compile(r"\d")
_SLUG_SEPARATORS = re.compile(r"[-_.+]+")
_PAGE_SUFFIX = re.compile(r"\.(?:html?|shtml|php|aspx?|jsp)$", re.I)
#: An undated, id-less last path segment needs this many words to be an article slug
#: ("bp-suspends-share-buyback"); fewer is a section or newsroom ("finance-and-economics").
MIN_SLUG_WORDS = 4


def identifies_article(url: str | None) -> bool:
    """Whether a canonical URL names one article rather than a page many items share.

    An article URL carries an id or a date (a digit anywhere in its path, or in its query:
    ``/content/3260bc45-...``, ``/2026/02/09/...``, ``?id=7``) or a slug of four or more words.
    A home page (``https://www.coindesk.com/``), a section (``/markets``) or a newsroom
    (``/newsroom``, ``/press-releases``) does not, so items linking there are not one story.
    """
    if not url:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    path = unquote(parts.path)
    if _DIGIT.search(path) or _DIGIT.search(parts.query):
        return True
    segments = [s for s in path.split("/") if s]
    if not segments:
        return False
    last = _PAGE_SUFFIX.sub("", segments[-1])
    if last.lower() in ("index", "default", "home") and len(segments) > 1:
        last = _PAGE_SUFFIX.sub("", segments[-2])
    return len([w for w in _SLUG_SEPARATORS.split(last) if w]) >= MIN_SLUG_WORDS


def struct_to_datetime(value: time.struct_time | None) -> datetime | None:
    """Convert feedparser's UTC ``*_parsed`` struct_time to an aware datetime, or None."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return None


def normalize_date(
    parsed: datetime | None, fetched_at: datetime
) -> tuple[datetime | None, str | None]:
    """Return ``(trusted UTC datetime or None, flag)``; flag is None, 'missing', 'absurd_past' or 'future'."""
    if parsed is None:
        return None, "missing"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    if parsed < EARLIEST_PLAUSIBLE:
        return None, "absurd_past"
    if parsed > fetched_at + FUTURE_TOLERANCE:
        return None, "future"
    return parsed, None


def iso_utc(value: datetime) -> str:
    """ISO 8601 UTC with a Z suffix, to the second."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr",
        "table", "blockquote", "section", "article", "header", "footer", "figure",
        "figcaption", "pre", "hr", "dd", "dt",
    }
)
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "head"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")


def clean_whitespace(text: str) -> str:
    """Collapse runs of spaces, keep paragraph breaks, drop control characters."""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text))
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    out = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def html_to_text(value: str | None) -> str:
    """Visible text of an HTML fragment (scripts and styles dropped), whitespace cleaned."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return clean_whitespace(value)
    parser = _TextExtractor()
    try:
        parser.feed(value)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # HTMLParser is lenient, but bad input must never crash ingest
        text = html.unescape(re.sub(r"<[^>]*>", " ", value))
    return clean_whitespace(text)


def content_hash(title: str, text: str, key: str | None = None) -> str:
    """sha256 of the normalised title and body: equal for the same story, however encoded.

    ``key`` is ``title_key(title)`` when the caller has it already.
    """
    basis = f"{(key if key is not None else title_key(title)) or ''}\n{' '.join(text.casefold().split())}"
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()


# " - Reuters", " | Financial Times": outlet names that aggregators append to titles.
# A closed list, because a generic "- Words" rule would eat real headline clauses.
OUTLET_SUFFIXES = (
    "reuters", "bloomberg", "bloomberg.com", "financial times", "ft", "ft.com", "cnbc",
    "the wall street journal", "wsj", "wall street journal", "ap", "ap news",
    "associated press", "yahoo finance", "marketwatch", "coindesk", "the new york times",
    "new york times", "nytimes.com", "bbc", "bbc news", "cnn", "barron's", "forbes",
    "fortune", "business insider", "the economist", "the guardian", "axios", "decrypt",
    "the block", "cointelegraph", "politico", "investing.com", "seeking alpha",
)
_SOURCE_SUFFIX = re.compile(
    r"\s+[-|–—:]\s+(?:" + "|".join(re.escape(s) for s in OUTLET_SUFFIXES) + r")\s*$", re.I
)


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"\w+")


def title_key(title: str | None) -> str | None:
    """Normalised title for duplicate checks: case, accents, punctuation and outlet suffix removed."""
    if not title:
        return None
    title = _SOURCE_SUFFIX.sub("", title.strip())
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", title.casefold()))
    words = _WORD.findall(folded)
    return " ".join(words) or None


def body_hash(body: bytes) -> str:
    """sha256 of raw bytes, to skip re-parsing an unchanged document."""
    return hashlib.sha256(body).hexdigest()
