"""Benchmark the index on a database of realistic shape: first build, full recompute, one-day update.

The default shape is the one issue 14 names: 1,000,000 articles and 4,000,000
article-narrative rows (4 narratives), 50 feeds over ~3,000 days. Feeds come and go (each
is active over its own span of days, some for a few months only), their volumes differ
twentyfold and their usual rate for each narrative differs too (a crypto site and a
general desk); each narrative's daily intensity wanders with bursts. Memberships follow
real proportions (from about 0.5% for a rare narrative to about 30%), 80% of members carry
a stance, and each article names about one linked and one unlinked entity. 3% of the
articles are duplicates (never counted).

``--shape uniform`` builds the store of earlier runs instead (``--rows`` article-narrative
rows: a quarter as many articles, 20 feeds, 365 days, 2 linked mentions each), which
bench_report.py reuses.

Timed, each against the baseline measured in the same run (the bare GROUP BY that counts
member articles per day, narrative and feed: the least any build has to do):

* first build into empty index tables,
* full recompute (``build_index``: recount, fit, weekly table, entity counts, all written),
* one-day update: 300 late articles arrive for the last day, then ``build_index(since=that day)``;
  its result must equal a full recompute.

Run:

    .venv/bin/python bench/bench_index.py [--articles 1000000] [--feeds 50] [--days 3000] [--json]
    .venv/bin/python bench/bench_index.py --shape uniform [--rows 1000000]   # the earlier store
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

import numpy as np
import sqlite_utils

from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.index.store import build_index

NARRATIVES = {  # id: typical share of articles that are members
    "ai_productivity": 0.15,
    "crypto_legitimacy": 0.30,
    "fed_easing_liquidity": 0.06,
    "ai_to_crypto_rotation": 0.005,
}
BASELINE_SQL = """
SELECT a.day, an.narrative_id, a.feed_id, COUNT(*)
FROM article_narratives an JOIN articles a ON a.id = an.article_id
WHERE an.is_member = 1 AND a.duplicate_of IS NULL
GROUP BY a.day, an.narrative_id, a.feed_id
"""
ENTITIES = 300


def _intensity(rng: np.random.Generator, days: int) -> np.ndarray:
    """A wandering daily intensity around 1 with occasional bursts."""
    walk = np.exp(np.cumsum(rng.normal(0, 0.03, days)))
    walk /= walk.mean()
    bursts = np.where(rng.random(days) < 0.01, rng.uniform(2, 4, days), 1.0)
    return walk * bursts


def build_realistic_db(path: Path, articles: int, feeds: int, days: int, seed: int) -> dict[str, Any]:
    """Write the realistic synthetic database; return its shape."""
    rng = np.random.default_rng(seed)
    start = date(2018, 6, 1)
    day_names = np.array([(start + timedelta(days=i)).isoformat() for i in range(days)])
    # Feeds: a span of activity each (a third run the whole time), a volume, a topic bias.
    first = np.where(rng.random(feeds) < 0.33, 0, rng.integers(0, days - 60, feeds))
    last = np.where(rng.random(feeds) < 0.5, days - 1,
                    np.minimum(days - 1, first + rng.integers(60, days, feeds)))
    last[0] = days - 1  # at least one feed reaches the last day
    volume = rng.lognormal(0, 1.0, feeds)
    bias = {n: rng.lognormal(0, 0.8, feeds) for n in NARRATIVES}
    # Articles: a feed chosen by volume, a day within its span.
    feed = rng.choice(feeds, size=articles, p=volume / volume.sum())
    day = first[feed] + (rng.random(articles) * (last[feed] - first[feed] + 1)).astype(np.int64)
    ids = np.arange(1, articles + 1)
    dup_of = np.where(rng.random(articles) < 0.03, np.maximum(ids - 1, 1), 0)
    dup_of[0] = 0
    db = open_db(path)
    conn = db.conn
    with transaction(conn):
        conn.executemany(
            "INSERT INTO feeds (id, name, url, created_at) VALUES (?, ?, ?, '2018-06-01T00:00:00Z')",
            [(f + 1, f"feed_{f + 1}", f"https://example.com/{f + 1}.xml") for f in range(feeds)],
        )
        conn.executemany("INSERT INTO narratives (id, label) VALUES (?, ?)", [(n, n) for n in NARRATIVES])
        conn.executemany(
            "INSERT INTO entities (id, name, type) VALUES (?, ?, 'company')",
            [(f"e{i}", f"Entity {i}") for i in range(ENTITIES)],
        )
        conn.executemany(
            "INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash, "
            "duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (int(i), int(f) + 1, f"k{i}", f"Synthetic story {i}", day_names[d], day_names[d] + "T12:00:00Z",
                 f"h{i}", int(p) or None)
                for i, f, d, p in zip(ids, feed, day, dup_of, strict=True)
            ),
        )  # fmt: skip
        scored = dup_of == 0
        members = 0
        for n, share in NARRATIVES.items():
            p = np.clip(share * bias[n][feed] / bias[n].mean() * _intensity(rng, days)[day], 0, 0.95)
            member = (rng.random(articles) < p) & scored
            members += int(member.sum())
            score = np.where(member, rng.uniform(0.5, 1.0, articles), rng.uniform(0.0, 0.5, articles))
            stance = np.where(member & (rng.random(articles) < 0.8), rng.uniform(-1, 1, articles), np.nan)
            conn.executemany(
                "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
                "model_version, evidence, stance) VALUES (?, ?, ?, ?, 'bench', 'bench-v1', '[]', ?)",
                (
                    (int(i), n, float(s), int(m), None if st != st else float(st))
                    for i, s, m, st in zip(ids[scored], score[scored], member[scored], stance[scored],
                                           strict=True)
                ),
            )  # fmt: skip
        linked = rng.integers(0, ENTITIES, articles)
        conn.executemany(
            "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", pipeline_version) "
            "VALUES (?, ?, 'Entity', ?, 0, 6, 'bench')",
            (
                row
                for i, e in zip(ids, linked, strict=True)
                for row in ((int(i), f"e{e}", "company"), (int(i), None, "ORG"))
            ),
        )  # fmt: skip
    conn.execute("ANALYZE")
    an_rows = conn.execute("SELECT COUNT(*) FROM article_narratives").fetchone()[0]
    conn.close()
    return {"articles": articles, "article_narratives": an_rows, "members": members,
            "mentions": 2 * articles, "feeds": feeds, "days": days, "narratives": len(NARRATIVES),
            "next_id": articles + 1, "last_day": str(day_names[-1])}  # fmt: skip


def add_late_realistic(db: sqlite_utils.Database, shape: dict[str, Any], count: int, seed: int) -> None:
    """Late articles for the last day, as a nightly ingest and enrich would bring."""
    rng = np.random.default_rng(seed)
    day = shape["last_day"]
    with transaction(db.conn):
        for _ in range(count):
            aid = shape["next_id"]
            shape["next_id"] += 1
            db.conn.execute(
                "INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash) "
                "VALUES (?, 1, ?, ?, ?, ?, ?)",
                (aid, f"k{aid}", f"Late story {aid}", day, day + "T23:00:00Z", f"h{aid}"),
            )
            for n, share in NARRATIVES.items():
                member = bool(rng.random() < share)
                db.conn.execute(
                    "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, "
                    "method, model_version, stance) VALUES (?, ?, ?, ?, 'bench', 'bench-v2', ?)",
                    (aid, n, float(rng.random()), int(member), float(rng.uniform(-1, 1)) if member else None),
                )
            db.conn.execute(
                "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
                "pipeline_version) VALUES (?, 'e1', 'Entity', 'company', 0, 6, 'bench')",
                (aid,),
            )


def build_db(path: Path, rows: int, feeds: int, days: int, narratives: int, seed: int) -> dict[str, Any]:
    """The uniform synthetic store (also used by bench_report.py): ``rows`` article-narrative rows."""
    rng = random.Random(seed)
    names = list(NARRATIVES)[:narratives] + [f"narrative_{i}" for i in range(len(NARRATIVES), narratives)]
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


def add_late_uniform(db: sqlite_utils.Database, shape: dict[str, Any], count: int, seed: int) -> None:
    """Late articles for the last day of the uniform store."""
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


def clear_index(db: sqlite_utils.Database) -> None:
    """Empty every table the index writes."""
    with transaction(db.conn):
        for table in ("source_daily", "narrative_source_daily", "coverage_daily", "narrative_index",
                      "narrative_source_rate", "narrative_index_fit", "narrative_weekly",
                      "narrative_entity_daily", "index_settings"):  # fmt: skip
            db.conn.execute(f"DELETE FROM {table}")


def existing_shape(path: Path) -> dict[str, Any]:
    """The shape of a database built by an earlier run (for --reuse)."""
    db = open_db(path)
    one = lambda sql: db.conn.execute(sql).fetchone()[0]  # noqa: E731
    shape = {"articles": one("SELECT COUNT(*) FROM articles"),
             "article_narratives": one("SELECT COUNT(*) FROM article_narratives"),
             "mentions": one("SELECT COUNT(*) FROM mentions"), "feeds": one("SELECT COUNT(*) FROM feeds"),
             "days": one("SELECT COUNT(DISTINCT day) FROM articles"),
             "narratives": one("SELECT COUNT(*) FROM narratives"),
             "next_id": one("SELECT MAX(id) FROM articles") + 1,
             "last_day": one("SELECT MAX(day) FROM articles")}  # fmt: skip
    db.conn.close()
    return shape


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall time and median CPU time of ``repeat`` runs, and the last result.

    CPU time is reported beside wall time because the machines these run on are shared: under
    load the wall clock measures the queue as much as the work.
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def snapshot(db: sqlite_utils.Database) -> list[tuple[Any, ...]]:
    """Every stored index figure except computed_at."""
    out: list[tuple[Any, ...]] = []
    for table, order in (("narrative_index", "narrative_id, day"), ("narrative_weekly", "narrative_id, week"),
                         ("narrative_source_rate", "narrative_id, feed_id"), ("coverage_daily", "day"),
                         ("narrative_source_daily", "narrative_id, day, feed_id"),
                         ("narrative_entity_daily", "narrative_id, day, entity_id")):  # fmt: skip
        cur = db.conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
        keep = [i for i, d in enumerate(cur.description) if d[0] != "computed_at"]
        out.extend(tuple(row[i] for i in keep) for row in cur)
    return out


def main() -> None:
    """Build, time, compare and print the figures (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=["realistic", "uniform"], default="realistic",
                        help="realistic (issue 14) or the uniform store of earlier runs (--rows)")
    parser.add_argument("--articles", type=int, default=1_000_000, help="realistic shape: articles")
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="uniform shape: article-narrative rows (4 narratives, 20 feeds, 365 days)")
    parser.add_argument("--feeds", type=int, default=50, help="realistic shape: feeds")
    parser.add_argument("--days", type=int, default=3000, help="realistic shape: days")
    parser.add_argument("--late", type=int, default=300, help="late articles for the last day")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="keep the database here (default: a temp dir)")
    parser.add_argument("--reuse", action="store_true",
                        help="time an existing --db again (built earlier with the same shape)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        t0 = time.perf_counter()
        add_late = add_late_realistic if args.shape == "realistic" else add_late_uniform
        if path.exists() and not args.reuse:
            raise SystemExit(f"{path} exists; choose a new --db path, or --reuse it")
        if args.reuse:
            shape = existing_shape(path)
        elif args.shape == "realistic":
            shape = build_realistic_db(path, args.articles, args.feeds, args.days, seed=7)
        else:
            shape = build_db(path, args.rows, 20, 365, 4, seed=7)
        build_s = time.perf_counter() - t0
        db = open_db(path)
        settings = Settings(db_path=path)
        clear_index(db)  # a reused database: the first build starts from empty index tables too
        baseline_s, baseline_cpu, _ = timed(lambda: db.conn.execute(BASELINE_SQL).fetchall(), args.repeat)
        first_s, first_cpu, _ = timed(lambda: build_index(db, settings), 1)
        full_s, full_cpu, full = timed(lambda: build_index(db, settings), args.repeat)
        add_late(db, shape, args.late, seed=8)
        inc_s, inc_cpu, inc = timed(lambda: build_index(db, settings, since=shape["last_day"]), args.repeat)
        after_incremental = snapshot(db)
        build_index(db, settings)
        identical = after_incremental == snapshot(db)
        db.conn.close()

    figures = {
        "shape": args.shape,
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
        "cpu_s": {"baseline": round(baseline_cpu, 3), "first_build": round(first_cpu, 3),
                  "full": round(full_cpu, 3), "incremental": round(inc_cpu, 3)},
        "index_rows": full.rows,
        "source_rows": full.source_rows,
        "entity_rows": inc.entity_rows,
        "spikes": full.spikes,
        "incremental_full": inc.full,
        "incremental_equals_full": identical,
        "targets_s": {"full": 5.0, "incremental": 1.0},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"Synthetic {args.shape} store: {shape['articles']:,} articles, {shape['article_narratives']:,} "
          f"article-narrative rows, {shape['mentions']:,} mentions, "
          f"{shape['feeds']} feeds x {shape['days']} days (built in {build_s:.1f}s)")
    print("                                      wall     ratio    CPU")
    print(f"baseline (bare member GROUP BY)   {baseline_s:8.3f} s   1.00x  {baseline_cpu:7.3f} s")
    print(f"first build (empty index tables)  {first_s:8.3f} s   {first_s / baseline_s:.2f}x  {first_cpu:7.3f} s")
    print(f"full recompute (build_index)      {full_s:8.3f} s   {full_s / baseline_s:.2f}x  {full_cpu:7.3f} s"
          "   target < 5 s")
    print(f"one-day update (--since)          {inc_s:8.3f} s   {inc_s / baseline_s:.3f}x  {inc_cpu:7.3f} s"
          f"   target < 1 s ({args.late} late articles)")
    print(f"index rows {full.rows:,}; member source-day rows {full.source_rows:,}; "
          f"entity-day rows {inc.entity_rows:,}; update == full recompute: {identical}")


if __name__ == "__main__":
    main()
