"""Score articles against narratives: prototypes + lexicon (+ an optional trained head).

Pure given an :class:`~tracker.enrich.embeddings.Embedder`: articles in, scores out.

For each article the title and its first lead sentences are embedded (one batch
for many articles). Per sentence and narrative we measure the best cosine to the
narrative's positive anchors (description, seeds, examples), the best cosine to
its negative examples and the lexicon weight found. These roll up to article
features (max, top-2 mean, title, lexicon over the article, ``require`` groups);
the article score in [0, 1] is either the prior

    sigmoid(scale * (pos_max - center)
            + lexicon_weight * (tanh(positive_weights / 2) - tanh(negative_weights / 2))
            - negative_weight * max(0, neg_max - pos_max) - require_penalty * missing)

or, when a trained head exists for the narrative, a logistic regression over those
features (optionally with the article's mean embedding), with its own calibrated
threshold. Each sentence is scored the same way on its own; the best ones are kept
as evidence.

The end of the module is the ``narratives`` enrichment stage (:class:`NarrativeStage`)
and its store function.
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tracker.enrich.embeddings import Embedder
from tracker.enrich.head import Anchors, Head, NarrativeHead, head_path, load_head, sigmoid
from tracker.enrich.narratives import Narrative, NarrativeSet, load_narratives, narratives_path

#: Article-level features, in the order a head's coefficients use them.
FEATURES: tuple[str, ...] = (
    "pos_max",
    "pos_top2",
    "pos_title",
    "neg_max",
    "margin",
    "neg_excess",
    "lexicon",
    "lexicon_negative",
    "require",
)

#: Direction features from the narrative's ``stance_lexicon``, before the stance model's vectors.
STANCE_FEATURES: tuple[str, ...] = ("up", "down", "title_up", "title_down", "net")

#: Sentences below this sentence score are not kept as evidence (except the best one).
EVIDENCE_FLOOR = 0.2

_BLOCK_TAGS = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060\ufeff]")
_WS = re.compile(r"[^\S\n]+")
_OPENS_NEW_TAB = re.compile(r",?\s*opens new tab\s*,?", re.IGNORECASE)
# "WASHINGTON, March 3 (Reuters) - " and similar agency datelines.
_DATELINE = re.compile(r"^[^()\n]{0,80}\((?:[A-Z][\w.]*\s?){1,3}\)\s*[-\u2013\u2014]+\s*")
_SUFFIX = re.compile(r"\s+[-\u2013\u2014|]\s+(Reuters|reuters\.com)\s*$")
_SPLIT = re.compile(
    r"(?<=[.!?\u2026])[\"\u201d\u2019)]?\s+(?=[\"\u201c\u2018(]?[A-Z0-9$\u00a3\u20ac])"
)
_ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Sen|Rep|Gov|Gen|Lt|Col|Inc|Corp|Co|Ltd|Jr|Sr|vs|No|Jan|Feb|"
    r"Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|approx|est)\.|\b[A-Z]\.|\b(?:[A-Z]\.){2,})$"
)

log = logging.getLogger(__name__)


def clean_text(text: str | None) -> str:
    """Plain text from feed HTML: tags dropped, entities decoded, invisible chars removed."""
    if not text:
        return ""
    text = html.unescape(_TAGS.sub(" ", _BLOCK_TAGS.sub("\n", text)))
    text = _INVISIBLE.sub("", text)
    text = _OPENS_NEW_TAB.sub("", text)
    lines = [_WS.sub(" ", line).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def split_sentences(text: str) -> list[str]:
    """Split plain text into sentences (paragraph breaks always split)."""
    out: list[str] = []
    for para in clean_text(text).split("\n"):
        pieces = _SPLIT.split(para)
        buf = ""
        for piece in pieces:
            buf = f"{buf} {piece}".strip() if buf else piece.strip()
            if not _ABBREV.search(buf):
                out.append(buf)
                buf = ""
        if buf:
            out.append(buf)
    return [s for s in out if any(c.isalnum() for c in s)]


def _key(sentence: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", sentence.lower()).strip()


def article_sentences(title: str | None, body: str | None, max_sentences: int) -> list[str]:
    """The title then the lead sentences of the body, deduplicated, at most ``max_sentences``."""
    sentences: list[str] = []
    keys: list[str] = []
    title_clean = _SUFFIX.sub("", clean_text(title).replace("\n", " "))
    body_clean = clean_text(body)
    if body_clean:
        body_clean = _DATELINE.sub("", body_clean)
    for sent in ([title_clean] if title_clean else []) + split_sentences(body_clean):
        sent = _SUFFIX.sub("", sent).strip()
        key = _key(sent)
        # Feeds often repeat the title as the summary, sometimes with the source appended.
        if not key or any(key in k or k in key for k in keys):
            continue
        sentences.append(sent)
        keys.append(key)
        if len(sentences) >= max_sentences:
            break
    return sentences


@dataclass(frozen=True)
class ArticleText:
    """What the classifier reads: a title and an optional body (summary or content)."""

    title: str
    body: str = ""


@dataclass(frozen=True)
class Evidence:
    """A sentence that drove a narrative score, with its own score in [0, 1]."""

    sentence: str
    score: float


@dataclass(frozen=True)
class NarrativeScore:
    """One article's score for one narrative."""

    narrative_id: str
    score: float
    is_member: bool
    evidence: tuple[Evidence, ...]
    method: str
    #: Direction in [-1, 1] (see the narrative's STANCE line) when the head has a stance model.
    stance: float | None = None
    #: The sentence that shows that direction best.
    stance_evidence: str | None = None


