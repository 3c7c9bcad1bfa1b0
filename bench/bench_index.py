"""Benchmark the index at scale: full recompute and a one-day incremental update.

Builds a synthetic on-disk database (default 1,000,000 article-narrative rows: 250,000
articles x 4 narratives over 365 days and 20 feeds, 2 linked mentions per article, 3%
duplicates) and times:

* baseline: the bare GROUP BY that counts member articles per day, narrative and feed,
  the least any index build has to do;
* full: ``build_index`` over everything (recount, scaling, smoothing, z-scores, entity
  counts, all written in one transaction);
* incremental: late articles arrive for the last day, then ``build_index(since=last day)``.

Ratios are against the baseline measured in the same run. It also checks that the
incremental result equals a full recompute. Run:

    .venv/bin/python bench/bench_index.py [--rows 1000000] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.index.store import build_index

NARRATIVES = ["ai_productivity", "crypto_legitimacy", "fed_easing_liquidity", "ai_to_crypto_rotation"]
BASELINE_SQL = """
SELECT a.day, an.narrative_id, a.feed_id, COUNT(*)
FROM article_narratives an JOIN articles a ON a.id = an.article_id
WHERE an.is_member = 1 AND a.duplicate_of IS NULL
GROUP BY a.day, an.narrative_id, a.feed_id
"""


def build_db(path: Path, rows: int, feeds: int, days: int, narratives: int, seed: int) -> dict[str, Any]:
    """Write the synthetic database; return its shape."""
    rng = random.Random(seed)
    names = NARRATIVES[:narratives] + [f"narrative_{i}" for i in range(len(NARRATIVES), narratives)]
    db = open_db(path)
    conn = db.conn
    articles = rows // len(names)
    start = date(2025, 1, 1)
    day_names = [(start + timedelta(days=i)).isoformat() for i in range(days)]
    # Each narrative's daily membership rate wanders, with occasional bursts, so the
    # index has something to scale, smooth and flag.
    rates = {}
    for n in names:
        level, series = rng.uniform(0.05, 0.3), []
        for _ in range(days):
            level = min(0.6, max(0.01, level + rng.gauss(0, 0.01)))
            series.append(level * (3 if rng.random() < 0.02 else 1))
        rates[n] = series
    with transaction(conn):
        conn.executemany(
            "INSERT INTO feeds (id, name, url, created_at) VALUES (?, ?, ?, '2025-01-01T00:00:00Z')",
            [(f, f"feed_{f}", f"https://example.com/{f}.xml") for f in range(1, feeds + 1)],
        )
        conn.executemany(
            "INSERT INTO narratives (id, label) VALUES (?, ?)", [(n, n) for n in names]
        )
        conn.executemany(
            "INSERT INTO entities (id, name, type) VALUES (?, ?, 'company')",
            [(f"e{i}", f"Entity {i}") for i in range(200)],
        )
    article_rows: list[tuple[Any, ...]] = []
    narrative_rows: list[tuple[Any, ...]] = []
    mention_rows: list[tuple[Any, ...]] = []
    next_id = 1
    for i in range(articles):
        day = rng.randrange(days)
        feed = rng.randint(1, feeds)
        aid = next_id
        next_id += 1
        article_rows.append((aid, feed, f"k{aid}", f"Synthetic story {aid}", day_names[day],
                             day_names[day] + "T12:00:00Z", f"h{aid}", None))
        for n in names:
            member = rng.random() < rates[n][day]
            score = rng.uniform(0.5, 1.0) if member else rng.uniform(0.0, 0.5)
            evidence = '[{"sentence": "A synthetic sentence of evidence.", "score": 0.7}]' if member else "[]"
            narrative_rows.append((aid, n, score, int(member), "bench", "bench-v1", evidence))
        for e in rng.sample(range(200), 2):
            mention_rows.append((aid, f"e{e}", "Entity", "ORG", 0, 6, "bench"))
        if i % 33 == 0:  # a duplicate: never classified, must not count
            dup = next_id
            next_id += 1
            article_rows.append((dup, feed, f"k{dup}", f"Synthetic story {aid}", day_names[day],
                                 day_names[day] + "T13:00:00Z", f"h{aid}", aid))
    with transaction(conn):
        conn.executemany(
            "INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash, "
            "duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            article_rows,
        )
        conn.executemany(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version, evidence) VALUES (?, ?, ?, ?, ?, ?, ?)",
            narrative_rows,
        )
        conn.executemany(
            "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
            "pipeline_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
            mention_rows,
        )
    conn.execute("ANALYZE")
    conn.close()
    return {"articles": len(article_rows), "article_narratives": len(narrative_rows),
            "mentions": len(mention_rows), "feeds": feeds, "days": days, "narratives": len(names),
            "next_id": next_id, "last_day": day_names[-1]}


def add_late_articles(db: sqlite_utils.Database, shape: dict[str, Any], count: int, seed: int) -> None:
    """Late articles for the last day, as a nightly ingest would bring."""
    rng = random.Random(seed)
    names = [r[0] for r in db.conn.execute("SELECT id FROM narratives")]
    day = shape["last_day"]
    with transaction(db.conn):
        for _ in range(count):
            aid = shape["next_id"]
            shape["next_id"] += 1
            db.conn.execute(
                "INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (aid, rng.randint(1, shape["feeds"]), f"k{aid}", f"Late story {aid}", day,
                 day + "T23:00:00Z", f"h{aid}"),
            )
            for n in names:
                member = rng.random() < 0.3
                db.conn.execute(
                    "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, "
                    "method, model_version) VALUES (?, ?, ?, ?, 'bench', 'bench-v2')",
                    (aid, n, rng.random(), int(member)),
                )
            db.conn.execute(
                "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
                "pipeline_version) VALUES (?, 'e1', 'Entity', 'ORG', 0, 6, 'bench')",
                (aid,),
            )


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Wall time of the first run, median of ``repeat`` more, and the last result."""
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times), result


