"""Entity mentions: gazetteer matches first, statistical NER for the rest, linked to ids.

Texts in, mentions out; no database. Per text: clean-up and headline re-casing
(:mod:`tracker.enrich.textprep`) -> tokenizer -> sentencizer -> spaCy NER, then
:class:`GazetteerMatcher` finds gazetteer aliases (each span carries its canonical
id, ambiguous aliases settled by the entries' context rules). Gazetteer spans win:
an NER span that overlaps one is dropped; the other NER spans are repaired
(:mod:`tracker.enrich.spanrules`: leading titles, country possessives, junk) and
linked by a normalised-alias lookup where possible (so "the Goldman Sachs Group
Inc." still links) or kept unlinked; capitalised names right after a descriptor
("fintech Chime") are added; a lone surname links to the person named in full
earlier in the same text. Offsets always refer to the text as given.

The matcher runs after NER rather than before it (as an EntityRuler would) for
speed: preset entities push spaCy's NER onto a slower path, measured at +35% of
its cost on real headlines, for practically the same result.

Mention labels: a linked mention's ``label`` is its gazetteer type
(``bank``, ``person``, ...); an unlinked mention's is the spaCy label
(``ORG``, ``PERSON``, ``GPE``, ...).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from tracker.enrich.gazetteer import PERSON_TYPES, GazEntity, Gazetteer, alias_key
from tracker.enrich.nlp import MODEL_PACKAGES, load_nlp, model_info
from tracker.enrich.spanrules import (
    ORG_HEADS,
    descriptor_names,
    is_dateline,
    is_junk,
    looks_like_ticker,
    split_possessive,
    strip_leading,
)
from tracker.enrich.textprep import Prepared, prepare

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span

#: spaCy labels kept as (possibly unlinked) mentions; MONEY/PERCENT feed claims instead.
MENTION_LABELS: frozenset[str] = frozenset(
    {"ORG", "PERSON", "GPE", "LOC", "NORP", "PRODUCT", "EVENT", "LAW", "FAC", "WORK_OF_ART"}
)
#: spaCy labels handed to claim parsing as candidate figures.
FIGURE_LABELS: frozenset[str] = frozenset({"MONEY", "PERCENT"})
#: Tokens absorbed after an organisation match ("Goldman Sachs Group Inc.").
CORPORATE_SUFFIXES: frozenset[str] = frozenset(
    {
        "inc", "inc.", "corp", "corp.", "corporation", "co", "co.", "company", "ltd", "ltd.",
        "limited", "plc", "group", "holdings", "sa", "ag", "nv", "se", "llc", "lp", "l.p.",
    }
)
#: Gazetteer types that are not organisations and so take no corporate suffix.
NON_ORG_TYPES: frozenset[str] = PERSON_TYPES | {
    "crypto_asset", "index", "market", "commodity", "currency", "commodity_benchmark",
    "place", "region", "ai_product",
}
#: (entity, listed as ambiguous alias?) for one surface form.
Candidate = tuple[GazEntity, bool]
_SUFFIX_RE = re.compile(
    r"(?:[\s,]+(?:" + "|".join(re.escape(s.rstrip(".")) for s in CORPORATE_SUFFIXES) + r")\.?)+$",
    re.IGNORECASE,
)
_POSSESSIVE_RE = re.compile(r"['’]s?$")
_TRAILING_JUNK = re.compile(r"^(?:['’]s?|Q[1-4]|H[12]|FY\d{0,4}|9M|[-–—,:;])$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Mention:
    """One entity mention; offsets are character offsets into the analysed text."""

    entity_id: str | None
    name: str
    label: str
    text: str
    start: int
    end: int
    sentence_index: int

    def to_dict(self) -> dict[str, Any]:
        """JSON shape used by ``tracker analyze``."""
        return {
            "id": self.entity_id,
            "name": self.name,
            "type": self.label,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "sentence": self.sentence_index,
        }


@dataclass(frozen=True, slots=True)
class Figure:
    """A MONEY or PERCENT span the statistical NER found (claims parse it)."""

    label: str
    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class TaggedText:
    """Everything entity tagging learned about one text."""

    text: str
    mentions: list[Mention]
    #: (start, end) character offsets of each sentence, in order.
    sentences: list[tuple[int, int]]
    figures: list[Figure]

    def sentence_of(self, char: int) -> int:
        """Index of the sentence containing a character offset."""
        return sentence_index([s for s, _ in self.sentences], char)


def sentence_index(starts: Sequence[int], char: int) -> int:
    """Index of the sentence (given sorted sentence starts) that contains ``char``."""
    return max(bisect_right(starts, char) - 1, 0)


def sentence_spans(doc: Doc, length: int | None = None) -> list[tuple[int, int]]:
    """Character (start, end) of each sentence, read from the sentence-start flags
    (cheaper than building ``doc.sents`` Span objects).

    ``length`` is ``len(doc.text)`` when the caller knows it: ``Doc.text`` re-joins
    every token on each access, which cost as much as the rest of tagging.
    """
    from spacy.attrs import SENT_START

    if length is None:
        length = len(doc.text)
    if len(doc) == 0:
        return [(0, length)]
    flags = doc.to_array(SENT_START).tolist()
    starts = [0] + [doc[i].idx for i in range(1, len(doc)) if flags[i] == 1]
    return list(zip(starts, [*starts[1:], length], strict=True))


def link_keys(text: str) -> list[str]:
    """Variants of an NER span to look up, most literal first: as written, then without
    a leading 'the', a possessive and corporate suffixes ("the Goldman Sachs Group Inc.")."""
    text = " ".join(text.strip().strip("\"“”‘’()[],;:").split())
    keys = [text]
    if text[:4].lower() == "the ":
        text = text[4:]
        keys.append(text)
    for pattern in (_POSSESSIVE_RE, _SUFFIX_RE):
        text = pattern.sub("", text).rstrip(" ,.")
        keys.append(text)
    return list(dict.fromkeys(k for k in keys if k))


def trim_span(span: Span) -> Span | None:
    """Drop trailing tokens the small model often swallows into an organisation
    ("Acme's", "Acme Q2", "Acme FY24"); None if nothing is left."""
    end = span.end
    while end > span.start and _TRAILING_JUNK.match(span.doc[end - 1].text):
        end -= 1
    if end == span.end:
        return span
    from spacy.tokens import Span

    return Span(span.doc, span.start, end, label=span.label) if end > span.start else None


def resolve(
    candidates: Sequence[Candidate],
    text: str,
    start: int,
    end: int,
    sentence: tuple[int, int],
    ner_confirmed: bool,
) -> GazEntity | None:
    """The entity a surface form at ``text[start:end]`` names, or None.

    Entries whose ``exclude`` rule matches drop out; an ambiguous alias whose entry's
    ``context`` matches wins; else a plain alias; else, if the NER tagged the span, an
    ambiguous alias of an entry without a context rule (its rule would have matched).
    """
    s0, s1 = sentence
    alive = [
        (e, amb) for e, amb in candidates
        if e.exclude is None or not e.exclude.matches(text, start, end, s0, s1)
    ]
    for entity, amb in alive:
        if amb and entity.context is not None and entity.context.matches(text, start, end, s0, s1):
            return entity
    for entity, amb in alive:
        if not amb:
            return entity
    if ner_confirmed:
        for entity, _amb in alive:
            if entity.context is None:
                return entity
    return None


class GazetteerMatcher:
    """Finds gazetteer aliases in a Doc as spans whose ``kb_id_`` is the canonical id.

    One-token aliases match by exact text, longer ones case-insensitively (see
    :mod:`tracker.enrich.gazetteer`); tickers match as cashtags (``$AAPL``); a place's
    one-word name also matches in capitals (datelines: "HELSINKI, March 5"). Several
    entries may share a surface form (context rules decide); overlapping matches keep
    the longest.
    """

    def __init__(
        self, nlp: Language, gazetteer: Gazetteer, common: Collection[str] = frozenset()
    ) -> None:
        """Compile phrase patterns for every surface form with the pipeline's tokenizer.

        A multi-word alias made only of ``common`` words ("Best Buy", "Public Storage")
        matches only as written, not in any case."""
        from spacy.matcher import PhraseMatcher

        self.gazetteer = gazetteer
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        for entity in gazetteer.entities:
            plain = list(entity.surface_forms) + [f"${t}" for t in entity.tickers]
            if entity.type == "place":
                plain += [f.upper() for f in entity.surface_forms if " " not in f and not f.isupper()]
            for forms, key in ((plain, entity.id), (entity.ambiguous_aliases, "?" + entity.id)):
                single: list[Doc] = []
                multi: list[Doc] = []
                for form in dict.fromkeys(forms):
                    doc = nlp.make_doc(form)
                    words = [t.lower_ for t in doc if t.is_alpha]
                    as_written = len(doc) == 1 or (bool(words) and all(w in common for w in words))
                    (single if as_written else multi).append(doc)
                if single:
                    self.exact.add(key, single)
                if multi:
                    self.lower.add(key, multi)
        self.strings = nlp.vocab.strings

    def __call__(
        self, doc: Doc, text: str | None = None, sentences: Sequence[tuple[int, int]] = ()
    ) -> list[Span]:
        """Gazetteer spans in the Doc, longest first on overlap, each with ``kb_id_`` set."""
        from spacy.tokens import Span
        from spacy.util import filter_spans

        matches = self.exact(doc) + self.lower(doc)
        if not matches:
            return []
        if text is None:
            text = doc.text
        if not sentences:
            sentences = [(0, len(text))]
        starts = [s for s, _ in sentences]
        grouped: dict[tuple[int, int], list[Candidate]] = {}
        for match_id, start, end in matches:
            key = self.strings[match_id]
            ambiguous = key.startswith("?")
            grouped.setdefault((start, end), []).append(
                (self.gazetteer.by_id[key.lstrip("?")], ambiguous)
            )
        spans = []
        for (start, end), candidates in grouped.items():
            c0 = doc[start].idx
            c1 = doc[end - 1].idx + len(doc[end - 1])
            sentence = sentences[sentence_index(starts, c0)]
            entity = resolve(candidates, text, c0, c1, sentence, ner_confirmed=False)
            if entity is None:
                continue
            if end - start > 1 and doc[start].lower_ == "the":
                start += 1  # "The Information" -> "Information": names are labelled without "the"
            if start > 0 and doc[start - 1].text == "$" and doc[start - 1].idx + 1 == doc[start].idx:
                start -= 1  # "$ADA": a cashtag is one name with its sign, as "$MELANIA"
            if entity.type not in NON_ORG_TYPES:
                while (
                    end < len(doc) and doc[end].lower_ in CORPORATE_SUFFIXES
                    and not (end + 1 < len(doc) and doc[end + 1].text in ("-", "–"))
                    and doc[end].idx == doc[end - 1].idx + len(doc[end - 1]) + 1
                ):
                    end += 1
            spans.append(Span(doc, start, end, label=entity.type, kb_id=entity.id))
        return sorted(filter_spans(spans), key=lambda span: span.start)


class EntityTagger:
    """spaCy NER plus the gazetteer: texts in, :class:`TaggedText` out, in order."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        nlp: Language | None = None,
        packages: tuple[str, ...] = MODEL_PACKAGES,
        common_words: frozenset[str] = frozenset(),
    ) -> None:
        """Build the matcher on the shared NER-only pipeline (loaded once per process).

        ``common_words`` (``models/common_words.txt``) switches on Title-Case headline
        re-casing and the common-word junk filter; without it neither runs.
        """
        self.gazetteer = gazetteer
        self.common = common_words
        self.nlp = nlp if nlp is not None else load_nlp(packages)
        meta = self.nlp.meta
        self.model_label = (
            f"{meta.get('name')}-{meta.get('version')}" if meta.get("name") else
            model_info(packages).label
        )
        self.matcher = GazetteerMatcher(self.nlp, gazetteer, common_words)
        # Same case rule as the matcher: one-token forms link only as written.
        self._exact: dict[str, list[Candidate]] = {}
        self._folded: dict[str, list[Candidate]] = {}
        keep: set[str] = set()
        places: set[str] = set()
        for entity in gazetteer.entities:
            forms = [(f, False) for f in entity.surface_forms]
            forms += [(f, True) for f in entity.ambiguous_aliases]
            for form, amb in forms:
                self._exact.setdefault(form, []).append((entity, amb))
                if len(self.nlp.make_doc(form)) > 1:
                    self._folded.setdefault(alias_key(form), []).append((entity, amb))
                elif form[:1].isupper() and not amb:
                    # An ambiguous alias ("Target", "Next") needs evidence: in a Title-Case
                    # headline the re-casing decides its case like any word's, so NER
                    # confirms it only where the summary or its rarity says it is a name.
                    keep.add(form)
                    if entity.type == "place":
                        places.add(form)
        #: one-word aliases a Title-Case headline keeps capitalised ("Fed", "Apple").
        self.keep = frozenset(keep)
        self.places = frozenset(places)

    def candidates(self, text: str, label: str | None = None) -> list[Candidate]:
        """Entries a span's text may name, through its normalised variants (see link_keys).

        With the NER ``label`` of the span, an ambiguous alias is a candidate only when
        the label fits the entry (a PERSON span "Martin" is not Martin Marietta)."""
        for key in link_keys(text):
            found = self._exact.get(key) or self._folded.get(alias_key(key))
            if found:
                if label is None:
                    return found
                return [(e, amb) for e, amb in found if not amb or _label_fits(label, e)]
        return []

    def link(self, text: str) -> str | None:
        """Canonical id for an NER span's text, or None if it names no gazetteer entity."""
        entity = resolve(self.candidates(text), text, 0, len(text), (0, len(text)), True)
        return entity.id if entity else None

    def prepare(self, text: str) -> Prepared:
        """The text cleaned and, for a Title-Case headline, re-cased (see textprep)."""
        return prepare(text[: self.nlp.max_length], self.common, self.keep)

    def docs(self, texts: Iterable[str], batch_size: int = 256) -> Iterator[Doc]:
        """Docs with sentences and NER entities, streamed in batches."""
        # spaCy refuses texts over max_length; tag the head of a giant text rather than
        # fail the whole batch (offsets stay valid because only the tail is cut).
        limit = self.nlp.max_length
        yield from self.nlp.pipe((t[:limit] for t in texts), batch_size=batch_size)

    def tag(self, texts: Iterable[str], batch_size: int = 256) -> list[TaggedText]:
        """Mentions (linked where possible), sentence offsets and NER figures for each text."""
        prepared = [self.prepare(t) for t in texts]
        docs = self.nlp.pipe((p.text for p in prepared), batch_size=batch_size)
        return [self.from_doc(doc, p) for doc, p in zip(docs, prepared, strict=True)]

    def from_doc(self, doc: Doc, text: str | Prepared | None = None) -> TaggedText:
        """Turn a Doc into gazetteer + NER mentions (in text order), sentences and figures.

        ``text`` is the string (or :class:`Prepared` text) the Doc was made from.
        """
        if text is None:
            text = doc.text
        prep = text if isinstance(text, Prepared) else Prepared(text, text)
        tagged = prep.text
        sentences = sentence_spans(doc, len(tagged))
        starts = [s for s, _ in sentences]
        gazetteer_spans = self._gazetteer_spans(doc, prep, sentences)
        figures: list[Figure] = []
        ner: list[Span] = []
        for ent in doc.ents:
            if ent.label_ in FIGURE_LABELS:
                o0, o1 = prep.to_original(ent.start_char, ent.end_char)
                figures.append(Figure(ent.label_, prep.original[o0:o1], o0, o1))
            elif ent.label_ in MENTION_LABELS:
                ner.append(ent)
        # An unknown name that contains a place ("Arizona Senate", "Texas Instruments
        # Foundation") is one name, not a place: the NER span wins over the place.
        for ent in ner:
            if ent.label_ in _NAME_LABELS:
                inside = [g for g in gazetteer_spans if ent.start <= g.start and g.end <= ent.end]
                if inside and len(ent) > max(len(g) for g in inside) and all(
                    g.label_ in _PLACE_TYPES for g in inside
                ) and not any(g for g in gazetteer_spans if g not in inside and
                              g.start < ent.end and ent.start < g.end):
                    gazetteer_spans = [g for g in gazetteer_spans if g not in inside]
        found: list[tuple[int, int, GazEntity | None, str]] = [
            (s.start, s.end, self.gazetteer.by_id[s.kb_id_], s.label_) for s in gazetteer_spans
        ]
        taken = [(s.start, s.end) for s in gazetteer_spans]
        not_entities = self.gazetteer.not_entities
        head_end = tagged.find("\n") if "\n" in tagged else len(tagged)
        for ent in ner:
            label = ent.label_
            if _overlaps(ent.start, ent.end, taken) or is_dateline(tagged, ent.start_char, ent.end_char):
                continue
            if tagged[ent.start_char] in _OPENING_QUOTES:
                continue  # "‘How Africa Works’": a quoted title is a work, not a name
            parts = _COMPOUND_SPLIT.split(ent.text)
            if len(parts) > 1 and all(p in self.places for p in parts):
                continue  # "U.S.-U.K.": places joined, not an organisation
            if prep.title_case and self._place_and_word(ent, tagged, head_end):
                continue
            span = trim_span(ent)
            if span is None:
                continue
            start = strip_leading(doc, span.start, span.end, label)
            for a, b in split_possessive(doc, start, span.end):
                part = doc[a:b]
                if alias_key(part.text) in not_entities:
                    continue
                c0, c1 = part.start_char, part.end_char
                sentence = sentences[sentence_index(starts, c0)]
                candidates = self.candidates(part.text, label)
                entity = resolve(candidates, tagged, c0, c1, sentence, True)
                if entity is None and _vetoed(candidates, tagged, c0, c1, sentence):
                    continue  # "Treasury yields": the entry's exclude rule says not a name here
                if entity is None and self.common and is_junk(doc, a, b, self.common):
                    continue
                found.append((a, b, entity, label))
        taken = [(a, b) for a, b, _, _ in found]
        for a, b, label in descriptor_names(doc, self.places, self.common, tagged):
            if not _overlaps(a, b, taken) and alias_key(doc[a:b].text) not in not_entities:
                candidates = self.candidates(doc[a:b].text, label)
                c0 = doc[a].idx
                entity = resolve(candidates, tagged, c0, doc[b - 1].idx + len(doc[b - 1]),
                                 sentences[sentence_index(starts, c0)], True)
                found.append((a, b, entity, label))
        found.sort(key=lambda f: f[0])
        found = _drop_parenthesised_tickers(doc, _link_names(doc, found))
        mentions = [self._mention(doc, prep, a, b, entity, label, starts) for a, b, entity, label in found]
        if prep.positions is not None:
            # sentence i ends where sentence i+1 starts, the last one at the end of the text
            bounds = [prep.offset(s) for s, _ in sentences] + [len(prep.original)]
            sentences = list(pairwise(bounds))
        return TaggedText(prep.original, mentions, sentences, figures)

    def _place_and_word(self, ent: Span, text: str, head_end: int) -> bool:
        """A Title-Case headline's "China Exults" / "Texas Wildcatter": a place and one word
        the body never writes as a name, unless the word heads organisation names."""
        if ent.end_char > head_end or len(ent) != 2 or ent[0].text not in self.places:
            return False
        word = ent[1].text
        return word.lower() not in ORG_HEADS and word not in text[head_end:]

    def _gazetteer_spans(
        self, doc: Doc, prep: Prepared, sentences: Sequence[tuple[int, int]]
    ) -> list[Span]:
        """Gazetteer matches, found in the text as written even where NER saw it re-cased
        (a Title-Case headline keeps "Best Buy" and "Fed" for the matcher)."""
        if not prep.title_case or prep.cased is None:
            return self.matcher(doc, prep.text, sentences)
        # Only the headline was re-cased: tokenize just it as written (the body is the
        # same in both texts, so its matches come from the Doc NER saw).
        head_end = prep.cased.find("\n")
        head_end = len(prep.cased) if head_end < 0 else head_end
        cased = self.nlp.make_doc(prep.cased[:head_end])
        spans = []
        for g in self.matcher(cased, prep.cased, sentences):
            span = doc.char_span(g.start_char, g.end_char, label=g.label_, kb_id=g.kb_id_,
                                 alignment_mode="expand")
            if span is not None:
                spans.append(span)
        if head_end < len(prep.cased):
            spans += [g for g in self.matcher(doc, prep.text, sentences) if g.start_char > head_end]
        return spans

    def _mention(
        self, doc: Doc, prep: Prepared, start: int, end: int, entity: GazEntity | None,
        label: str, starts: Sequence[int],
    ) -> Mention:
        c0 = doc[start].idx
        c1 = doc[end - 1].idx + len(doc[end - 1])
        o0, o1 = prep.to_original(c0, c1)
        surface = prep.original[o0:o1]
        return Mention(
            entity_id=entity.id if entity else None,
            name=entity.name if entity else surface,
            label=entity.type if entity else label,
            text=surface,
            start=o0,
            end=o1,
            sentence_index=sentence_index(starts, c0),
        )


