"""Money and percent claims: find figures, parse them to numbers and units, attach them.

Pure functions over text and mentions (no model, no database).

Parsed values:
- ``kind`` is ``money`` or ``percent``.
- ``unit``: an ISO currency code (``USD``, ``EUR``, ...; a bare ``$`` is USD), or
  ``BTC``/``ETH`` for coin amounts; ``%`` for percent, ``pp`` for percentage
  points, ``bp`` for basis points.
- A single figure has ``value == low == high`` ("$1.2 trillion" -> 1.2e12 USD).
- A range has ``low`` and ``high`` and no ``value`` ("10-15%", "between 0.5% and
  0.6%", "$10 billion to $15 billion").
- A bound keeps ``value`` and one side: "more than $5 billion" -> low 5e9, high
  None; "up to 10%" -> low None, high 10.

Attachment (no parser needed, so it stays cheap): within the figure's sentence,
a possessive right before the figure wins ("Kraken's $20 billion IPO"); else the
nearest mention before it in the same clause (a person yields to an organisation
they are affiliated with for money figures); else a mention right after a short
"for/of/by/from/at" phrase ("a $2 billion stake in ... for Kraken"). Otherwise
the claim has no entity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.enrich.entities import Mention, TaggedText
    from tracker.enrich.gazetteer import Gazetteer

_NUM = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_SCALE = (
    r"(?:\s?(?i:trillion|billion|million|thousand|crores?|lakhs?|lacs?|tn|trn|tln|bn|bln|mn|mln|cr)"
    r"|(?i:k|b|m))(?![\w])"
)
_PREFIX = (
    r"(?:US\$|U\.S\.\s?\$|AU?\$|CA?\$|HK\$|S\$|NZ\$|R\$|\$|€|£|¥|₹|Rs\.?\s?|"
    r"(?:USD|EUR|GBP|JPY|CNY|RMB|CHF|AUD|CAD|HKD|INR)\s?)"
)
_SUFFIX = (
    r"(?:(?i:dollars?|euros?|pounds?(?:\s+sterling)?|yen|yuan|renminbi|rupees?|francs?|"
    r"bitcoins?|ether|cents?)|USD|EUR|GBP|JPY|CNY|RMB|CHF|INR|AUD|CAD|HKD|BTC|ETH)(?!\w)"
)
_PCT = (
    r"(?:%|\s?(?i:percent|per\s?cent|pct|percentage\s+points?|pp|basis\s+points?|bps?)(?!\w))"
)
_QUAL = (
    r"(?:(?P<q>(?i:more\s+than|less\s+than|fewer\s+than|over|above|under|below|at\s+least|"
    r"at\s+most|up\s+to|as\s+much\s+as|as\s+many\s+as|as\s+high\s+as|as\s+low\s+as|"
    r"nearly|almost|about|around|roughly|approximately|some))\s+)?"
)
_RANGE_SEP = r"(?:\s*[-–—]\s*|\s+(?P<to>to)\s+|\s+(?P<and>and)\s+)"
_START = r"(?<![\w.,$€£¥₹-])"

MONEY_RANGE_RE = re.compile(
    rf"{_START}(?P<btw>(?i:between)\s+)?(?P<c1>{_PREFIX})?(?P<n1>{_NUM})(?P<s1>{_SCALE})?"
    rf"{_RANGE_SEP}(?P<c2>{_PREFIX})?(?P<n2>{_NUM})(?P<s2>{_SCALE})?(?:\s*(?P<c3>{_SUFFIX}))?"
)
MONEY_PREFIX_RE = re.compile(
    rf"{_QUAL}(?<![\w$€£¥₹])(?P<c1>{_PREFIX})(?P<n1>{_NUM})(?P<s1>{_SCALE})?"
    rf"(?:\s*(?P<c3>{_SUFFIX}))?"
)
MONEY_SUFFIX_RE = re.compile(rf"{_QUAL}{_START}(?P<n1>{_NUM})(?P<s1>{_SCALE})?\s*(?P<c3>{_SUFFIX})")
PERCENT_RANGE_RE = re.compile(
    rf"{_START}(?P<btw>(?i:between)\s+)?(?P<n1>-?{_NUM})(?P<u1>{_PCT})?{_RANGE_SEP}"
    rf"(?P<n2>-?{_NUM})(?P<u2>{_PCT})"
)
PERCENT_RE = re.compile(
    rf"{_QUAL}(?<![\w.,\-−])(?P<n1>(?:(?<![\w)])[-−])?{_NUM})(?P<u1>{_PCT})"
)

SCALES: dict[str, float] = {
    "thousand": 1e3, "k": 1e3,
    "million": 1e6, "mn": 1e6, "mln": 1e6, "m": 1e6,
    "billion": 1e9, "bn": 1e9, "bln": 1e9, "b": 1e9,
    "trillion": 1e12, "tn": 1e12, "trn": 1e12, "tln": 1e12,
    "crore": 1e7, "crores": 1e7, "cr": 1e7,
    "lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5,
}
PREFIX_UNITS: dict[str, str] = {
    "$": "USD", "US$": "USD", "U.S.$": "USD", "A$": "AUD", "AU$": "AUD", "C$": "CAD",
    "CA$": "CAD", "HK$": "HKD", "S$": "SGD", "NZ$": "NZD", "R$": "BRL", "€": "EUR",
    "£": "GBP", "¥": "JPY", "₹": "INR", "RS": "INR", "RS.": "INR", "RMB": "CNY",
}
SUFFIX_UNITS: dict[str, str] = {
    "dollar": "USD", "euro": "EUR", "pound": "GBP", "pound sterling": "GBP", "yen": "JPY",
    "yuan": "CNY", "renminbi": "CNY", "rupee": "INR", "franc": "CHF", "bitcoin": "BTC",
    "ether": "ETH", "cent": "USD", "rmb": "CNY",
}
LOWER_BOUND = frozenset({"more than", "over", "above", "at least", "as high as"})
UPPER_BOUND = frozenset(
    {"less than", "fewer than", "under", "below", "at most", "up to", "as much as",
     "as many as", "as low as"}
)
#: Text between a mention and a later figure that ends the mention's clause.
_CLAUSE_BREAK = re.compile(r"[;:!?]|\s[-–—]\s|\b(?:but|while|whereas|although|though)\b", re.I)
_POSSESSIVE_GAP = re.compile(r"^['’]s?\s+$")
_FOLLOWING_GAP = re.compile(r"^[\s\w-]{0,40}?\b(?:for|of|by|from|at)\s+(?:the\s+)?$", re.I)
_WORD_NUMBERS = {
    "a": "1", "an": "1", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11",
    "twelve": "12", "fifteen": "15", "twenty": "20", "thirty": "30", "forty": "40",
    "fifty": "50", "hundred": "100", "half": "0.5",
}
_WORD_NUMBER_RE = re.compile(r"\b(" + "|".join(_WORD_NUMBERS) + r")\b(?:\s+a\b)?", re.I)


@dataclass(frozen=True, slots=True)
class ParsedFigure:
    """A figure's numbers and unit, without position or attachment."""

    kind: str
    value: float | None
    low: float | None
    high: float | None
    unit: str