def snapshot(db: sqlite_utils.Database) -> list[tuple[Any, ...]]:
    """The index rows without computed_at, floats rounded past summation-order noise."""
    return [
        tuple(round(v, 9) if isinstance(v, float) else v for v in row)
        for row in db.conn.execute(
            "SELECT day, narrative_id, articles, weighted_articles, total_articles, sources, "
            "share, index_value, smoothed_7d, zscore, spike, model_version FROM narrative_index "
            "ORDER BY narrative_id, day"
        )
    ]


def main() -> None:
    """Build, time, compare and print the figures (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="article-narrative rows")
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--narratives", type=int, default=4)
    parser.add_argument("--late", type=int, default=500, help="late articles for the last day")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="keep the database here (default: a temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        if path.exists():
            raise SystemExit(f"{path} exists; choose a new --db path")
        t0 = time.perf_counter()
        shape = build_db(path, args.rows, args.feeds, args.days, args.narratives, seed=7)
        build_s = time.perf_counter() - t0
        db = open_db(path)
        settings = Settings(db_path=path)

        _, baseline_s, _ = timed(lambda: db.conn.execute(BASELINE_SQL).fetchall(), args.repeat)
        # The first build writes every row into empty tables; later ones rewrite only what
        # changed in narrative_entity_daily (the largest output).
        first_s, full_s, full = timed(lambda: build_index(db, settings), args.repeat)
        add_late_articles(db, shape, args.late, seed=8)
        _, inc_s, inc = timed(lambda: build_index(db, settings, since=shape["last_day"]), args.repeat)
        after_incremental = snapshot(db)
        build_index(db, settings)
        identical = after_incremental == snapshot(db)
        db.conn.close()

    figures = {
        **{k: v for k, v in shape.items() if k != "next_id"},
        "late_articles": args.late,
        "build_db_s": round(build_s, 1),
        "baseline_s": round(baseline_s, 3),
        "first_build_s": round(first_s, 3),
        "first_build_ratio": round(first_s / baseline_s, 2),
        "full_s": round(full_s, 3),
        "full_ratio": round(full_s / baseline_s, 2),
        "incremental_s": round(inc_s, 3),
        "incremental_ratio": round(inc_s / baseline_s, 3),
        "index_rows": full.rows,
        "source_rows": full.source_rows,
        "entity_rows": inc.entity_rows,
        "incremental_equals_full": identical,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"Synthetic store: {shape['article_narratives']:,} article-narrative rows, "
          f"{shape['articles']:,} articles, {shape['mentions']:,} mentions, "
          f"{shape['feeds']} feeds x {shape['days']} days x {shape['narratives']} narratives "
          f"(built in {build_s:.1f}s)")
    print(f"baseline (bare member GROUP BY)   {baseline_s:8.3f} s   1.00x")
    print(f"first build (empty index tables)  {first_s:8.3f} s   {first_s / baseline_s:.2f}x")
    print(f"full recompute (build_index)      {full_s:8.3f} s   {full_s / baseline_s:.2f}x")
    print(f"incremental, one late day         {inc_s:8.3f} s   {inc_s / baseline_s:.3f}x "
          f"({args.late} late articles)")
    print(f"index rows {full.rows:,}; source-day rows {full.source_rows:,}; "
          f"entity-day rows {inc.entity_rows:,}; incremental == full: {identical}")


if __name__ == "__main__":
    main()
