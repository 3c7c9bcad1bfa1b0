"""An article page's main text: decode the bytes, extract with trafilatura, refuse paywalls and consent walls.

Pure functions of the page (bytes, declared charset, URL): no network, no database.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

#: Bump when this module's decisions change (decoding, the fallback rule, detectors), so the
#: version stored with every text says which code produced it.
EXTRACT_VERSION = 1

#: Below this many characters a page has no article we can use (an app shell that needs
#: JavaScript, an error stub, a gallery).
MIN_TEXT_CHARS = 150

#: Paywall and consent walls show a teaser at most; a page with more text than this is an
#: article whatever its boilerplate says ("Subscribe to our newsletter" sits under many articles).
WALL_MAX_CHARS = 1500

#: Precision mode now and then cuts an article to a stub; when it keeps less than this share of
#: what recall mode keeps, recall mode's text is used. Measured on the 130 pages of
#: ../shared/data/html-pages (README, "Full text"): kept snippets 93.2% -> 94.0%, same pages right.
RECALL_FALLBACK_RATIO = 0.5
#: Only a precision result shorter than this can be such a stub; longer ones skip the second pass.
RECALL_CHECK_CHARS = 3000


@dataclass(frozen=True)
class Extraction:
    """What a page yielded: ``ok`` with text, or why not (``paywall``, ``consent``, ``empty``)."""

    status: str
    text: str = ""
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when main text was found and may be stored."""
        return self.status == "ok"

    @property
    def sha256(self) -> str | None:
        """sha256 of the stored text (None when nothing is stored)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest() if self.ok else None


@lru_cache(maxsize=1)
def extractor_version() -> str:
    """``trafilatura-<version>+precision+recall-fallback+x<EXTRACT_VERSION>``, stored with each text."""
    import trafilatura

    return f"trafilatura-{trafilatura.__version__}+precision+recall-fallback+x{EXTRACT_VERSION}"


_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset=`` parameter of a Content-Type header, if it names a known codec."""
    if not content_type:
        return None
    match = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.IGNORECASE)
    return _codec(match.group(1)) if match else None


def decode_html(body: bytes, declared: str | None = None) -> tuple[str, str]:
    """Page bytes -> (text, codec used): BOM, then the HTTP charset, then ``<meta charset>``, then a guess.

    trafilatura's own decoding skips the declarations (strict UTF-8, else a statistical
    guess), which misreads declared single-byte pages; a page that declares nothing is
    decoded the same way trafilatura would (UTF-8 if valid, else charset_normalizer's guess).
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    match = _META_CHARSET.search(body[:8192])
    declarations: list[str] = []
    for raw in (declared, match.group(1).decode("ascii", "ignore") if match else None):
        codec = _codec(raw)
        if codec is not None:
            # Pages labelled latin-1 or ASCII are cp1252 in practice (browsers decode them so, per WHATWG).
            declarations.append("cp1252" if codec in ("latin_1", "iso8859-1", "ascii") else codec)
    for codec in [*declarations, "utf-8"]:
        try:
            return body.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue
    if declarations:  # declared but with a few bad bytes: the declaration still wins, as in a browser
        return body.decode(declarations[0], errors="replace"), declarations[0]
    from charset_normalizer import from_bytes

    sample = body if len(body) < 20000 else body[:10000] + body[-10000:]
    best = from_bytes(sample).best()
    guessed = _codec(best.encoding) if best is not None else None
    if guessed:
        try:
            return body.decode(guessed), guessed
        except UnicodeDecodeError:
            pass
    return body.decode("cp1252", errors="replace"), "cp1252"


# --- Walls -----------------------------------------------------------------------------------------

#: schema.org paywall markup (Google's "subscription and paywalled content" structured data)
#: and Open Graph's content tier: the publisher itself says the text is not free.
_NOT_FREE = re.compile(r"""["']?isAccessibleForFree["']?\s*[:=]\s*["']?(?:false|False|FALSE|no)\b""")
_LOCKED_TIER = re.compile(
    r"""<meta[^>]+(?:property|name)=["']article:content_tier["'][^>]+content=["'](locked|metered)["']"""
    r"""|<meta[^>]+content=["'](locked|metered)["'][^>]+(?:property|name)=["']article:content_tier["']""",
    re.IGNORECASE)
