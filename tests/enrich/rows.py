"""Compare what two enrichment runs wrote: every output row, floats and vectors within a tolerance."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np

#: Output tables and the order that makes two runs comparable row by row. Surrogate ids
#: (mentions.id, claims.id) are compared too: the same batches in the same order give the same ids.
TABLES = {
    "mentions": "id",
    "claims": "id",
    "article_narratives": "article_id, narrative_id",
    "article_embeddings": "article_id, model",
    "embedding_cache": "text_hash, model",
    "enrichments": "article_id, stage",
    "entities": "id",
    "narratives": "id",
}
#: Columns that record when, not what.
WHEN = {"enriched_at", "created_at", "updated_at"}


def output_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every enrichment output row of the database at ``path``, minus timestamps."""
    conn = sqlite3.connect(path)
    try:
        out = {}
        for table, order in TABLES.items():
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in WHEN]
            quoted = ", ".join(f'"{c}"' for c in cols)
            out[table] = conn.execute(f"SELECT {quoted} FROM {table} ORDER BY {order}").fetchall()
        return out
    finally:
        conn.close()


def _close(a: Any, b: Any, tol: float) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0.0, abs_tol=tol)
    if isinstance(a, bytes) and isinstance(b, bytes) and len(a) == len(b) and len(a) % 4 == 0 and tol:
        va, vb = np.frombuffer(a, "<f4"), np.frombuffer(b, "<f4")
        return bool(np.all(np.abs(va - vb) <= tol))
    return bool(a == b)


def differences(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]],
                tol: float = 0.0) -> dict[str, int]:
    """Per table, how many rows differ (beyond ``tol`` for floats and float32 vectors)."""
    diff: dict[str, int] = {}
    for table in TABLES:
        rows_a, rows_b = a[table], b[table]
        if len(rows_a) != len(rows_b):
            diff[table] = abs(len(rows_a) - len(rows_b)) or 1
            continue
        n = sum(
            not all(_close(x, y, tol) for x, y in zip(ra, rb, strict=True))
            for ra, rb in zip(rows_a, rows_b, strict=True)
        )
        if n:
            diff[table] = n
    return diff


def max_float_difference(a: dict[str, list[tuple[Any, ...]]],
                         b: dict[str, list[tuple[Any, ...]]]) -> float:
    """The largest absolute difference between matching floats or float32 vector elements."""
    worst = 0.0
    for table in TABLES:
        for ra, rb in zip(a[table], b[table], strict=False):
            for x, y in zip(ra, rb, strict=True):
                if isinstance(x, float) and isinstance(y, float):
                    worst = max(worst, abs(x - y))
                elif isinstance(x, bytes) and isinstance(y, bytes) and len(x) == len(y) and len(x) % 4 == 0:
                    worst = max(worst, float(np.max(np.abs(np.frombuffer(x, "<f4") - np.frombuffer(y, "<f4")),
                                                initial=0.0)))
    return worst
