"""Prepare an article's text for NER: invisible characters out, Title-Case headlines re-cased.

Two things in real feeds break a statistical tagger and cost nothing to undo:

- **Invisible and format characters.** Reuters' scraped paragraphs carry zero-width
  spaces and joiners (U+200B, U+200C, U+2060 ...) inside and before names
  ("Kaja\u200b Kallas", "\u200bJD Vance"); the tokenizer glues them to words and the
  NER then misses or splits names. Every character of Unicode category Cf (format:
  zero-width, joiners, bidi marks, BOM, soft hyphen) is removed, and unusual spaces
  (no-break, thin, ideographic ...) become plain spaces.
- **Title-Case headlines** ("Germany's Consumers Shrug Off Tariff Concerns as ...")
  capitalise common words, which the small model then tags as organisations. A
  headline is Title-Case when at least 60% of its words of three or more letters are
  capitalised and at least four are (the definition the evaluation set uses), and no
  word of four or more letters is in lower case except short function words. Such a
  headline is re-cased before NER: a capitalised word is lowered when the body writes
  it in lower case, or when it is not in the body at all and news text usually writes
  it in lower case (``models/common_words.txt``, built by ``scripts/build_casing.py``);
  it keeps its capital when the body capitalises it away from a sentence start, when
  it has capitals inside (``AI``, ``HyperLiquid``, ``I.C.E.``), or when it is a one-word
  gazetteer alias (``Fed``, ``Apple``). So "Fed’s Schmid Says Inflation Warrants
  Keeping Interest Rates Unchanged" is tagged as "Fed’s Schmid says inflation
  warrants keeping interest rates unchanged".

Offsets: the tracker stores the text as fetched, and every mention's ``start``/``end``
refer to that stored text. Re-casing keeps every character's position (a word whose
lower-case form has another length is left as it is), and removing format characters
is undone by :meth:`Prepared.to_original`, so a span with a zero-width character
inside ("Kaja\u200b Kallas") covers it, exactly as written.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

#: Spaces other than U+0020 that the tokenizer would keep inside tokens or as tokens.
_ODD_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_SPACE_TABLE = str.maketrans(dict.fromkeys(_ODD_SPACES, " "))
#: Every format character (category Cf) of the Basic Multilingual Plane and the tags block.
_FORMAT_CHARS = "".join(
    chr(c) for c in [*range(0x10000), *range(0xE0000, 0xE0080)] if unicodedata.category(chr(c)) == "Cf"
)
_FORMAT_SET = frozenset(_FORMAT_CHARS)


def _char_class(chars: str) -> str:
    """A regex character class of ``chars`` written as ranges (much faster to match than
    one alternative per character)."""
    codes = sorted(set(map(ord, chars)))
    parts: list[str] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        parts.append(f"\\U{start:08x}" if start == prev else f"\\U{start:08x}-\\U{prev:08x}")
        start = prev = code
    return "[" + "".join(parts) + "]"


_FORMAT_RE = re.compile(_char_class(_FORMAT_CHARS))
_ODD_RE = re.compile(_char_class(_FORMAT_CHARS + _ODD_SPACES))
_WORD = re.compile(r"[^\W\d_]+(?:[’'.][^\W\d_]+)*\.?")
_TITLE_WORD = re.compile(r"[^\W\d_]+")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
_SENTENCE_END = frozenset('.!?:;"“‘(\n')


@dataclass(frozen=True, slots=True)
class Prepared:
    """A text as given, the text to tag, and how to map offsets back."""

    original: str
    text: str
    #: for each character of ``text``, its offset in ``original`` (None: identical offsets).
    positions: tuple[int, ...] | None = None
    title_case: bool = False
    #: the cleaned text before headline re-casing (set when the headline was re-cased).
    cased: str | None = None

    def offset(self, i: int) -> int:
        """Offset in ``original`` of position ``i`` of ``text`` (a boundary: len maps to len)."""
        if self.positions is None:
            return i
        return self.positions[i] if i < len(self.positions) else len(self.original)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in ``original`` of the span ``text[start:end]``."""
        if self.positions is None or start >= end:
            return start, end
        return self.positions[start], self.positions[end - 1] + 1