_PAYWALL_PHRASES = re.compile(
    r"subscribe (?:now )?to (?:continue|keep) reading|subscribe to read|to continue reading,? (?:please )?"
    r"(?:subscribe|sign in|log in)|this (?:article|story|content) is (?:only )?(?:for|available to) "
    r"(?:paid |premium )?subscribers|already a subscriber\?|become a (?:paid )?subscriber to|"
    r"you(?:'|’)ve (?:reached|used) (?:your|all your) (?:limit of )?free articles|for subscribers only|"
    r"subscribers? only content|unlock (?:this|the full) (?:article|story)|start your (?:free )?trial to "
    r"(?:continue|read)|jetzt abonnieren(?: und weiterlesen)?|weiterlesen mit|réservé aux abonnés",
    re.IGNORECASE)
_CONSENT_HOSTS = re.compile(r"^(?:consent|guce|privacy|cmp|gdpr)\.|^consent\w*\.", re.IGNORECASE)
_CONSENT_PHRASES = re.compile(
    r"we value your privacy|before you continue to|we and our (?:\d+ )?partners (?:use|store|process)|"
    r"(?:accept|reject) all cookies|manage (?:your )?(?:cookie|privacy) (?:settings|preferences|choices)|"
    r"consent to (?:the use of )?cookies|your privacy choices|cookies? (?:and|&) similar technologies|"
    r"this site uses cookies|wir und unsere partner|zustimmung zu cookies|nous et nos partenaires",
    re.IGNORECASE)


def detect_wall(html: str, text: str, url: str | None) -> tuple[str, str] | None:
    """(``paywall``|``consent``, reason) when the page is a wall rather than an article, else None.

    Only a page with little text can be a wall; on such a page a consent host or consent
    phrases, the publisher's own markup (schema.org ``isAccessibleForFree: false``, a
    locked or metered content tier) or paywall phrases say which.
    """
    host = urlsplit(url or "").hostname or ""
    if _CONSENT_HOSTS.search(host):
        return "consent", f"consent host {host}"
    if len(text) > WALL_MAX_CHARS:
        # Metered publishers mark pages "not free" and still serve the whole article (11 of
        # the 36 news pages in ../shared/data/html-pages do): the text decides, not the markup.
        # Whether a publisher's pages may be fetched at all is the feed's `fulltext` setting.
        return None
    head = html[:400_000]
    visible = _visible_text(head)
    consent = _CONSENT_PHRASES.search(text) or _CONSENT_PHRASES.search(visible)
    if consent:
        return "consent", f"consent wall ({consent.group(0)!r}) and {len(text)} characters of text"
    if _NOT_FREE.search(head):
        return "paywall", f"marked isAccessibleForFree: false and {len(text)} characters of text"
    tier = _LOCKED_TIER.search(head)
    if tier:
        return "paywall", (f"article:content_tier {(tier.group(1) or tier.group(2)).lower()} "
                           f"and {len(text)} characters of text")
    paywall = _PAYWALL_PHRASES.search(text) or _PAYWALL_PHRASES.search(visible)
    if paywall:
        return "paywall", f"paywall ({paywall.group(0)!r}) and {len(text)} characters of text"
    return None


def _visible_text(html: str) -> str:
    from tracker.ingest.normalize import html_to_text

    return html_to_text(html)


_NEEDS_JS = re.compile(r"enable javascript|javascript (?:is )?(?:required|disabled)|turn on javascript",
                       re.IGNORECASE)


def _trafilatura(html: str, url: str | None, **options: Any) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, config=_config(), include_comments=False,
                               output_format="txt", **options) or ""


@lru_cache(maxsize=1)
def _config() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    # trafilatura's timeout uses SIGALRM, which only works in the main thread; our fetch
    # workers enforce their own limits on the download, and extraction of a capped page is fast.
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def extract_text(html: str, url: str | None = None) -> str:
    """trafilatura's main text (precision mode, comments left out; recall mode when precision keeps a stub)."""
    precise = _trafilatura(html, url, favor_precision=True)
    if len(precise) < RECALL_CHECK_CHARS:
        recall = _trafilatura(html, url, favor_recall=True)
        if len(precise) < RECALL_FALLBACK_RATIO * len(recall):
            return recall.strip()
    return precise.strip()


def extract_page(body: bytes, *, url: str | None = None, content_type: str | None = None) -> Extraction:
    """Decode a page and return its main text, or why there is none (wall, empty)."""
    html, _ = decode_html(body, charset_from_content_type(content_type))
    text = extract_text(html, url)
    wall = detect_wall(html, text, url)
    if wall is not None:
        return Extraction(status=wall[0], reason=wall[1])
    if len(text) < MIN_TEXT_CHARS:
        why = "the page needs JavaScript" if _NEEDS_JS.search(html[:200_000]) else "no main text found"
        return Extraction(status="empty", reason=f"{why} ({len(text)} characters)")
    return Extraction(status="ok", text=text)
