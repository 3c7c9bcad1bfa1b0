"""A synthetic tracker database of any size for the serving benchmark (no models, no network).

Made-up headlines from a small vocabulary, ``--articles`` spread over ``--days`` days and
``--feeds`` feeds, with linked entity mentions (a few very common entities, a long tail),
narrative scores with evidence and stance, story clusters (a few articles of a day per
story) and a 2 % duplicate rate; then the tracker's own index build. Everything is written
with ``executemany`` in one transaction per table, so a million articles take a few
minutes (the FTS triggers are most of it). Deterministic for a given ``--seed``.

    nice -n 10 .venv/bin/python bench/synth_db.py --articles 1000000 --out /tmp/site_bench/synth.db
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import date, timedelta
from pathlib import Path

from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.index.store import build_index

WORDS = (
    "market", "stocks", "rates", "inflation", "bank", "growth", "earnings", "chips", "data",
    "centre", "bitcoin", "token", "stablecoin", "regulator", "bond", "yield", "dollar",
    "oil", "energy", "china", "trade", "tariff", "budget", "deficit", "jobs", "wages",
    "housing", "credit", "lending", "profit", "outlook", "forecast", "investors", "rally",
    "slump", "record", "quarter", "guidance", "demand", "supply", "cloud", "model",
    "startup", "funding", "merger", "deal",
)
NARRATIVES = {
    "ai_productivity": ("AI investment and productivity", ("chips", "cloud", "model", "data")),
    "crypto_legitimacy": ("Crypto goes mainstream", ("bitcoin", "token", "stablecoin")),
    "fed_easing_liquidity": ("Fed easing and liquidity", ("rates", "inflation", "yield")),
    "ai_to_crypto_rotation": ("AI-to-crypto rotation", ("token", "chips")),
}


def generate(
    out: Path, n_articles: int, n_days: int, n_feeds: int, n_entities: int, seed: int
) -> dict[str, float]:
    """Write the synthetic database to ``out`` (replaced) and build its index."""
    rng = random.Random(seed)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{out}{suffix}").unlink(missing_ok=True)
    db = open_db(out)
    conn = db.conn
    conn.execute("PRAGMA synchronous = OFF")
    seconds: dict[str, float] = {}
    start = date(2025, 1, 1)
    t = time.perf_counter()
    with transaction(conn):
        conn.executemany(
            "INSERT INTO feeds (id, name, title, url, tags, enabled, created_at) "
            "VALUES (?, ?, ?, ?, '[]', 1, '2025-01-01T00:00:00Z')",
            [
                (i, f"feed_{i:02d}", f"Synthetic Feed {i}", f"https://feed{i}.example/rss")
                for i in range(1, n_feeds + 1)
            ],
        )
        conn.executemany(
            "INSERT INTO narratives (id, label, description) VALUES (?, ?, ?)",
            [(k, v[0], f"Synthetic narrative {v[0]}.") for k, v in NARRATIVES.items()],
        )
        conn.executemany(
            "INSERT INTO entities (id, name, type, aliases, affiliations) "
            "VALUES (?, ?, 'ORG', '[]', '[]')",
            [(f"ent_{i:04d}", f"Entity {i}") for i in range(n_entities)],
        )
    per_day = n_articles / n_days
    articles, mentions, scores, stories, story_rows = [], [], [], [], []
    cluster_id = 0
    for aid in range(1, n_articles + 1):
        day = (start + timedelta(days=int((aid - 1) / per_day))).isoformat()
        feed = rng.randint(1, n_feeds)
        words = rng.sample(WORDS, 7)
        title = " ".join(words).capitalize()
        summary = (
            f"Investors weighed {words[0]} and {words[1]} as {words[2]} moved; {words[3]} next."
        )
        dup = aid - 1 if aid > 1 and rng.random() < 0.02 else None
        articles.append(
            (
                aid,
                feed,
                f"k{aid}",
                f"https://feed{feed}.example/a/{aid}",
                f"https://feed{feed}.example/a/{aid}",
                title,
                summary,
                f"{day}T12:00:00Z",
                day,
                f"{day}T13:00:00Z",
                f"h{aid}",
                dup,
                "title" if dup else None,
            )
        )
        # Zipf-like entities: entity 0 in ~30 % of articles, the tail rarely.
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            e = min(int(rng.paretovariate(0.6)) - 1, n_entities - 1)
            mentions.append((aid, f"ent_{e:04d}", f"Entity {e}", 0, 8, 0))
        for nid, (_, keys) in NARRATIVES.items():
            hit = sum(w in keys for w in words)
            if hit:
                score = min(1.0, 0.45 + 0.2 * hit + rng.random() * 0.1)
                ev = json.dumps([{"sentence": summary, "score": round(score, 3)}])
                scores.append(
                    (aid, nid, score, int(score >= 0.6), ev, round(rng.uniform(-1, 1), 2))
                )
        if dup is None:
            if not stories or stories[-1][1] != day or rng.random() < 0.3:
                cluster_id += 1
                stories.append([cluster_id, day, aid, title, set()])
            stories[-1][4].add(feed)
            story_rows.append((aid, cluster_id, 1.0 if stories[-1][2] == aid else 0.8, 0))
    seconds["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    with transaction(conn):
        conn.executemany(
            "INSERT INTO articles (id, feed_id, item_key, url, canonical_url, title, summary, "
            "published_at, day, fetched_at, content_hash, duplicate_of, duplicate_reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            articles,
        )
    seconds["articles"] = time.perf_counter() - t
    t = time.perf_counter()
    with transaction(conn):
        conn.executemany(
            'INSERT INTO mentions (article_id, entity_id, text, label, start, "end", '
            "sentence_index, pipeline_version) VALUES (?, ?, ?, 'ORG', ?, ?, ?, 'synth-1')",
            mentions,
        )
        conn.executemany(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version, evidence, stance) VALUES (?, ?, ?, ?, 'synth', 'synth-1', ?, ?)",
            scores,
        )
        sizes: dict[int, int] = {}
        for _, cid, _, _ in story_rows:
            sizes[cid] = sizes.get(cid, 0) + 1
        conn.executemany(
            "INSERT INTO story_clusters (id, first_day, last_day, articles, copies, sources, "
            "representative_id, title, version, updated_at) "
            "VALUES (?, ?, ?, ?, 0, ?, ?, ?, 'synth', '2025-01-01T00:00:00Z')",
            [
                (cid, day, day, sizes[cid], len(feeds), rep, title)
                for cid, day, rep, title, feeds in stories
            ],
        )
        conn.executemany(
            "INSERT INTO story_articles (article_id, cluster_id, similarity, is_copy) "
            "VALUES (?, ?, ?, ?)",
            story_rows,
        )
    seconds["rest"] = time.perf_counter() - t
    t = time.perf_counter()
    build_index(db, Settings(db_path=out))
    seconds["index"] = time.perf_counter() - t
    conn.execute("PRAGMA optimize")
    conn.close()
    return seconds


def main() -> None:
    """Generate the database named by --out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--entities", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    seconds = generate(args.out, args.articles, args.days, args.feeds, args.entities, args.seed)
    print(json.dumps(seconds))


if __name__ == "__main__":
    main()
