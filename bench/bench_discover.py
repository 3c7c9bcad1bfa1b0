"""Benchmark topic discovery on N articles: the whole ``tracker discover`` scope against bare
UMAP + HDBSCAN on the same vectors, plus the alternatives it was chosen over.

Each method runs in its own process (so its peak RSS is its own) on the same vectors:

* ``bare``: UMAP (5 dims, cosine, seeded) then HDBSCAN, nothing else: the least any
  UMAP/HDBSCAN topic model has to do (the baseline of the ratio);
* ``tracker``: :func:`tracker.learn.discover_store.discover_scope` end to end: BERTopic
  (the same UMAP and HDBSCAN, plus class-based TF-IDF terms), daily counts, growth, entities,
  headlines, links, and the writes, in one transaction;
* ``hdbscan_raw``: HDBSCAN alone on the 384-dimensional unit vectors (its tree searches
  degrade to brute force in 384 dimensions: run it on a few thousand articles);
* ``pca_hdbscan``: HDBSCAN on a 50-dimensional PCA of them.

Vectors: ``--db PATH`` reads the newest N stored article vectors of a tracker database
(the database is copied first; the copy is written to), else a synthetic store of N articles
drawn around 80 topic centres. The first UMAP fit in a process compiles numba code; that
one-off cost is measured separately (``jit_s``) on 4,500 points, enough to take UMAP's
nearest-neighbour-descent path (from 4,096 points) and compile it too, and left out of the
timings.
Run:

    .venv/bin/python bench/bench_discover.py [--articles 20000] [--db PATH] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH = Path(__file__).resolve().parent
METHODS = ("bare", "tracker", "hdbscan_raw", "pca_hdbscan")


def synthetic_db(path: Path, n: int, seed: int = 0, topics: int = 80, dim: int = 384) -> None:
    """A tracker database with ``n`` articles over 56 days around ``topics`` centres (+ noise)."""
    from datetime import date, timedelta

    from tracker.base.db import open_db, transaction

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, dim))
    sizes = rng.zipf(1.6, topics).astype(float)
    weights = sizes / sizes.sum() * 0.7
    which = rng.choice(topics + 1, size=n, p=[*weights, 0.3])  # index `topics` = background noise
    vocab = [f"w{i}" for i in range(3000)]
    db = open_db(path)
    start = date(2026, 1, 5)
    with transaction(db.conn):
        db.conn.executemany("INSERT INTO feeds (id, name, url, created_at) VALUES (?, ?, 'u', 'now')",
                            [(i, f"feed{i}") for i in range(1, 11)])
        rows, vecs = [], []
        for i, t in enumerate(which.tolist()):
            if t == topics:
                v = rng.standard_normal(dim)
                words = rng.choice(vocab, 8)
            else:
                v = centres[t] + 0.9 * rng.standard_normal(dim)
                words = [*(f"t{t}k{k}" for k in rng.choice(6, 3)), *rng.choice(vocab, 5)]
            v = v / np.linalg.norm(v)
            day = (start + timedelta(days=int(rng.integers(0, 56)))).isoformat()
            rows.append((i + 1, 1 + i % 10, f"k{i}", " ".join(words), day, f"h{i}"))
            vecs.append((i + 1, "bench", dim, v.astype("<f4").tobytes()))
        db.conn.executemany("INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash)"
                            " VALUES (?, ?, ?, ?, ?, 'now', ?)", rows)
        db.conn.executemany("INSERT INTO article_embeddings (article_id, model, dim, vector) VALUES (?, ?, ?, ?)",
                            vecs)
    db.conn.close()


def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a (possibly live) SQLite database."""
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def window_for(path: Path, n: int) -> tuple[str, str]:
    """The first and last day holding the newest ``n`` articles with vectors."""
    conn = sqlite3.connect(path)
    days = [r[0] for r in conn.execute(
        "SELECT a.day FROM articles a JOIN article_embeddings e ON e.article_id = a.id "
        "WHERE a.duplicate_of IS NULL ORDER BY a.day DESC LIMIT ?", (n,))]
    conn.close()
    return days[-1], days[0]


def run_method(method: str, path: Path, start: str, end: str, seed: int) -> dict[str, Any]:
    """One method, in this process; returns its figures."""
    from hdbscan import HDBSCAN
    from umap import UMAP

    from tracker.base.db import open_db
    from tracker.learn.discover import DiscoverParams
    from tracker.learn.discover_store import discover_scope, load_entities, load_window
    from tracker.learn.stories import vector_model

    params = DiscoverParams(seed=seed)
    t0 = time.perf_counter()
    UMAP(n_components=5, metric="cosine", random_state=seed, n_jobs=1).fit_transform(
        np.random.default_rng(0).standard_normal((4500, 16)))
    jit = time.perf_counter() - t0
    db = open_db(path)
    model = vector_model(db.conn) or "none"
    window = load_window(db.conn, start, end, model, params)
    n = len(window.ids)
    x = window.vectors
    size = params.cluster_size(n)
    t0 = time.perf_counter()
    if method == "tracker":
        entities = load_entities(db.conn, start, end)
        summary = discover_scope(db.conn, window, "all", start, end, model, params, entities)
        topics, outliers = summary.topics, summary.outliers
    else:
        if method == "bare":
            reduced = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                           random_state=seed, n_jobs=1).fit_transform(x)
        elif method == "pca_hdbscan":
            from sklearn.decomposition import PCA

            reduced = PCA(50, random_state=seed).fit_transform(x)
        else:
            reduced = x
        labels = HDBSCAN(min_cluster_size=size, min_samples=params.min_samples).fit_predict(reduced)
        topics, outliers = int(labels.max() + 1), int((labels == -1).sum())
    seconds = time.perf_counter() - t0
    return {"method": method, "articles": n, "seconds": round(seconds, 2), "jit_s": round(jit, 2),
            "topics": topics, "outlier_share": round(outliers / max(1, n), 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    """Prepare the database once, run each method in a child process, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--db", type=Path, help="A tracker database with article vectors (copied first).")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=4, metavar=("METHOD", "DB", "START", "END"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, db, start, end = args.child
        print(json.dumps(run_method(method, Path(db), start, end, args.seed)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for method in args.methods.split(","):
            # A fresh copy per method: the tracker method writes its run into the database.
            path = Path(tmp) / f"{method}.db"
            if args.db:
                copy_db(args.db, path)
            else:
                synthetic_db(path, args.articles)
            start, end = window_for(path, args.articles)
            out = subprocess.run(
                [sys.executable, __file__, "--seed", str(args.seed), "--child", method, str(path), start, end],
                capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
            path.unlink()
    base = next((r["seconds"] for r in results if r["method"] == "bare"), None)
    for r in results:
        r["vs_bare"] = round(r["seconds"] / base, 2) if base else None
    loadavg = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"results": results, "load_1min": loadavg, "source": str(args.db or "synthetic")},
                         indent=2))
        return
    print(f"{results[0]['articles']:,} articles ({args.db or 'synthetic'}), load {loadavg:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"{'method':<12} {'seconds':>8} {'x bare':>7} {'topics':>7} {'outliers':>9} {'peak RSS MB':>12} {'jit s':>6}")
    for r in results:
        print(f"{r['method']:<12} {r['seconds']:>8.1f} {r['vs_bare'] or 0:>7.2f} {r['topics']:>7} "
              f"{r['outlier_share']:>9.1%} {r['peak_rss_mb']:>12.0f} {r['jit_s']:>6.1f}")


if __name__ == "__main__":
    main()
