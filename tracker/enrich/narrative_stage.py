"""The ``narratives`` enrichment stage: score every article for every narrative and store it."""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from collections.abc import Mapping, Sequence, Set
from typing import TYPE_CHECKING, Any

import numpy as np

from tracker.enrich.embeddings import Embedder, load_cached, save_cached, text_hash
from tracker.enrich.head import Head, head_path, load_head
from tracker.enrich.narratives import NarrativeSet, load_narratives, narratives_path

if TYPE_CHECKING:
    from tracker.base.settings import Settings
    from tracker.enrich.embeddings import CachedEmbedder

from tracker.enrich.classifier import (
    FEATURES,
    ArticleResult,
    ArticleText,
    Classifier,
    NarrativeScore,
    article_sentences,
)

# --- The ``narratives`` enrichment stage (see tracker/enrich.py for the protocol) ---

#: Bump when the stage's behaviour changes in a way no model or file hash captures.
NARRATIVES_STAGE_VERSION = 2  # 2: stance + stance_evidence, gated rotation (issue 13)
#: Batches whose new vectors a worker keeps for later batches that repeat their sentences.
RECENT_BATCHES = 8


def split_article_text(text: str) -> ArticleText:
    """``title\\n\\nbody`` (as :func:`tracker.enrich.runner.article_text` builds it) -> ArticleText.

    Text without a blank line is treated as body so that every sentence is read.
    """
    text = text.strip()
    if "\n\n" in text:
        title, body = text.split("\n\n", 1)
        return ArticleText(title.strip(), body.strip())
    return ArticleText("", text)