@dataclass(frozen=True, slots=True)
class FoundFigure:
    """A parsed figure and where it is in the text."""

    figure: ParsedFigure
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Claim:
    """A figure attached (or not) to the entity it describes."""

    kind: str
    value: float | None
    low: float | None
    high: float | None
    unit: str
    text: str
    start: int
    end: int
    sentence_index: int
    entity_id: str | None
    subject: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape used by ``tracker analyze``."""
        return {
            "kind": self.kind,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "unit": self.unit,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "sentence": self.sentence_index,
            "entity": self.entity_id,
            "subject": self.subject,
        }


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def _scale(text: str | None) -> float:
    return SCALES[text.strip().lower()] if text else 1.0


def _prefix_unit(text: str | None) -> str | None:
    if not text:
        return None
    key = re.sub(r"\s+", "", text).upper()
    return PREFIX_UNITS.get(key, key if key.isalpha() and len(key) == 3 else None)


def _suffix_unit(text: str | None) -> str | None:
    if not text:
        return None
    if text.isupper():
        return "CNY" if text == "RMB" else text
    key = " ".join(text.lower().split())
    return SUFFIX_UNITS.get(key) or SUFFIX_UNITS.get(key.rstrip("s"))


def _percent_unit(text: str | None) -> str | None:
    if not text:
        return None
    key = " ".join(text.lower().split())
    if key.startswith(("basis", "bp")):
        return "bp"
    if key.startswith("percentage") or key == "pp":
        return "pp"
    return "%"


def _bounded(kind: str, x: float, unit: str, qualifier: str | None) -> ParsedFigure:
    q = " ".join(qualifier.lower().split()) if qualifier else ""
    if q in LOWER_BOUND:
        return ParsedFigure(kind, x, x, None, unit)
    if q in UPPER_BOUND:
        return ParsedFigure(kind, x, None, x, unit)
    return ParsedFigure(kind, x, x, x, unit)


def _money_range(m: re.Match[str], text: str) -> ParsedFigure | None:
    if m.group("and") and not m.group("btw"):
        return None
    c1, c2, c3 = m.group("c1"), m.group("c2"), m.group("c3")
    unit = _prefix_unit(c1) or _prefix_unit(c2) or _suffix_unit(c3)
    if unit is None or not (m.group("btw") or c1 or c3):
        return None
    if _is_change(text, m.start()):
        return None
    s1, s2 = m.group("s1"), m.group("s2")
    n1, n2 = _number(m.group("n1")), _number(m.group("n2"))
    if s1 is None and s2 is not None and n1 <= n2:
        s1 = s2  # "$10-15 billion": the scale applies to both ends
    cents = 0.01 if (c3 or "").lower().startswith("cent") else 1.0
    low, high = n1 * _scale(s1) * cents, n2 * _scale(s2) * cents
    if low > high:
        return None
    return ParsedFigure("money", None, low, high, unit)


def _percent_range(m: re.Match[str], text: str) -> ParsedFigure | None:
    if m.group("and") and not m.group("btw"):
        return None
    u1, u2 = _percent_unit(m.group("u1")), _percent_unit(m.group("u2"))
    if u2 is None or (u1 is not None and u1 != u2):
        return None
    if _is_change(text, m.start()):
        return None
    low, high = _number(m.group("n1")), _number(m.group("n2"))
    if low > high:
        return None
    return ParsedFigure("percent", None, low, high, u2)


def _is_change(text: str, start: int) -> bool:
    """'from $5bn to $7bn' and 'rose 2% to 3%' are a change between two figures, not a range."""
    before = text[max(0, start - 12) : start].lower()
    return before.rstrip().endswith("from")


def _money_single(m: re.Match[str]) -> ParsedFigure | None:
    c1 = m.groupdict().get("c1")
    c3 = m.group("c3")
    unit = _prefix_unit(c1) or _suffix_unit(c3)
    if unit is None:
        return None
    x = _number(m.group("n1")) * _scale(m.group("s1"))
    if not c1 and (c3 or "").lower().startswith("cent"):
        x /= 100
    return _bounded("money", x, unit, m.group("q"))


def _percent_single(m: re.Match[str]) -> ParsedFigure | None:
    unit = _percent_unit(m.group("u1"))
    if unit is None:
        return None
    return _bounded("percent", _number(m.group("n1")), unit, m.group("q"))


_HAS_DIGIT = re.compile(r"\d")
#: Every figure pattern needs one of these; a cheap pre-check before the full passes.
_TRIGGER = re.compile(
    r"[%$€£¥₹]|(?i:percent|per\s?cent|pct|bps?\b|basis|percentage|pp\b|dollar|euro|pound|"
    r"yen|yuan|renminbi|rupee|franc|bitcoin|ether|cent|rs\b|usd|eur|gbp|jpy|cny|rmb|chf|inr|"
    r"aud|cad|hkd|btc|eth)"
)
_Parser = Callable[[re.Match[str], str], ParsedFigure | None]
_PASSES: list[tuple[re.Pattern[str], _Parser]] = [
    (MONEY_RANGE_RE, _money_range),
    (PERCENT_RANGE_RE, _percent_range),
    (MONEY_PREFIX_RE, lambda m, _t: _money_single(m)),
    (MONEY_SUFFIX_RE, lambda m, _t: _money_single(m)),
    (PERCENT_RE, lambda m, _t: _percent_single(m)),
]


def _finite(figure: ParsedFigure) -> bool:
    return all(v is None or math.isfinite(v) for v in (figure.value, figure.low, figure.high))


_DIGITS = re.compile(r"\d[\d,.]*")
#: Characters a figure reaches before its first digit ("as much as between US$") and
#: after its last ("percentage points", "pounds sterling").
_REACH = 48


def _digit_windows(text: str) -> list[tuple[int, int]]:
    """Stretches of text around digits (merged when close) where a figure can be.

    The five patterns are slow to try at every position of a long text (an optional
    qualifier alternative at each one); every figure holds a digit, so they only need
    to run around digits. Lookbehinds still see the text before a window."""
    windows: list[tuple[int, int]] = []
    for m in _DIGITS.finditer(text):
        w0, w1 = max(0, m.start() - _REACH), min(len(text), m.end() + _REACH)
        if windows and w0 <= windows[-1][1]:
            windows[-1] = (windows[-1][0], w1)
        else:
            windows.append((w0, w1))
    return windows


def find_figures(text: str) -> list[FoundFigure]:
    """Every money/percent figure in a text, parsed, non-overlapping, in text order.

    Ranges are tried first so "10-15%" is one figure, not "10" and "15%".
    """
    found: list[FoundFigure] = []
    if not _HAS_DIGIT.search(text) or not _TRIGGER.search(text):
        return found  # most texts hold no figure: skip the five full passes
    taken: list[tuple[int, int]] = []
    windows = _digit_windows(text)
    for pattern, parse in _PASSES:
        for m in (m for w0, w1 in windows for m in pattern.finditer(text, w0, w1)):
            start, end = m.start(), m.end()
            if any(start < e and s < end for s, e in taken):
                continue
            figure = parse(m, text)
            if figure is None or not _finite(figure):
                continue  # a number too large for a float is no figure (Infinity is not JSON)
            span = text[start:end]
            stripped = span.rstrip()
            end -= len(span) - len(stripped)
            found.append(FoundFigure(figure, stripped, start, end))
            taken.append((start, end))
    found.sort(key=lambda f: f.start)
    return found


def parse_figure(text: str) -> ParsedFigure | None:
    """Parse one figure expression ("$1.2 trillion", "between 0.5% and 0.6%", "a billion
    dollars"); None if it holds no money or percent figure."""
    figures = find_figures(text) or find_figures(_words_to_digits(text))
    return figures[0].figure if figures else None


def _words_to_digits(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _WORD_NUMBERS[m.group(1).lower()]

    return _WORD_NUMBER_RE.sub(repl, text)


def attach(
    start: int,
    end: int,
    kind: str,
    text: str,
    mentions: Sequence[Mention],
    gazetteer: Gazetteer | None = None,
) -> Mention | None:
    """The mention (same sentence, passed in) that a figure at ``start:end`` describes."""
    before = [m for m in mentions if m.end <= start]
    if before:
        nearest = max(before, key=lambda m: m.end)
        gap = text[nearest.end : start]
        if _POSSESSIVE_GAP.match(gap):
            return nearest
        if not _CLAUSE_BREAK.search(gap):
            if kind == "money" and gazetteer is not None:
                return _employer(nearest, before, gazetteer) or nearest
            return nearest
    after = [m for m in mentions if m.start >= end]
    if after:
        nearest = min(after, key=lambda m: m.start)
        if _FOLLOWING_GAP.match(text[end : nearest.start]):
            return nearest
    return None


def _employer(person: Mention, candidates: Sequence[Mention], gazetteer: Gazetteer) -> Mention | None:
    """For money, a person's affiliated organisation mentioned in the same clause."""
    entity = gazetteer.get(person.entity_id) if person.entity_id else None
    if entity is None or not entity.affiliations:
        return None
    orgs = {a.org for a in entity.affiliations}
    for mention in sorted(candidates, key=lambda m: -m.end):
        if mention.entity_id in orgs:
            return mention
    return None


def extract_claims(tagged: TaggedText, gazetteer: Gazetteer | None = None) -> list[Claim]:
    """Claims for one tagged text: regex figures, plus NER MONEY/PERCENT spans they missed."""
    text = tagged.text
    found = find_figures(text)
    for fig in tagged.figures:
        if any(fig.start < f.end and f.start < fig.end for f in found):
            continue
        parsed = parse_figure(fig.text)
        if parsed is not None and _finite(parsed):
            found.append(FoundFigure(parsed, fig.text, fig.start, fig.end))
    found.sort(key=lambda f: f.start)
    claims = []
    for f in found:
        sentence = tagged.sentence_of(f.start)
        candidates = [
            m for m in tagged.mentions
            if m.sentence_index == sentence and (m.end <= f.start or m.start >= f.end)
        ]
        target = attach(f.start, f.end, f.figure.kind, text, candidates, gazetteer)
        claims.append(
            Claim(
                kind=f.figure.kind,
                value=f.figure.value,
                low=f.figure.low,
                high=f.figure.high,
                unit=f.figure.unit,
                text=f.text,
                start=f.start,
                end=f.end,
                sentence_index=sentence,
                entity_id=target.entity_id if target else None,
                subject=target.text if target else None,
            )
        )
    return claims
