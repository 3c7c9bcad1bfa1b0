"""The index over ten months of real feeds (../shared/data/orx365-rss-arch/daily/).

Narrative membership here comes from a small keyword labeller written for this test: the
point is the index on real volumes (sources that come and go, thin days, a backfilled
start), not the classifier, which has its own tests and evaluation.
"""

from __future__ import annotations

import re
import statistics
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils

from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.index.store import build_index
from tracker.ingest import replay as ingest

KEYWORDS = {
    "inflation": re.compile(r"\b(inflation|prices?|cpi)\b", re.I),
    "trade": re.compile(r"\b(tariffs?|trade)\b", re.I),
    "ai": re.compile(r"\b(ai|artificial intelligence|nvidia|openai|chips?)\b", re.I),
}
LATE_DAYS = 3


def label_new_articles(db: sqlite_utils.Database) -> None:
    """Score every unscored non-duplicate article against the keyword narratives."""
    conn = db.conn
    rows = conn.execute(
        "SELECT id, coalesce(title, '') || ' ' || coalesce(summary, '') FROM articles a "
        "WHERE duplicate_of IS NULL AND NOT EXISTS "
        "(SELECT 1 FROM article_narratives an WHERE an.article_id = a.id)"
    ).fetchall()
    with transaction(conn):
        conn.executemany(
            "INSERT OR IGNORE INTO narratives (id, label) VALUES (?, ?)",
            [(n, n.title()) for n in KEYWORDS],
        )
        conn.executemany(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version) VALUES (?, ?, ?, ?, 'keywords', 'test-keywords-1')",
            [
                (aid, n, min(1.0, 0.4 * len(rx.findall(text))), int(bool(rx.search(text))))
                for aid, text in rows
                for n, rx in KEYWORDS.items()
            ],
        )


def index_table(db: sqlite_utils.Database) -> list[tuple[object, ...]]:
    return [
        tuple(round(v, 9) if isinstance(v, float) else v for v in row)
        for row in db.conn.execute(
            "SELECT day, narrative_id, articles, weighted_articles, total_articles, sources, "
            "share, weighted_share, scaled_mean, index_value, smoothed_7d, zscore, spike, "
            "model_version FROM narrative_index ORDER BY narrative_id, day"
        )
    ]


@pytest.mark.slow
def test_real_feeds_give_a_row_per_narrative_per_day(shared_data: Path, db_path: Path) -> None:
    daily = shared_data / "orx365-rss-arch" / "daily"
    files = list(ingest.snapshot_files(daily))
    days = sorted({p.stem for _, p in files})
    late = set(days[-LATE_DAYS:])
    db = open_db(db_path)
    settings = Settings(db_path=db_path)

    # Replay all but the last days, index; then the late snapshots arrive.
    ingest.replay_dir(db, settings, daily, files=[(n, p) for n, p in files if p.stem not in late])
    label_new_articles(db)
    build_index(db, settings)
    ingest.replay_dir(db, settings, daily, files=[(n, p) for n, p in files if p.stem in late])
    label_new_articles(db)
    since = db.conn.execute(
        "SELECT MIN(a.day) FROM articles a WHERE a.fetched_at >= ?", (min(late),)
    ).fetchone()[0]
    incremental = build_index(db, settings, since=since)
    after_incremental = index_table(db)
    full = build_index(db, settings)
    assert not incremental.full and full.full
    assert after_incremental == index_table(db)

    # A row per narrative per day, from the first to the last day a source reaches 2 articles.
    first, last = db.conn.execute(
        "SELECT MIN(day), MAX(day) FROM (SELECT day FROM articles WHERE duplicate_of IS NULL "
        "GROUP BY day, feed_id HAVING COUNT(*) >= 2)"
    ).fetchone()
    span = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    assert span > 290  # ten months of data
    assert (full.first_day, full.last_day, full.days) == (first, last, span)
    per_narrative = dict(
        db.conn.execute(
            "SELECT narrative_id, COUNT(DISTINCT day) FROM narrative_index GROUP BY narrative_id"
        ).fetchall()
    )
    assert per_narrative == dict.fromkeys(KEYWORDS, span)

    # Missing days (no source with 2+ articles) are NULL, never zero; the rest have a share.
    thin = {
        r[0]
        for r in db.conn.execute(
            "SELECT day FROM narrative_index WHERE narrative_id = 'ai' AND day NOT IN "
            "(SELECT day FROM articles WHERE duplicate_of IS NULL GROUP BY day, feed_id "
            "HAVING COUNT(*) >= 2)"
        )
    }
    assert thin, "the backfilled start of this corpus has thin days"
    for day, share, value, sources in db.conn.execute(
        "SELECT day, share, index_value, sources FROM narrative_index WHERE narrative_id = 'ai'"
    ):
        assert (share is None) == (day in thin) == (sources == 0)
        assert value is None or day not in thin

    # The whole history is the base window: each index averages 100 over it.
    for narrative in KEYWORDS:
        values = [
            r[0]
            for r in db.conn.execute(
                "SELECT index_value FROM narrative_index WHERE narrative_id = ? "
                "AND index_value IS NOT NULL",
                (narrative,),
            )
        ]
        assert statistics.mean(values) == pytest.approx(100.0)
    spikes = db.conn.execute("SELECT COUNT(*) FROM narrative_index WHERE spike = 1").fetchone()[0]
    assert 0 < spikes < 0.1 * full.rows
    db.conn.close()