#: Short words a Title-Case style may leave in lower case ("Carney to Visit China With ...").
_TITLE_LOWER_OK = frozenset(
    {"with", "from", "into", "over", "than", "that", "onto", "upon", "amid", "after", "about",
     "this", "their", "were", "have", "when", "what", "will", "your", "more", "says", "via",
     "versus", "past", "near", "like", "down", "under", "since", "while", "through"}
)


def is_title_case(title: str) -> bool:
    """At least 60% of the words of 3+ letters are capitalised and at least four are (the
    evaluation set's definition), and no other word of 4+ letters is in lower case:
    "Zorblax Capital Management bought bitcoin" is a sentence with a name in it."""
    words = [w for w in _TITLE_WORD.findall(title) if len(w) >= 3]
    if len(words) < 4:
        return False
    caps = sum(1 for w in words if w[0].isupper())
    if caps / len(words) < 0.6:
        return False
    return all(w in _TITLE_LOWER_OK for w in words if len(w) >= 4 and w.islower())


def clean(text: str) -> tuple[str, tuple[int, ...] | None]:
    """The text without format characters and with plain spaces, and the kept positions."""
    if text.isascii() or not _ODD_RE.search(text):  # the common case: offsets unchanged
        return text, None
    text = text.translate(_SPACE_TABLE)
    if not _FORMAT_RE.search(text):
        return text, None
    positions = tuple(i for i, ch in enumerate(text) if ch not in _FORMAT_SET)
    return _FORMAT_RE.sub("", text), positions


def recase_title(title: str, body: str, common: Collection[str], keep: Collection[str]) -> str:
    """The Title-Case ``title`` with its common words lowered (same length; see the module)."""
    body_lower = {w for w in _TITLE_WORD.findall(body) if w.islower()}
    body_capital = _capitalised_inside(body)
    out = []
    last = 0
    for m in _WORD.finditer(title):
        word = m.group()
        if not word[0].isupper() or word in keep:
            continue
        core = word.rstrip(".")
        if any(ch.isupper() for ch in core[1:]) or "." in core:
            continue  # acronyms and inner capitals: AI, I.C.E., HyperLiquid, McDonald
        base = re.split(r"[’']", core)[0]
        lower = base.lower()
        if base in body_capital or base in keep:
            continue
        if lower in body_lower or (is_common(lower, common) and base not in body_capital):
            new = lower + word[len(base):]
            if len(new) == len(word):
                out.append(title[last : m.start()])
                out.append(new)
                last = m.end()
    if not out:
        return title
    out.append(title[last:])
    return "".join(out)


#: Inflections tried when a word itself is too rare for the table ("Languishes" -> languish).
_INFLECTIONS = ("es", "s", "ed", "d", "ing")


def is_common(word: str, common: Collection[str]) -> bool:
    """Whether news writes ``word`` (lower case) in lower case, directly or as an inflection
    of a common word: rare verb forms in headlines ("Calms", "Languishes") are not names."""
    if word in common:
        return True
    return len(word) > 5 and any(
        word.endswith(suffix) and word[: -len(suffix)] in common for suffix in _INFLECTIONS
    )


def _capitalised_inside(body: str) -> set[str]:
    """Capitalised words of the body that do not start a sentence (names, as the body writes them)."""
    found = set()
    for m in _CAPITALISED.finditer(body):
        before = body[: m.start()].rstrip(" ")
        if before and before[-1] not in _SENTENCE_END:
            found.add(m.group())
    return found


def prepare(text: str, common: Collection[str] = (), keep: Collection[str] = ()) -> Prepared:
    """Clean a text and, if its headline is Title-Case, re-case the headline (see the module)."""
    cleaned, positions = clean(text)
    head, sep, body = cleaned.partition("\n")
    title_case = bool(common) and is_title_case(head)
    if title_case:
        recased = recase_title(head, body, common, keep)
        return Prepared(text, recased + sep + body, positions, True, cleaned)
    return Prepared(text, cleaned, positions, False)
