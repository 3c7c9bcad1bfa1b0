"""A synthetic tracker database whose AI narrative leads its crypto narrative by three days."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import sqlite_utils


def build_lead_db(db: sqlite_utils.Database, *, days: int = 180, lag: int = 3, strength: float = 0.8,
                  feeds: int = 3, per_day: int = 40, seed: int = 7, lead_feeds: tuple[int, ...] = ()) -> list[str]:
    """Articles over ``days`` days from ``feeds`` feeds, members drawn from latent AR(1) shares.

    Crypto's latent share follows AI's ``lag`` days earlier with weight ``strength`` (in the
    feeds of ``lead_feeds`` only, when given). Returns the days.
    """
    rng = np.random.default_rng(seed)
    conn = db.conn
    for n, label in (("ai", "AI doubt"), ("crypto", "Crypto"), ("gold", "Gold")):
        conn.execute("INSERT INTO narratives (id, label) VALUES (?, ?)", (n, label))
    for f in range(1, feeds + 1):
        conn.execute("INSERT INTO feeds (id, name, url, created_at) VALUES (?, ?, ?, '2025-01-01T00:00:00Z')",
                     (f, f"feed{f}", f"https://example.com/{f}.xml"))
    x, y, z = np.zeros(days), np.zeros(days), np.zeros(days)
    noise = rng.normal(scale=0.6, size=(days, 3))
    for t in range(1, days):
        x[t] = 0.5 * x[t - 1] + noise[t, 0]
        z[t] = 0.5 * z[t - 1] + noise[t, 2]
        y[t] = 0.3 * y[t - 1] + noise[t, 1]
    day_list = [(date(2025, 1, 1) + timedelta(days=i)).isoformat() for i in range(days)]
    articles, scores = [], []
    next_id = 1
    for i, day in enumerate(day_list):
        for f in range(1, feeds + 1):
            led = strength * x[i - lag] if i >= lag and (not lead_feeds or f in lead_feeds) else 0.0
            shares = {"ai": 0.2 * np.exp(x[i]), "crypto": 0.2 * np.exp(y[i] + led), "gold": 0.2 * np.exp(z[i])}
            ids = range(next_id, next_id + per_day)
            articles += [(a, f, f"k{a}", f"Story {a}", day, day + "T12:00:00Z", f"h{a}") for a in ids]
            for n, share in shares.items():
                members = rng.random(per_day) < min(share, 0.95)
                stances = rng.choice([-0.5, 0.5], per_day)
                scores += [(a, n, 0.9 if m else 0.1, int(m), "narr-v1", float(st) if m else None)
                           for a, m, st in zip(ids, members.tolist(), stances.tolist(), strict=True)]
            next_id += per_day
    conn.executemany("INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", articles)
    conn.executemany("INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
                     "model_version, stance) VALUES (?, ?, ?, ?, 'test', ?, ?)", scores)
    conn.commit()
    return day_list
