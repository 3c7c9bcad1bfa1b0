"""Narrative definitions: load and validate ``models/narratives.yaml``, match lexicons.

A narrative is data (id, label, description, seed phrases, positive and negative
example sentences, lexicon, optional ``require`` groups and scoring overrides).
Every problem in the file raises :class:`~tracker.base.errors.ConfigError` naming the
file, the narrative and the fix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tracker.base.errors import ConfigError
from tracker.base.resources import model_file

NARRATIVES_FILE = "narratives.yaml"
_ID = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_HYPHENS = re.compile(r"[-\u2010-\u2015]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})

#: Defaults for the ``scoring`` section; a narrative may override any of them.
DEFAULT_SCORING: dict[str, float] = {
    "max_sentences": 6,
    "prototype_center": 0.55,
    "prototype_scale": 12.0,
    "lexicon_weight": 4.0,
    "negative_weight": 16.0,
    "require_penalty": 4.0,
    "threshold": 0.5,
    "evidence": 3,
}
_INT_SCORING = {"max_sentences", "evidence"}
_NARRATIVE_KEYS = {
    "guide",
    "id",
    "label",
    "description",
    "seeds",
    "positive_examples",
    "negative_examples",
    "lexicon",
    "require",
    "scoring",
    "stance_lexicon",
}
#: Words that flip a stance phrase when they come just before it ("no rate cut", "not a bubble").
_NEGATORS = frozenset({"no", "not", "never", "without", "nor", "against", "rules", "ruled", "rule"})
#: How many words before a stance phrase are searched for a negator.
_NEGATION_WINDOW = 3
_WORD = re.compile(r"[a-z']+")


def _fold(text: str) -> str:
    """Hyphens become spaces ("rate-cut" matches "rate cut"), curly quotes straight, runs of
    whitespace one space (so a term's literal is a substring of every text it matches)."""
    return " ".join(_HYPHENS.sub(" ", text.translate(_QUOTES)).split())


@dataclass(frozen=True)
class Term:
    """One lexicon term compiled to a regular expression."""

    text: str
    weight: float
    pattern: re.Pattern[str]
    #: Lowercase text every match must contain: a cheap test before the regex.
    literal: str = ""

    @classmethod
    def compile(cls, text: str, weight: float) -> Term:
        """Build the matcher: word boundaries, * suffix wildcard, case rule of the file."""
        term = _fold(text.strip())
        wildcard = term.endswith("*")
        core = term.rstrip("*").strip()
        words = [re.escape(w) for w in core.split()]
        body = r"\s+".join(words)
        if wildcard:
            body += r"\w*"
        # Letters and digits on the edge need a boundary; "A.I." ends in a dot and must not.
        start = r"(?<!\w)" if core[:1].isalnum() else ""
        end = r"(?!\w)" if (wildcard or core[-1:].isalnum()) else ""
        flags = 0 if any(c.isupper() for c in core) else re.IGNORECASE
        pattern = re.compile(start + body + end, flags)
        literal = " ".join(core.lower().split())
        return cls(text=text, weight=weight, pattern=pattern, literal=literal)


@dataclass(frozen=True)
class Lexicon:
    """Weighted terms; :meth:`matches` counts each term at most once per text."""

    terms: tuple[Term, ...] = ()

    def matches(self, text: str) -> dict[str, float]:
        """The terms found in ``text`` with their weights."""
        folded = _fold(text)
        lower = folded.lower()
        return {
            t.text: t.weight
            for t in self.terms
            if t.literal in lower and t.pattern.search(folded)
        }

    def score(self, text: str) -> float:
        """Sum of the weights of the distinct terms found in ``text``."""
        return float(sum(self.matches(text).values()))

    def split_score(self, text: str) -> tuple[float, float]:
        """(sum of positive weights, sum of absolute negative weights) found in ``text``."""
        weights = self.matches(text).values()
        return float(sum(w for w in weights if w > 0)), float(-sum(w for w in weights if w < 0))


def _negated(folded: str, start: int) -> bool:
    words = _WORD.findall(folded[:start].lower())[-_NEGATION_WINDOW:]
    return any(w in _NEGATORS or w.endswith("n't") for w in words)


@dataclass(frozen=True)
class StanceLexicon:
    """Direction phrases of a narrative: ``positive`` (+1 side) and ``negative`` (-1 side)."""

    positive: Lexicon = field(default_factory=Lexicon)
    negative: Lexicon = field(default_factory=Lexicon)

    def counts(self, text: str) -> tuple[float, float]:
        """(phrases pointing +, phrases pointing -) in ``text``, each distinct phrase once.

        A phrase with a negator among the three words before it ("no", "not", "without",
        "rules out", "-n't") counts for the other side: "no rate cut" points to tightening.
        """
        folded = _fold(text)
        lower = folded.lower()
        out = [0.0, 0.0]
        for side, lex in enumerate((self.positive, self.negative)):
            for t in lex.terms:
                if t.literal not in lower:
                    continue
                m = t.pattern.search(folded)
                if m is not None:
                    out[1 - side if _negated(folded, m.start()) else side] += t.weight
        return out[0], out[1]


@dataclass(frozen=True)
class Narrative:
    """One narrative definition, validated."""

    id: str
    label: str
    description: str
    seeds: tuple[str, ...]
    positive_examples: tuple[str, ...]
    negative_examples: tuple[str, ...]
    lexicon: Lexicon
    require: tuple[Lexicon, ...]
    scoring: Mapping[str, float]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)
    #: Phrases that show the direction (see the guide's STANCE line); read by the stance model.
    stance_lexicon: StanceLexicon = field(default_factory=StanceLexicon)

    @property
    def anchors(self) -> tuple[str, ...]:
        """Texts whose embeddings form the positive prototype."""
        return (self.description, *self.seeds, *self.positive_examples)

    @functools.cached_property
    def definition_hash(self) -> str:
        """sha256 (12 hex) of this narrative's definition and effective scoring (computed once)."""
        payload = json.dumps(
            {"raw": self.raw, "scoring": dict(self.scoring)}, sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]

    def require_met(self, text: str) -> bool:
        """True if every ``require`` group has a match in ``text`` (or there are none)."""
        return all(group.matches(text) for group in self.require)


