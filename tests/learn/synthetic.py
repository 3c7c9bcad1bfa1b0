"""A small synthetic news store for the discovery and story tests (written for the tests).

Articles are made of topic words so that the deterministic hashed bag-of-words
:class:`~tracker.enrich.embeddings.FakeEmbedder` puts each topic's articles close together.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import numpy as np
import sqlite_utils

from tracker.enrich.embeddings import FakeEmbedder, vector_to_bytes

#: Topic -> (words its headlines are drawn from, first day offset, last day offset, articles).
TOPICS: dict[str, tuple[list[str], int, int, int]] = {
    "tariffs": (["tariffs", "trade", "duties", "imports", "customs", "exporters", "levies", "steel"], 0, 27, 120),
    "gold": (["gold", "bullion", "ounce", "record", "haven", "miners", "vaults", "jewellers"], 0, 27, 120),
    "shutdown": (["shutdown", "congress", "funding", "furloughed", "appropriations", "senate",
                  "lapse", "workers"], 0, 13, 120),
    "drought": (["drought", "harvest", "wheat", "rainfall", "farmers", "crop", "irrigation",
                 "livestock"], 21, 27, 60),
}
START = date(2026, 3, 2)  # a Monday
FEEDS = ("wire", "daily", "weekly")


def day(offset: int) -> str:
    """The synthetic calendar: ``START`` plus ``offset`` days."""
    return (START + timedelta(days=offset)).isoformat()


def make_articles(seed: int = 7) -> list[dict[str, Any]]:
    """Headlines per topic spread over its days, in a fixed order."""
    rng = random.Random(seed)
    out = []
    for topic, (words, first, last, n) in TOPICS.items():
        for i in range(n):
            picked = rng.sample(words, 5)
            title = " ".join(picked).capitalize() + f" report {i}"
            out.append({"topic": topic, "title": title, "day": day(rng.randint(first, last)),
                        "feed": FEEDS[i % len(FEEDS)]})
    rng.shuffle(out)
    return out


def add_feeds(db: sqlite_utils.Database) -> dict[str, int]:
    """The three synthetic feeds; name -> id."""
    ids = {}
    for name in FEEDS:
        cur = db.conn.execute("INSERT INTO feeds (name, url, created_at) VALUES (?, ?, 'now')",
                              (name, f"file:{name}.xml"))
        ids[name] = int(cur.lastrowid or 0)
    return ids


def insert_article(db: sqlite_utils.Database, feed_id: int, title: str, day_: str,
                   duplicate_of: int | None = None, summary: str | None = None) -> int:
    """One article row (no vector)."""
    n = db.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    cur = db.conn.execute(
        "INSERT INTO articles (feed_id, item_key, url, title, summary, day, published_at, fetched_at,"
        " content_hash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (feed_id, f"k{n}", f"https://example.org/{n}", title, summary, day_, f"{day_}T12:00:00Z",
         f"{day_}T23:00:00Z", f"h{n}", duplicate_of),
    )
    return int(cur.lastrowid or 0)


def store_vectors(db: sqlite_utils.Database, embedder: FakeEmbedder, ids: list[int],
                  texts: list[str]) -> None:
    """Write ``article_embeddings`` rows the way the narratives stage does."""
    vecs = embedder.encode(texts)
    db.conn.executemany(
        "INSERT OR REPLACE INTO article_embeddings (article_id, model, dim, vector) VALUES (?, ?, ?, ?)",
        [(a, embedder.name, embedder.dim, vector_to_bytes(v)) for a, v in zip(ids, vecs, strict=True)],
    )


def build_store(db: sqlite_utils.Database, embedder: FakeEmbedder | None = None,
                seed: int = 7) -> dict[str, list[int]]:
    """Feeds, the synthetic articles and their vectors; returns article ids per topic."""
    embedder = embedder or FakeEmbedder(dim=64)
    feeds = add_feeds(db)
    by_topic: dict[str, list[int]] = {}
    ids, texts = [], []
    for art in make_articles(seed):
        aid = insert_article(db, feeds[art["feed"]], art["title"], art["day"])
        by_topic.setdefault(art["topic"], []).append(aid)
        ids.append(aid)
        texts.append(art["title"])
    store_vectors(db, embedder, ids, texts)
    return by_topic


def unit_rows(m: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1."""
    return m / np.linalg.norm(m, axis=1, keepdims=True)