class NarrativeStage:
    """Scores every article for every narrative; stores scores, evidence and article vectors."""

    name = "narratives"

    def __init__(
        self,
        narratives: NarrativeSet,
        head: Head | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        """Definitions and head are loaded now; the embedding model on first use."""
        from tracker.enrich.embeddings import MINILM_NAME

        self.narratives = narratives
        self.head = head
        self._embedder = embedder
        self._embedder_name = embedder.name if embedder is not None else MINILM_NAME
        self._cached: CachedEmbedder | None = None
        self._classifier: Classifier | None = None
        self._conn: sqlite3.Connection | None = None
        #: A worker's embedding memory between batches (the anchors), see process_cached.
        self._base: dict[str, np.ndarray] = {}
        #: The vectors this worker computed for its last few batches, see process_cached.
        self._recent: deque[dict[str, np.ndarray]] = deque(maxlen=RECENT_BATCHES)

    @classmethod
    def from_settings(cls, settings: Settings) -> NarrativeStage:
        """The stage over ``narratives.yaml`` and ``heads/`` in the configured models directory."""

        return cls(
            load_narratives(narratives_path(settings.models_dir)),
            load_head(head_path(settings.models_dir), len(FEATURES)),
        )

    @property
    def version(self) -> str:
        """``narratives:<n>+<embedder>+narr:<yaml hash>+head:<head hash or none>``."""
        head = self.head.version if self.head is not None else "none"
        return (
            f"{self.name}:{NARRATIVES_STAGE_VERSION}+{self._embedder_name}"
            f"+narr:{self.narratives.sha256[:12]}+head:{head}"
        )

    @property
    def model_version(self) -> str:
        """``article_narratives.model_version``, known without loading the embedding model.

        Equals ``self.classifier.model_version`` (tested), so a writer that never runs
        the model (the Ray engine's driver) records the same version as the workers.
        """
        if self._classifier is not None:
            return self._classifier.model_version
        # The classifier ignores a head fitted on another embedder (see Classifier.__init__).
        head = self.head if self.head is not None and self.head.embedder == self._embedder_name else None
        return (
            f"{self._embedder_name}+narr:{self.narratives.sha256[:12]}"
            f"+head:{head.version if head is not None else 'none'}"
        )

    def _cached_embedder(self) -> CachedEmbedder:
        """The embedder behind an in-memory + ``embedding_cache`` cache (model loaded once)."""
        if self._cached is None:
            from tracker.enrich.embeddings import CachedEmbedder, load_minilm

            inner = self._embedder if self._embedder is not None else load_minilm()
            self._cached = CachedEmbedder(inner, self._conn)
        return self._cached

    @property
    def classifier(self) -> Classifier:
        """The classifier over a cached embedder, built (and the model loaded) once."""
        if self._classifier is None:
            self._classifier = Classifier(self.narratives, self._cached_embedder(), self.head)
        return self._classifier

    def prepare(self, conn: sqlite3.Connection) -> None:
        """Sync the definitions into ``narratives``; let the embedding cache read ``conn``."""
        from tracker.enrich.narratives import save_narratives

        save_narratives(conn, self.narratives)
        # The one read process() makes: cached vectors, so no text is embedded twice.
        self._conn = conn
        if self._cached is not None:
            self._cached.conn = conn

    def process(self, texts: Sequence[str]) -> list[ArticleResult]:
        """Score a batch of article texts (all sentences embedded in one batch)."""
        return self.classifier.classify([split_article_text(t) for t in texts])

    def save(
        self, conn: sqlite3.Connection, article_ids: Sequence[int], results: Sequence[Any]
    ) -> dict[str, int]:
        """Replace these articles' narrative scores and vectors; store new embeddings."""
        rows = save_narrative_results(
            conn, self.model_version, self._embedder_name, article_ids, results
        )
        if self._cached is not None:
            rows["embedding_cache"] = self._cached.flush(conn)
        return rows

    # --- CachedStage (tracker.enrich.runner): the embedding cache split off process() ---
    # Keys are the embedding_cache text hashes, values float32 vectors. The sentences
    # below mirror what Classifier.classify embeds; if they drift, keys are missed and
    # the worker embeds more, so results stay right and only the cache is used less.

    @property
    def _dim(self) -> int:
        from tracker.enrich.embeddings import MINILM_DIM

        return self._embedder.dim if self._embedder is not None else MINILM_DIM

    def _sentences(self, texts: Sequence[str]) -> list[str]:
        """Every sentence the classifier embeds for these texts, in its order."""
        max_sentences = int(self.narratives.scoring["max_sentences"])
        out: list[str] = []
        for text in texts:
            a = split_article_text(text)
            out.extend(article_sentences(a.title, a.body, max_sentences) or [a.title or "(empty)"])
        return out

    def cache_keys(self, texts: Sequence[str]) -> list[str]:
        """Text hashes of the sentences to embed; for no texts, of the narratives' anchors."""
        if not texts:
            return [
                text_hash(t) for n in self.narratives for t in (*n.anchors, *n.negative_examples)
            ]
        return [text_hash(s) for s in self._sentences(texts)]

    def cache_get(self, conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, Any]:
        """Vectors ``embedding_cache`` holds for these hashes under this stage's embedder."""
        return load_cached(conn, keys, self._embedder_name, self._dim)

    def process_cached(
        self, texts: Sequence[str], cached: Mapping[str, Any], in_flight: Set[str]
    ) -> tuple[list[ArticleResult], dict[str, Any]]:
        """Score texts with ``cached`` vectors and no database; return new vectors too.

        The worker's memory is reset to the anchors after each batch (plus the new
        vectors of its last ``RECENT_BATCHES`` batches), so it stays bounded over a
        backfill of any length.
        """
        embedder = self._cached_embedder()
        embedder.memory.update(cached)
        if self._classifier is None:
            self.classifier  # noqa: B018 - built now so the anchors join the base memory
            self._base = dict(embedder.memory)
        if in_flight and texts:
            # Another batch owns these: take its vector if this worker computed it (same
            # bits as stored), else embed them apart from this batch's own misses.
            todo: dict[str, str] = {}
            for sentence in self._sentences(texts):
                key = text_hash(sentence)
                if key in in_flight and key not in embedder.memory:
                    recent = next((r[key] for r in self._recent if key in r), None)
                    if recent is not None:
                        embedder.memory[key] = recent
                    else:
                        todo.setdefault(key, sentence)
            if todo:
                vectors: np.ndarray = embedder.inner.encode(list(todo.values()))
                embedder.memory.update(zip(todo, vectors, strict=True))
        results = self.process(texts) if texts else []
        new = dict(embedder.pending)
        embedder.pending.clear()
        embedder.memory = dict(self._base)
        if texts:
            self._recent.append(new)
        return results, new

    def save_cache(self, conn: sqlite3.Connection, entries: Mapping[str, Any]) -> dict[str, int]:
        """Insert new vectors into ``embedding_cache``."""
        return {"embedding_cache": save_cached(conn, self._embedder_name, self._dim, entries.items())}

    def describe(self, result: Any) -> dict[str, Any]:
        """``narratives``: one entry per narrative with id, score, is_member and evidence."""
        return {
            "narratives": [
                {
                    "id": s.narrative_id,
                    "score": s.score,
                    "is_member": s.is_member,
                    "evidence": [{"sentence": e.sentence, "score": e.score} for e in s.evidence],
                    # Direction only means something for members (see _stance_of).
                    "stance": _stance_of(s)[0],
                    "stance_evidence": _stance_of(s)[1],
                }
                for s in result.scores
            ]
        }


def _stance_of(score: NarrativeScore) -> tuple[float | None, str | None]:
    """Stance and its sentence for members; None for non-members (a direction of nothing)."""
    if not score.is_member:
        return None, None
    return score.stance, score.stance_evidence


def save_narrative_results(
    conn: sqlite3.Connection,
    model_version: str,
    embedder_name: str,
    article_ids: Sequence[int],
    results: Sequence[ArticleResult],
) -> dict[str, int]:
    """Delete then insert ``article_narratives`` and ``article_embeddings`` (in a transaction)."""
    from tracker.enrich.embeddings import vector_to_bytes

    id_rows = [(aid,) for aid in article_ids]
    conn.executemany("DELETE FROM article_narratives WHERE article_id = ?", id_rows)
    conn.executemany(
        "DELETE FROM article_embeddings WHERE article_id = ? AND model = ?",
        [(aid, embedder_name) for aid in article_ids],
    )
    narrative_rows = [
        (
            aid,
            s.narrative_id,
            s.score,
            int(s.is_member),
            s.method,
            model_version,
            json.dumps(
                [{"sentence": e.sentence, "score": e.score} for e in s.evidence],
                ensure_ascii=False,
            ),
            *_stance_of(s),
        )
        for aid, result in zip(article_ids, results, strict=True)
        for s in result.scores
    ]
    conn.executemany(
        "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method,"
        " model_version, evidence, stance, stance_evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        narrative_rows,
    )
    vector_rows = [
        (aid, embedder_name, int(result.embedding.shape[0]), vector_to_bytes(result.embedding))
        for aid, result in zip(article_ids, results, strict=True)
    ]
    conn.executemany(
        "INSERT INTO article_embeddings (article_id, model, dim, vector) VALUES (?, ?, ?, ?)",
        vector_rows,
    )
    return {"article_narratives": len(narrative_rows), "article_embeddings": len(vector_rows)}