@dataclass(frozen=True)
class ArticleResult:
    """Scores for every narrative, the sentences read and the article's mean embedding."""

    sentences: tuple[str, ...]
    scores: tuple[NarrativeScore, ...]
    embedding: np.ndarray = field(repr=False)

    def get(self, narrative_id: str) -> NarrativeScore:
        """The score for one narrative id."""
        for s in self.scores:
            if s.narrative_id == narrative_id:
                return s
        raise KeyError(narrative_id)


def _squash(weight: float) -> float:
    """Summed lexicon weight to [0, 1): one strong term ~0.46, three ~0.9."""
    return math.tanh(max(weight, 0.0) / 2.0)


@dataclass(frozen=True)
class SentenceSignals:
    """Per-sentence measurements for one narrative."""

    pos: np.ndarray
    neg: np.ndarray
    lexicon: np.ndarray
    lexicon_negative: np.ndarray


def stance_features(narrative: Narrative, sentences: Sequence[str]) -> np.ndarray:
    """Direction phrases found (see ``STANCE_FEATURES``): whole text, title, net; squashed."""
    up, down = narrative.stance_lexicon.counts(" ".join(sentences))
    t_up, t_down = narrative.stance_lexicon.counts(sentences[0]) if sentences else (0.0, 0.0)
    return np.array([_squash(up), _squash(down), _squash(t_up), _squash(t_down),
                     math.tanh((up - down) / 2.0)])


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return (v / norm).astype(np.float32) if norm > 0 else v.astype(np.float32)