@dataclass(frozen=True)
class NarrativeSet:
    """All narratives from one file, with the file's hash for model versions."""

    narratives: tuple[Narrative, ...]
    path: Path
    sha256: str
    scoring: Mapping[str, float]

    def __iter__(self) -> Iterator[Narrative]:
        return iter(self.narratives)

    def __len__(self) -> int:
        return len(self.narratives)

    @property
    def ids(self) -> list[str]:
        """Narrative ids in file order."""
        return [n.id for n in self.narratives]

    def get(self, narrative_id: str) -> Narrative:
        """The narrative with this id; KeyError if there is none."""
        for n in self.narratives:
            if n.id == narrative_id:
                return n
        raise KeyError(narrative_id)


def _fail(path: Path, where: str, problem: str, fix: str) -> ConfigError:
    return ConfigError(f"{path}: {where}: {problem}. Fix: {fix}")


def _strings(value: Any, path: Path, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(path, where, f"`{key}` must be a list of non-empty strings", f"write `{key}:` "
                    "followed by lines like `- some text`")
    return tuple(v.strip() for v in value)


def _lexicon(value: Any, path: Path, where: str, key: str) -> Lexicon:
    if value is None:
        return Lexicon()
    if isinstance(value, list):
        value = dict.fromkeys(value, 1.0)
    if not isinstance(value, dict):
        raise _fail(path, where, f"`{key}` must be a mapping of term -> weight or a list of terms",
                    f"write `{key}:` then lines like `  stablecoin*: 1.0`")
    terms = []
    for text, weight in value.items():
        if not isinstance(text, str) or not text.strip().rstrip("*").strip():
            raise _fail(path, where, f"`{key}` has an empty or non-text term {text!r}",
                        "quote the term, e.g. `\"10x\": 1.0`")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise _fail(path, where, f"`{key}` term {text!r} has weight {weight!r}",
                        "give a number, e.g. `1.0` (negative counts against)")
        terms.append(Term.compile(text, float(weight)))
    return Lexicon(tuple(terms))


def _stance_lexicon(value: Any, path: Path, where: str) -> StanceLexicon:
    if value is None:
        return StanceLexicon()
    if not isinstance(value, dict) or set(value) - {"positive", "negative"}:
        raise _fail(path, where, "`stance_lexicon` must be a mapping with `positive` and "
                    "`negative` term lists", "write `stance_lexicon: {positive: [cut*], "
                    "negative: [hike*]}`")
    return StanceLexicon(
        _lexicon(value.get("positive"), path, where, "stance_lexicon.positive"),
        _lexicon(value.get("negative"), path, where, "stance_lexicon.negative"),
    )


def _scoring(value: Any, defaults: Mapping[str, float], path: Path, where: str) -> dict[str, float]:
    if value is None:
        return dict(defaults)
    if not isinstance(value, dict):
        raise _fail(path, where, "`scoring` must be a mapping",
                    "write e.g. `scoring: {threshold: 0.6}`")
    out = dict(defaults)
    for key, val in value.items():
        if key not in DEFAULT_SCORING:
            raise _fail(path, where, f"unknown scoring key {key!r}",
                        f"use one of {', '.join(sorted(DEFAULT_SCORING))}")
        if isinstance(val, bool) or not isinstance(val, int | float):
            raise _fail(path, where, f"scoring {key} = {val!r} is not a number", "give a number")
        out[key] = int(val) if key in _INT_SCORING else float(val)
    if not 0.0 < out["threshold"] < 1.0:
        raise _fail(path, where, f"threshold {out['threshold']} is outside (0, 1)",
                    "choose a threshold between 0 and 1, e.g. 0.5")
    if out["max_sentences"] < 1 or out["evidence"] < 1:
        raise _fail(path, where, "max_sentences and evidence must be at least 1",
                    "raise them to 1 or more")
    return out


def parse_narratives(data: Any, path: Path, sha256: str = "") -> NarrativeSet:
    """Validate already-parsed YAML data into a :class:`NarrativeSet`."""
    if not isinstance(data, dict) or not isinstance(data.get("narratives"), list):
        raise _fail(path, "top level", "no `narratives:` list",
                    "start the file with `narratives:` followed by `- id: ...` entries")
    unknown_top = set(data) - {"narratives", "scoring"}
    if unknown_top:
        raise _fail(path, "top level", f"unknown keys {sorted(unknown_top)}",
                    "keep only `scoring:` and `narratives:` at the top level")
    defaults = _scoring(data.get("scoring"), DEFAULT_SCORING, path, "scoring")
    narratives: list[Narrative] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["narratives"]):
        where = f"narrative #{i + 1}"
        if not isinstance(entry, dict):
            raise _fail(path, where, "is not a mapping",
                        "write `- id: my_narrative` and its fields")
        nid = entry.get("id")
        if not isinstance(nid, str) or not _ID.match(nid):
            raise _fail(path, where, f"id {nid!r} is not a lowercase snake_case name",
                        "use an id like `ai_productivity` (a-z, 0-9, _; 2-64 chars)")
        where = f"narrative {nid!r}"
        if nid in seen:
            raise _fail(path, where, "the id is used twice", "give each narrative its own id")
        seen.add(nid)
        unknown = set(entry) - _NARRATIVE_KEYS
        if unknown:
            raise _fail(path, where, f"unknown keys {sorted(unknown)}",
                        f"use only {', '.join(sorted(_NARRATIVE_KEYS))}")
        label = entry.get("label")
        description = entry.get("description")
        if not isinstance(label, str) or not label.strip():
            raise _fail(path, where, "missing `label`", "add a short human-readable `label:`")
        if not isinstance(description, str) or not description.strip():
            raise _fail(path, where, "missing `description`",
                        "add a one-paragraph `description:`; it is also a prototype")
        seeds = _strings(entry.get("seeds"), path, where, "seeds")
        positives = _strings(entry.get("positive_examples"), path, where, "positive_examples")
        if not seeds and not positives:
            raise _fail(path, where, "no seeds and no positive_examples",
                        "add a few `seeds:` phrases or `positive_examples:` sentences")
        negatives = _strings(entry.get("negative_examples"), path, where, "negative_examples")
        require_raw = entry.get("require") or []
        if not isinstance(require_raw, list) or not all(isinstance(g, list) for g in require_raw):
            raise _fail(path, where, "`require` must be a list of term lists",
                        "write `require:` then lines like `- [bitcoin, crypto*]`")
        require = tuple(_lexicon(g, path, where, "require") for g in require_raw)
        if any(not g.terms for g in require):
            raise _fail(path, where, "a `require` group is empty", "remove it or add terms")
        narratives.append(
            Narrative(
                id=nid,
                label=label.strip(),
                description=" ".join(description.split()),
                seeds=seeds,
                positive_examples=positives,
                negative_examples=negatives,
                lexicon=_lexicon(entry.get("lexicon"), path, where, "lexicon"),
                require=require,
                scoring=_scoring(entry.get("scoring"), defaults, path, where),
                raw=entry,
                stance_lexicon=_stance_lexicon(entry.get("stance_lexicon"), path, where),
            )
        )
    if not narratives:
        raise _fail(path, "narratives", "the list is empty", "define at least one narrative")
    return NarrativeSet(tuple(narratives), path, sha256, defaults)


def narratives_path(models_dir: Path | None) -> Path:
    """The narrative definitions: the user's copy under ``models_dir`` if present, else the packaged file."""
    return model_file(models_dir, NARRATIVES_FILE)


def load_narratives(path: Path) -> NarrativeSet:
    """Read and validate a narratives YAML file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: narrative definitions not found. Fix: point TRACKER_MODELS at the "
            "directory holding narratives.yaml, or restore models/narratives.yaml."
        ) from exc
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}). Fix: correct the syntax at the "
                          "position shown (indentation, a missing colon or quote).") from exc
    return parse_narratives(data, path, hashlib.sha256(raw).hexdigest())


def save_narratives(conn: sqlite3.Connection, narratives: NarrativeSet) -> None:
    """Upsert the definitions into the ``narratives`` table (caller owns the transaction)."""
    conn.executemany(
        "INSERT INTO narratives (id, label, description) VALUES (?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET label = excluded.label, description = excluded.description",
        [(n.id, n.label, n.description) for n in narratives],
    )
