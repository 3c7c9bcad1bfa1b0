"""The index over ten months of real feeds (../shared/data/orx365-rss-arch/daily/).

Narrative membership here comes from a small keyword labeller written for this test: the
point is the index on real volumes (sources that come and go, thin days, a backfilled
start), not the classifier, which has its own tests and evaluation.
"""

from __future__ import annotations

import re
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
        tuple(row)
        for table, order in (("narrative_index", "narrative_id, day"), ("narrative_weekly", "narrative_id, week"),
                             ("narrative_source_rate", "narrative_id, feed_id"), ("coverage_daily", "day"))
        for row in db.conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
    ]  # fmt: skip


def strip_time(rows: list[tuple[object, ...]], db: sqlite_utils.Database) -> list[tuple[object, ...]]:
    stamp = db.conn.execute("SELECT MAX(computed_at) FROM narrative_index").fetchone()[0]
    return [tuple(v for v in row if v != stamp) for row in rows]


@pytest.mark.slow
def test_real_feeds_give_a_row_per_narrative_per_covered_day(shared_data: Path, db_path: Path) -> None:
    daily = shared_data / "orx365-rss-arch" / "daily"
    files = list(ingest.snapshot_files(daily))
    days = sorted({p.stem for _, p in files})
    late = set(days[-LATE_DAYS:])
    db = open_db(db_path)
    settings = Settings(db_path=db_path)

    # Replay all but the last days, index; then the late snapshots arrive.
    ingest.replay_dir(db, settings, daily, files=[(n, p) for n, p in files if p.stem not in late])
    label_new_articles(db)
    build_index(db, settings, env={})
    ingest.replay_dir(db, settings, daily, files=[(n, p) for n, p in files if p.stem in late])
    label_new_articles(db)
    since = db.conn.execute(
        "SELECT MIN(a.day) FROM articles a WHERE a.fetched_at >= ?", (min(late),)
    ).fetchone()[0]
    incremental = build_index(db, settings, since=since, env={})
    after_incremental = strip_time(index_table(db), db)
    full = build_index(db, settings, env={})
    assert not incremental.full and full.full
    assert after_incremental == strip_time(index_table(db), db)

    # A row per narrative per day, from the first of seven consecutive covered days (10+
    # scored articles over all feeds) to the last covered day; stale items in the first
    # snapshots do not start it.
    covered = [date.fromisoformat(r[0]) for r in db.conn.execute(
        "SELECT day FROM articles WHERE duplicate_of IS NULL GROUP BY day HAVING COUNT(*) >= 10 ORDER BY day"
    )]  # fmt: skip
    starts = [d for i, d in enumerate(covered)
              if covered[i:i + 7] == [date.fromordinal(d.toordinal() + k) for k in range(7)]]  # fmt: skip
    first, last = starts[0].isoformat(), covered[-1].isoformat()
    oldest = db.conn.execute("SELECT MIN(day) FROM articles").fetchone()[0]
    assert oldest < covered[0].isoformat() <= first
    span = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
    assert span > 290  # ten months of data
    assert (full.first_day, full.last_day, full.days) == (first, last, span)
    per_narrative = dict(
        db.conn.execute(
            "SELECT narrative_id, COUNT(DISTINCT day) FROM narrative_index GROUP BY narrative_id"
        ).fetchall()
    )
    assert per_narrative == dict.fromkeys(KEYWORDS, span)

    # Uncovered days are NULL, never zero; the covered ones have a share.
    for covered, share, value, expected in db.conn.execute(
        "SELECT covered, share, index_value, expected_articles FROM narrative_index WHERE narrative_id = 'ai'"
    ):
        assert (share is None) == (expected is None) == (not covered)
        assert value is None or covered

    # The base window is the whole history: each narrative's daily ratio of members to
    # expected members averages 1 there (100 on the index scale).
    for narrative in KEYWORDS:
        mean_ratio = db.conn.execute(
            "SELECT AVG(100.0 * articles / expected_articles) FROM narrative_index WHERE narrative_id = ? "
            "AND covered = 1 AND expected_articles > 0",
            (narrative,),
        ).fetchone()[0]
        assert mean_ratio == pytest.approx(100.0)
    spikes = db.conn.execute("SELECT COUNT(*) FROM narrative_index WHERE spike = 1").fetchone()[0]
    assert spikes < 0.05 * full.rows
    db.conn.close()
