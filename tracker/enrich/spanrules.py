"""Repair the small model's NER spans, and find names it misses after descriptors.

Pure functions over spaCy tokens (no model). What they fix, measured on the
development half of the labelled set (eval/labels/ENTITIES.md):

- a leading "the" or job title swallowed into a span ("the Arizona Senate",
  "President Trump", "COO Winterhoff"): the labels, like a reader, name the entity
  without them;
- a country possessive in front of a name ("Britain's Labour", "Germany's Scalable
  Capital"): the name is kept alone;
- names right after a lower-case descriptor or a country possessive that NER did
  not tag at all ("fintech Chime", "battery maker CATL", "Germany's Scalable
  Capital");
- spans that cannot be names: no capital letter at all ("fed", "quantum
  computing"), or a single word that news text writes in lower case ("Wildfires",
  "Hedge").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection
from typing import TYPE_CHECKING

from tracker.enrich.textprep import is_common

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

#: Job titles dropped from the start of a PERSON span ("President Donald Trump").
PERSON_TITLES: frozenset[str] = frozenset(
    {
        "the", "president", "vice", "prime", "minister", "pm", "premier", "chancellor",
        "governor", "gov", "gov.", "senator", "sen", "sen.", "rep", "rep.", "representative",
        "secretary", "chair", "chairman", "chairwoman", "chairperson", "ceo", "cfo", "coo",
        "cto", "founder", "co-founder", "cofounder", "judge", "speaker", "mayor", "ambassador",
        "commissioner", "mr", "mr.", "ms", "ms.", "mrs", "mrs.", "dr", "dr.", "sir", "dame",
        "analyst", "economist", "strategist", "investor", "billionaire", "boss", "deputy",
        "former", "ex", "incoming", "outgoing", "acting", "interim", "lawmaker", "candidate",
        "ayatollah", "supreme", "leader",
    }
)
#: What may be dropped from the start of an ORG span: titles that never begin an
#: organisation's name ("COO Winterhoff", "the Arizona Senate").
ORG_LEADING: frozenset[str] = frozenset(
    {"the", "ceo", "cfo", "coo", "cto", "mr", "mr.", "ms", "ms.", "mrs", "mrs.", "dr", "dr.",
     "president", "prime", "minister", "chancellor", "senator", "sen.", "rep."}
)
#: Descriptors after which a capitalised word sequence is an organisation ("fintech Chime").
ORG_DESCRIPTORS: frozenset[str] = frozenset(
    {
        "maker", "makers", "giant", "firm", "company", "group", "startup", "start-up",
        "fintech", "lender", "bank", "insurer", "exchange", "broker", "brokerage", "retailer",
        "chipmaker", "automaker", "carmaker", "rival", "platform", "developer", "operator",
        "conglomerate", "miner", "producer", "manager", "airline", "regulator", "watchdog",
        "subsidiary", "unit", "parent", "owner", "chain", "outlet", "newspaper", "network",
        "agency", "provider", "supplier", "issuer", "fund", "processor",
        "builder", "designer", "manufacturer", "distributor", "publisher", "utility",
        "carrier", "telecom", "telco", "shipper", "lab", "labs", "studio", "app",
        "marketplace", "protocol", "stablecoin", "token", "bourse", "party", "outfit",
    }
)
#: Descriptors after which a capitalised word sequence is a person ("economist Jan Hatzius").
PERSON_DESCRIPTORS: frozenset[str] = frozenset(
    {
        "investor", "billionaire", "economist", "analyst", "strategist", "founder", "co-founder",
        "executive", "entrepreneur", "lawmaker", "senator", "spokesman", "spokeswoman",
        "spokesperson", "journalist", "reporter", "activist", "candidate", "politician",
        "trader", "banker", "chairman", "chairwoman", "ceo",
    }
)
#: Capitalised words that end a name sequence rather than extend it.
_STOP_WORDS: frozenset[str] = frozenset({"The", "A", "An", "In", "On", "At", "For", "And", "But"})
_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})


def _is_capitalised(text: str) -> bool:
    return text[:1].isupper() or (text[:1] == "$" and text[1:2].isupper())


def strip_leading(doc: Doc, start: int, end: int, label: str) -> int:
    """New start token of a span after dropping a leading "the" and job titles
    ("President Donald Trump" -> "Donald Trump"); the span keeps at least one token."""
    drop = PERSON_TITLES if label == "PERSON" else ORG_LEADING
    while end - start > 1 and doc[start].lower_ in drop:
        if not _is_capitalised(doc[start + 1].text) and doc[start + 1].text not in ("-", "&"):
            break
        start += 1
    return start


def split_possessive(doc: Doc, start: int, end: int) -> list[tuple[int, int]]:
    """Token ranges of a span cut at an inner possessive ("Britain's Labour" -> Britain, Labour)."""
    for i in range(start + 1, end - 1):
        if doc[i].text in _POSSESSIVES and _is_capitalised(doc[i + 1].text):
            return [(start, i), (i + 1, end)]
    return [(start, end)]


def is_junk(doc: Doc, start: int, end: int, common: Collection[str]) -> bool:
    """A span that cannot be a name: no capital letter at all, a last word in lower case,
    a military operation, or one common word."""
    text = doc[start:end].text
    if not any(ch.isupper() for ch in text):
        return True
    last = doc[end - 1]
    if end - start > 1 and last.is_alpha and last.is_lower:
        return True  # names end in a capitalised word: "European recruiters" is not one
    if doc[start].text == "Operation" and end - start > 1:
        return True  # a military operation is an event
    if end - start == 1:
        token = doc[start]
        return token.text[:1].isupper() and token.text[1:].islower() and is_common(token.lower_, common)
    return all(t.is_punct or (t.lower_ in common and not t.text.isupper()) for t in doc[start:end])


_DESCRIPTORS = ORG_DESCRIPTORS | PERSON_DESCRIPTORS
#: A lower-case word, or a word's possessive, right before a capital letter.
_BEFORE_CAPITAL = re.compile(r"(?<![\w'’-])([a-z][a-z-]*|\S+?['’]s?)\s+[A-Z$]")


def _triggers(text: str, places: Collection[str]) -> list[int]:
    """Offsets of descriptors and place possessives followed by a capital letter."""
    found = []
    for m in _BEFORE_CAPITAL.finditer(text):
        word = m.group(1)
        if word in _DESCRIPTORS or (
            word[-1] in "'’s" and re.sub(r"['’]s?$", "", word) in places
        ):
            found.append(m.start(1))
    return found


def descriptor_names(
    doc: Doc,
    places: Collection[str],
    common: Collection[str],
    text: str | None = None,
) -> list[tuple[int, int, str]]:
    """Capitalised sequences right after a lower-case descriptor ("fintech Chime") or a
    country possessive ("Germany's Scalable Capital"), as (start, end, label).

    ``text`` (the Doc's text) limits the token walk to the places where a descriptor
    or a place's possessive stands before a capital letter."""
    found: list[tuple[int, int, str]] = []
    n = len(doc)
    if text is not None:
        offsets = _triggers(text, places)
        if not offsets:
            return found
        from spacy.attrs import IDX

        token_starts = doc.to_array(IDX).tolist()
        todo = sorted({max(bisect_right(token_starts, o) - 1, 0) for o in offsets})
        # a possessive trigger points at the place word: the walk starts at its "'s"
        todo = sorted({j for i in todo for j in (i, i + 1) if j < n - 1})
    else:
        todo = list(range(n - 1))
    done = -1
    for i in todo:
        if i <= done:
            continue
        token = doc[i]
        label = None
        if token.text.islower():
            if token.lower_ in ORG_DESCRIPTORS:
                label = "ORG"
            elif token.lower_ in PERSON_DESCRIPTORS:
                label = "PERSON"
        elif token.text in _POSSESSIVES and i > 0 and doc[i - 1].text in places:
            label = "ORG"
        if label is None:
            continue
        j = i + 1
        while j < n and _is_capitalised(doc[j].text) and doc[j].text not in _STOP_WORDS and not (
            doc[j].is_sent_start and j > i + 1
        ):
            j += 1
        if j > i + 1 and not all(t.lower_ in common or t.lower_ in PERSON_TITLES for t in doc[i + 1 : j]):
            found.append((i + 1, j, label))
        done = j - 1
    return found


#: Last words of organisation names built on a place ("Arizona Senate", "Texas Instruments").
ORG_HEADS: frozenset[str] = frozenset(
    {"senate", "house", "assembly", "parliament", "congress", "court", "bank", "banks", "ministry",
     "government", "police", "army", "navy", "airlines", "airways", "air", "telecom", "energy",
     "power", "steel", "motors", "railways", "post", "times", "daily", "news", "instruments",
     "petroleum", "oil", "gas", "mobile", "university", "council", "commission", "party",
     "exchange", "stock", "fund", "holdings", "group", "guard", "authority", "agency", "fc",
     "electric", "insurance", "capital", "securities", "development", "trust"}
)


def looks_like_ticker(symbol: str, name: Span) -> bool:
    """An all-capital symbol after a short name that starts with its letter but is not the
    name's initials ("Heartflow (HTFL)"; not "Federal Bureau of Investigation (FBI)")."""
    letters = symbol.replace(".", "")
    if not (2 <= len(letters) <= 5 and letters.isalpha() and letters.isupper()):
        return False
    initials = "".join(t.text[0] for t in name if t.text[:1].isupper())
    return len(name) <= 3 and letters[0] == name.text[:1].upper() and letters != initials


def is_dateline(text: str, start: int, end: int) -> bool:
    """An all-capital word group opening a paragraph before a comma is a dateline
    ("ESSEN, Germany, March 12 (Reuters) -"), a place the wire puts first, not a name."""
    span = text[start:end]
    return (
        len(span) >= 3 and span.isupper() and text[end : end + 1] == ","
        and (start == 0 or text[start - 1] == "\n")
    )