_OPENING_QUOTES = frozenset("‘“\"'«")
_COMPOUND_SPLIT = re.compile(r"[-–/]")
#: NER labels of names (a place inside one is part of the name).
_NAME_LABELS = frozenset({"ORG", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT", "LAW"})
_PLACE_TYPES = frozenset({"place", "region"})
#: Which NER labels confirm an ambiguous alias of an entry of each coarse class.
_FITS = {
    "PERSON": {"PERSON"},
    "ORG": {"ORG", "PRODUCT", "FAC", "WORK_OF_ART", "NORP"},
    "ASSET": {"ORG", "PRODUCT", "PERSON", "NORP", "WORK_OF_ART", "GPE"},
    "PRODUCT": {"ORG", "PRODUCT", "PERSON", "WORK_OF_ART"},
    "PLACE": {"GPE", "LOC", "FAC", "NORP"},
    "CONCEPT": {"ORG", "PRODUCT", "NORP", "GPE", "LOC", "MONEY"},
}
Found = tuple[int, int, GazEntity | None, str]


def _vetoed(
    candidates: Sequence[Candidate], text: str, start: int, end: int, sentence: tuple[int, int]
) -> bool:
    """Whether a plain alias's entry rules this place out (its ``exclude`` rule matches)."""
    return any(
        not amb and e.exclude is not None and e.exclude.matches(text, start, end, *sentence)
        for e, amb in candidates
    )


def _label_fits(label: str, entity: GazEntity) -> bool:
    return label in _FITS.get(entity.cls, set())


def _overlaps(start: int, end: int, taken: Sequence[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in taken)


def _link_names(doc: Doc, found: list[Found]) -> list[Found]:
    """A lone unlinked name equal to the first or last word of a person linked in the same
    text is that person ("Jane Fraser ... Fraser said", "Viktor's a good man")."""
    names: dict[str, GazEntity] = {}
    for a, b, entity, _ in found:
        if entity is not None and entity.type in PERSON_TYPES and b - a > 1:
            names.setdefault(doc[b - 1].text, entity)
            names.setdefault(doc[a].text, entity)
    if not names:
        return found
    return [
        (a, b, names[doc[a].text], label)
        if entity is None and b - a == 1 and label in ("PERSON", "ORG") and doc[a].text in names
        else (a, b, entity, label)
        for a, b, entity, label in found
    ]


def _drop_parenthesised_tickers(doc: Doc, found: list[Found]) -> list[Found]:
    """A symbol in brackets right after its own name ("Polygon (POL)", "Heartflow (HTFL)",
    "BAT (BTI)") repeats the name; an acronym after an organisation's full name ("Federal
    Bureau of Investigation (FBI)", "Contemporary Amperex Technology Ltd (CATL)") is kept,
    as readers count it."""
    out: list[Found] = []
    for a, b, entity, label in found:
        bracketed = (
            out and a >= 1 and b < len(doc) and doc[a - 1].text == "(" and doc[b].text == ")"
            and out[-1][1] == a - 1
        )
        if bracketed:
            prev_a, prev_b, prev_entity, _ = out[-1]
            symbol = doc[a:b].text
            if entity is not None and out[-1][2] is entity and (
                entity.type == "crypto_asset" or symbol in entity.tickers
            ):
                continue
            if prev_entity is not None and symbol in prev_entity.tickers:
                continue
            if entity is None and b - a == 1 and looks_like_ticker(symbol, doc[prev_a:prev_b]):
                continue
        out.append((a, b, entity, label))
    return out