class Classifier:
    """Scores articles for every narrative in a :class:`NarrativeSet`."""

    def __init__(
        self, narratives: NarrativeSet, embedder: Embedder, head: Head | None = None
    ) -> None:
        """Embed the narrative anchors (or take the head's cached ones); use ``head`` where it
        matches a definition."""
        self.narratives = narratives
        self.embedder = embedder
        if head is not None and head.embedder != embedder.name:
            log.warning(
                "ignoring the trained head: fitted on %s embeddings, scoring with %s",
                head.embedder,
                embedder.name,
            )
            head = None
        self.head = head
        for n in narratives:
            if head is not None and n.id in head.narratives and self.head_for(n) is None:
                log.warning(
                    "narrative %s changed since the head was fitted: using prototype+lexicon "
                    "scoring for it until `tracker train` is run again",
                    n.id,
                )
        self.max_sentences = int(narratives.scoring["max_sentences"])
        self._pos: dict[str, np.ndarray] = {}
        self._neg: dict[str, np.ndarray] = {}
        cached = head.anchors if head is not None else None
        if cached is not None and cached.matches(embedder.name, narratives.sha256) and all(
            n.id in cached.vectors for n in narratives
        ):
            # Embedded when the head was trained, for this very narratives.yaml: no encode.
            for n in narratives:
                self._pos[n.id], self._neg[n.id] = cached.vectors[n.id]
            return
        anchors: list[str] = []
        spans: dict[str, tuple[int, int, int]] = {}
        for n in narratives:
            start = len(anchors)
            anchors.extend(n.anchors)
            mid = len(anchors)
            anchors.extend(n.negative_examples)
            spans[n.id] = (start, mid, len(anchors))
        vectors = embedder.encode(anchors)
        for nid, (start, mid, end) in spans.items():
            self._pos[nid] = vectors[start:mid]
            self._neg[nid] = vectors[mid:end]

    def anchors(self) -> Anchors:
        """The anchor vectors in use, for a head to cache (keyed by embedder and file hash)."""
        return Anchors(
            self.embedder.name,
            self.narratives.sha256,
            {n.id: (self._pos[n.id], self._neg[n.id]) for n in self.narratives},
        )

    def head_for(self, narrative: Narrative) -> NarrativeHead | None:
        """The trained head for this narrative if it was fitted on the same definition."""
        if self.head is None:
            return None
        nh = self.head.narratives.get(narrative.id)
        if nh is None or nh.definition_hash != narrative.definition_hash:
            return None
        return nh

    def method(self, narrative: Narrative) -> str:
        """How this narrative is scored, as stored in ``article_narratives.method``."""
        base = "prototype+lexicon"
        if narrative.require:
            base += "+require"
        return base + "+head" if self.head_for(narrative) is not None else base

    @property
    def model_version(self) -> str:
        """Embedder + narratives file hash + head version: changes whenever scores could."""
        head = self.head.version if self.head is not None else "none"
        return f"{self.embedder.name}+narr:{self.narratives.sha256[:12]}+head:{head}"

    def signals(
        self, narrative: Narrative, sentences: Sequence[str], vectors: np.ndarray
    ) -> SentenceSignals:
        """Best positive and negative cosine and lexicon weight for each sentence."""
        pos = vectors @ self._pos[narrative.id].T
        neg_m = self._neg[narrative.id]
        neg = vectors @ neg_m.T if len(neg_m) else np.full((len(sentences), 1), -1.0)
        lex = np.array([narrative.lexicon.split_score(s) for s in sentences], dtype=np.float64)
        return SentenceSignals(pos.max(axis=1), neg.max(axis=1), lex[:, 0], lex[:, 1])

    def features(
        self, narrative: Narrative, sentences: Sequence[str], signals: SentenceSignals
    ) -> np.ndarray:
        """Roll sentence signals up to the article feature vector (see ``FEATURES``)."""
        pos = signals.pos
        top = np.sort(pos)[::-1]
        pos_max = float(top[0])
        pos_top2 = float(top[:2].mean())
        neg_max = float(signals.neg.max())
        text = " ".join(sentences)
        lex_pos, lex_neg = narrative.lexicon.split_score(text)
        require = 1.0 if narrative.require_met(text) else 0.0
        return np.array(
            [
                pos_max,
                pos_top2,
                float(pos[0]),
                neg_max,
                pos_max - neg_max,
                max(0.0, neg_max - pos_max),
                _squash(lex_pos),
                _squash(lex_neg),
                require,
            ]
        )

    def sentence_features(
        self, narrative: Narrative, sentences: Sequence[str], signals: SentenceSignals
    ) -> np.ndarray:
        """Each sentence scored as if it were the whole article (for evidence)."""
        text = " ".join(sentences)
        require = 1.0 if narrative.require_met(text) else 0.0
        rows = [
            [p, p, p, n, p - n, max(0.0, n - p), _squash(lp), _squash(ln), require]
            for p, n, lp, ln in zip(
                signals.pos, signals.neg, signals.lexicon, signals.lexicon_negative, strict=True
            )
        ]
        return np.array(rows, dtype=np.float64)

    @staticmethod
    def prior(narrative: Narrative, feats: np.ndarray) -> np.ndarray:
        """The untrained score for rows of features: prototype + lexicon - negatives - require."""
        f = np.atleast_2d(feats)
        s = narrative.scoring
        i = {name: k for k, name in enumerate(FEATURES)}
        z = (
            s["prototype_scale"] * (f[:, i["pos_max"]] - s["prototype_center"])
            + s["lexicon_weight"] * (f[:, i["lexicon"]] - f[:, i["lexicon_negative"]])
            - s["negative_weight"] * f[:, i["neg_excess"]]
            - s["require_penalty"] * (1.0 - f[:, i["require"]])
        )
        return sigmoid(z)

    def score_features(
        self, narrative: Narrative, feats: np.ndarray, embeddings: np.ndarray
    ) -> tuple[np.ndarray, float]:
        """Scores for rows of (features, embedding) and the yes/no threshold that applies."""
        nh = self.head_for(narrative)
        if nh is None:
            return self.prior(narrative, feats), float(narrative.scoring["threshold"])
        x = np.atleast_2d(feats)
        if nh.coef.shape[0] > x.shape[1]:
            x = np.hstack([x, np.atleast_2d(embeddings)])
        scores = nh.probability(x)
        if nh.gate_require:
            # The guide's rule (both sides named) is a hard condition, not a soft feature.
            scores = scores * x[:, FEATURES.index("require")]
        return scores, nh.threshold

    def stance(
        self, narrative: Narrative, sentences: Sequence[str], vectors: np.ndarray, mean: np.ndarray
    ) -> tuple[float | None, str | None]:
        """Stance in [-1, 1] of an article and the sentence that shows it (None: no model)."""
        nh = self.head_for(narrative)
        if nh is None or nh.stance is None:
            return None, None
        lex = stance_features(narrative, sentences)
        article = float(nh.stance.stance(np.hstack([lex, mean, vectors[0]]))[0])
        # Each sentence read alone (as text, title and mean); the evidence leans most that way.
        sent_lex = np.array([stance_features(narrative, [s]) for s in sentences])
        per_sentence = nh.stance.stance(np.hstack([sent_lex, vectors, vectors]))
        sign = 1.0 if article >= 0 else -1.0
        best = int(np.argmax(sign * per_sentence))
        return round(article, 4), sentences[best]

    def stance_inputs(self, articles: Sequence[ArticleText]) -> dict[str, np.ndarray]:
        """Per-narrative stance lexicon features (``STANCE_FEATURES``) for many articles."""
        per_article = [
            article_sentences(a.title, a.body, self.max_sentences) or [a.title or "(empty)"]
            for a in articles
        ]
        return {
            n.id: np.array([stance_features(n, sents) for sents in per_article]).reshape(
                len(per_article), len(STANCE_FEATURES)
            )
            for n in self.narratives
        }

    def classify(self, articles: Sequence[ArticleText]) -> list[ArticleResult]:
        """Score many articles; all their sentences are embedded in one batch."""
        per_article = [
            article_sentences(a.title, a.body, self.max_sentences) or [a.title or "(empty)"]
            for a in articles
        ]
        flat = [s for sents in per_article for s in sents]
        vectors = self.embedder.encode(flat) if flat else np.zeros((0, self.embedder.dim))
        results: list[ArticleResult] = []
        offset = 0
        for sents in per_article:
            vecs = vectors[offset : offset + len(sents)]
            offset += len(sents)
            results.append(self._score_article(sents, vecs))
        return results

    def classify_text(self, title: str, body: str = "") -> ArticleResult:
        """Score one article (convenience for tests and the REPL)."""
        return self.classify([ArticleText(title, body)])[0]

    def _score_article(self, sentences: list[str], vectors: np.ndarray) -> ArticleResult:
        mean = _unit(vectors.mean(axis=0))
        scores: list[NarrativeScore] = []
        for n in self.narratives:
            sig = self.signals(n, sentences, vectors)
            feats = self.features(n, sentences, sig)
            article_score, threshold = self.score_features(n, feats, mean)
            sent_scores, _ = self.score_features(
                n, self.sentence_features(n, sentences, sig), vectors
            )
            k = int(n.scoring["evidence"])
            order = np.argsort(-sent_scores, kind="stable")[:k]
            # The best sentence always explains the score; weak runners-up explain nothing.
            evidence = tuple(
                Evidence(sentences[j], round(float(sent_scores[j]), 4))
                for rank, j in enumerate(order)
                if rank == 0 or sent_scores[j] >= EVIDENCE_FLOOR
            )
            score = float(article_score[0])
            stance, stance_evidence = self.stance(n, sentences, vectors, mean)
            scores.append(
                NarrativeScore(
                    n.id, round(score, 4), score >= threshold, evidence, self.method(n),
                    stance, stance_evidence,
                )
            )
        return ArticleResult(tuple(sentences), tuple(scores), mean)

    def article_inputs(
        self, articles: Sequence[ArticleText]
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """Per-narrative feature matrices, mean embeddings and title vectors (a head's inputs)."""
        per_article = [
            article_sentences(a.title, a.body, self.max_sentences) or [a.title or "(empty)"]
            for a in articles
        ]
        flat = [s for sents in per_article for s in sents]
        vectors = self.embedder.encode(flat)
        feats: dict[str, list[np.ndarray]] = {n.id: [] for n in self.narratives}
        means: list[np.ndarray] = []
        titles: list[np.ndarray] = []
        offset = 0
        for sents in per_article:
            vecs = vectors[offset : offset + len(sents)]
            offset += len(sents)
            means.append(_unit(vecs.mean(axis=0)))
            titles.append(vecs[0])
            for n in self.narratives:
                feats[n.id].append(self.features(n, sents, self.signals(n, sents, vecs)))
        return (
            {k: np.array(v) for k, v in feats.items()},
            np.array(means, dtype=np.float32),
            np.array(titles, dtype=np.float32),
        )


def load_classifier(
    models_dir: Path, embedder: Embedder | None = None, *, use_head: bool = True
) -> Classifier:
    """The classifier for a models directory: narratives.yaml, heads/ and MiniLM by default.

    Without an explicit embedder, MiniLM is wrapped in an in-memory cache so repeated
    sentences (titles echoed in summaries, boilerplate) are embedded once.
    """
    from tracker.enrich.embeddings import CachedEmbedder, load_minilm

    narratives = load_narratives(narratives_path(models_dir))
    head = load_head(head_path(models_dir), len(FEATURES)) if use_head else None
    if embedder is None:
        embedder = CachedEmbedder(load_minilm())
    return Classifier(narratives, embedder, head)
