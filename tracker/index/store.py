"""Read the counts the index needs from the store and write every figure back, in one transaction."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlite_utils

from tracker.base.db import transaction, utcnow
from tracker.base.settings import Settings
from tracker.index.compute import (
    BASE_COLUMNS,
    COUNT_COLUMNS,
    INDEX_COLUMNS,
    SCALE_COLUMNS,
    SOURCE_COLUMNS,
    TOTAL_COLUMNS,
    IndexParams,
    IndexResult,
    compute_index,
    join_versions,
    parse_day,
)

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------------ store


def load_narratives(conn: sqlite3.Connection) -> list[str]:
    """Ids of every defined narrative: each gets a row per day, even with no articles."""
    return [r[0] for r in conn.execute("SELECT id FROM narratives ORDER BY id")]


def load_totals(
    conn: sqlite3.Connection, since: str | None = None, probe: str | None = None
) -> pd.DataFrame:
    """All non-duplicate articles per (day, feed_id), and how many have narrative scores.

    The enrich stage scores every narrative of an article together, so "scored" is checked
    against one narrative, ``probe``: a single primary-key lookup per article, where a
    check per narrative would cost as much as the whole index.
    """
    sql = (
        "SELECT a.day, a.feed_id, COUNT(*) AS total_articles, "
        "COUNT(an.article_id) AS scored_articles FROM articles a "
        "LEFT JOIN article_narratives an ON an.article_id = a.id AND an.narrative_id = ? "
        "WHERE a.duplicate_of IS NULL"
    )
    args: tuple[str | None, ...] = (probe,)
    if since:
        sql += " AND a.day >= ?"
        args = (probe, since)
    return _frame(conn, sql + " GROUP BY a.day, a.feed_id", args, TOTAL_COLUMNS)


#: Member articles, their score sum and model versions per (day, narrative, feed). A full
#: recount walks the members through idx_article_narratives_narrative (a quarter of the
#: rows, and only the members' wide rows are read); a ``since`` recount starts from
#: idx_articles_day instead.
MEMBERS_SQL = {
    "full": """
        SELECT a.day, an.narrative_id, a.feed_id, COUNT(*), TOTAL(an.score),
               GROUP_CONCAT(DISTINCT an.model_version)
        FROM article_narratives an INDEXED BY idx_article_narratives_narrative
        CROSS JOIN articles a ON a.id = an.article_id
        WHERE an.is_member = 1 AND a.duplicate_of IS NULL
        GROUP BY a.day, an.narrative_id, a.feed_id""",
    "since": """
        SELECT a.day, an.narrative_id, a.feed_id, COUNT(*), TOTAL(an.score),
               GROUP_CONCAT(DISTINCT an.model_version)
        FROM articles a INDEXED BY idx_articles_day
        JOIN article_narratives an ON an.article_id = a.id
        WHERE a.day >= ? AND an.is_member = 1 AND a.duplicate_of IS NULL
        GROUP BY a.day, an.narrative_id, a.feed_id""",
}


def load_counts(conn: sqlite3.Connection, since: str | None = None) -> pd.DataFrame:
    """Member counts per (day, narrative, feed) from the articles, optionally from ``since``.

    ``is_member`` is stored as 0/1; ``model_version`` lists the versions of the member rows.
    """
    if since:
        frame = _frame(conn, MEMBERS_SQL["since"], (since,), COUNT_COLUMNS)
    else:
        frame = _frame(conn, MEMBERS_SQL["full"], (), COUNT_COLUMNS)
    frame["model_version"] = [join_versions([v]) for v in frame["model_version"]]
    return frame


def load_stored(conn: sqlite3.Connection, before: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Totals (with scored totals) and counts stored in ``narrative_source_daily`` before ``before``."""
    stored = _frame(
        conn,
        "SELECT day, narrative_id, feed_id, articles, weighted_articles, total_articles, "
        "scored_articles, model_version FROM narrative_source_daily WHERE day < ?",
        (before,),
        ["day", "narrative_id", "feed_id", "articles", "weighted_articles", "total_articles",
         "scored_articles", "model_version"],
    )  # fmt: skip
    totals = stored.drop_duplicates(["day", "feed_id"], keep="last")[TOTAL_COLUMNS]
    counts = stored.loc[stored["articles"] > 0, COUNT_COLUMNS]
    return totals.reset_index(drop=True), counts.reset_index(drop=True)


def _frame(
    conn: sqlite3.Connection, sql: str, args: Sequence[object], columns: list[str]
) -> pd.DataFrame:
    """A query's rows as a frame with the given column names (also when there are none)."""
    return pd.DataFrame(conn.execute(sql, tuple(args)).fetchall(), columns=columns)


def stored_is_complete(conn: sqlite3.Connection, before: str, narratives: Sequence[str]) -> bool:
    """Whether the stored intermediate rows before ``before`` can stand in for a recount.

    They cannot when articles exist before that day but some narrative (say, one just
    added to narratives.yaml) has no stored rows there: only a full recount fills it in.
    """
    if conn.execute("SELECT 1 FROM articles WHERE day < ? LIMIT 1", (before,)).fetchone() is None:
        return True
    stored = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT narrative_id FROM narrative_source_daily WHERE day < ?", (before,)
        )
    }
    return set(narratives) <= stored


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[object, ...]]:
    """Rows of ``frame`` as plain Python tuples, NaN as None (SQL NULL: missing stays missing)."""
    out = frame[list(columns)].astype(object)
    return list(out.where(out.notna(), None).itertuples(index=False, name=None))


def save_result(conn: sqlite3.Connection, result: IndexResult, params: IndexParams) -> str:
    """Replace the stored index, intermediates and scales with ``result``; return computed_at.

    Replacing everything keeps the store equal to a full recompute: with a moving base
    window, one late article changes every source's scale and so every index value.
    """
    now = utcnow()
    conn.execute("DELETE FROM narrative_source_daily")
    conn.executemany(
        "INSERT INTO narrative_source_daily (day, narrative_id, feed_id, articles, "
        "weighted_articles, total_articles, scored_articles, share, scaled_share, "
        "model_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _records(result.source_rows, SOURCE_COLUMNS),
    )
    conn.execute("DELETE FROM narrative_source_scale")
    conn.executemany(
        "INSERT INTO narrative_source_scale (narrative_id, feed_id, base_days, mean_share, "
        "std_share, computed_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(*r, now) for r in _records(result.scales, SCALE_COLUMNS)],
    )
    conn.execute("DELETE FROM narrative_index_base")
    conn.executemany(
        "INSERT INTO narrative_index_base (narrative_id, base_start, base_end, base_days, "
        "base_mean, min_articles, smooth_days, z_window, z_min_periods, spike_z, "
        "spike_min_articles, computed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (*b, params.min_articles, params.smooth_days, params.z_window,
             params.z_min_periods, params.spike_z, params.spike_min_articles, now)
            for b in _records(result.bases, BASE_COLUMNS)
        ],
    )  # fmt: skip
    conn.execute("DELETE FROM narrative_index")
    rows = result.rows.assign(spike=result.rows["spike"].astype(np.int64), computed_at=now)
    conn.executemany(
        "INSERT INTO narrative_index (day, narrative_id, articles, weighted_articles, "
        "total_articles, sources, share, weighted_share, scaled_mean, index_value, "
        "smoothed_7d, zscore, spike, model_version, computed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _records(rows, [*INDEX_COLUMNS, "computed_at"]),
    )
    return now


#: Distinct member articles per day, narrative and linked entity; the same two access
#: paths as :data:`MEMBERS_SQL`.
ENTITY_DAILY_SQL = {
    "full": """
        SELECT a.day, an.narrative_id, m.entity_id, COUNT(DISTINCT a.id)
        FROM article_narratives an INDEXED BY idx_article_narratives_narrative
        CROSS JOIN articles a ON a.id = an.article_id
        CROSS JOIN mentions m ON m.article_id = a.id
        WHERE an.is_member = 1 AND a.duplicate_of IS NULL AND m.entity_id IS NOT NULL
        GROUP BY a.day, an.narrative_id, m.entity_id""",
    "since": """
        SELECT a.day, an.narrative_id, m.entity_id, COUNT(DISTINCT a.id)
        FROM articles a INDEXED BY idx_articles_day
        JOIN article_narratives an ON an.article_id = a.id
        JOIN mentions m ON m.article_id = a.id
        WHERE a.day >= ? AND an.is_member = 1 AND a.duplicate_of IS NULL
          AND m.entity_id IS NOT NULL
        GROUP BY a.day, an.narrative_id, m.entity_id""",
}


def save_entity_daily(conn: sqlite3.Connection, since: str | None = None) -> int:
    """Recount ``narrative_entity_daily`` (from ``since`` on); return the rows now stored.

    The aggregation runs inside SQLite because it can produce hundreds of thousands of
    rows that would only be copied through Python unchanged. A full recount lands in a
    temporary table first and only the rows that differ are written: the table carries
    three indexes, so rewriting every row cost twice the aggregation itself.
    """
    if since:
        conn.execute("DELETE FROM narrative_entity_daily WHERE day >= ?", (since,))
        conn.execute(
            "INSERT INTO narrative_entity_daily (day, narrative_id, entity_id, articles) "
            + ENTITY_DAILY_SQL["since"],
            (since,),
        )
    else:
        conn.execute("DROP TABLE IF EXISTS temp.entity_daily_new")
        conn.execute(
            "CREATE TEMP TABLE entity_daily_new (day TEXT, narrative_id TEXT, entity_id TEXT, "
            "articles INTEGER, PRIMARY KEY (day, narrative_id, entity_id)) WITHOUT ROWID"
        )
        conn.execute("INSERT INTO temp.entity_daily_new " + ENTITY_DAILY_SQL["full"])
        conn.execute(
            "DELETE FROM narrative_entity_daily WHERE NOT EXISTS (SELECT 1 FROM "
            "temp.entity_daily_new n WHERE n.day = narrative_entity_daily.day "
            "AND n.narrative_id = narrative_entity_daily.narrative_id "
            "AND n.entity_id = narrative_entity_daily.entity_id "
            "AND n.articles = narrative_entity_daily.articles)"
        )
        conn.execute(
            "INSERT INTO narrative_entity_daily (day, narrative_id, entity_id, articles) "
            "SELECT day, narrative_id, entity_id, articles FROM temp.entity_daily_new n "
            "WHERE NOT EXISTS (SELECT 1 FROM narrative_entity_daily e WHERE e.day = n.day "
            "AND e.narrative_id = n.narrative_id AND e.entity_id = n.entity_id)"
        )
        conn.execute("DROP TABLE temp.entity_daily_new")
    return int(conn.execute("SELECT COUNT(*) FROM narrative_entity_daily").fetchone()[0])


#: Recomputes ``narrative_index.index_value`` from the stored intermediate figures alone
#: (shown in the README so a reader can check any value).
REPRODUCE_SQL = """
SELECT d.day, d.narrative_id,
       100.0 * AVG(d.share / s.std_share) / b.base_mean AS index_value
FROM narrative_source_daily d
JOIN narrative_source_scale s USING (narrative_id, feed_id)
JOIN narrative_index_base b USING (narrative_id)
WHERE d.share IS NOT NULL AND s.std_share IS NOT NULL
GROUP BY d.day, d.narrative_id
ORDER BY d.narrative_id, d.day"""


# ------------------------------------------------------------------------ entry point


@dataclass(frozen=True)
class IndexSummary:
    """What one build did, for the CLI and the nightly job's run record."""

    days: int
    narratives: int
    rows: int
    source_rows: int
    entity_rows: int
    first_day: str | None
    last_day: str | None
    missing_days: int
    spikes: int
    full: bool
    since: str | None
    computed_at: str


def build_index(
    db: sqlite_utils.Database, settings: Settings, *, since: str | None = None
) -> IndexSummary:
    """Recompute the index in one transaction; ``since`` recounts only days from it on.

    Counting articles is the expensive part, so ``since`` limits the recount; the scaling,
    smoothing and z-scores are always recomputed over the whole history from the stored
    counts, which makes the result identical to a full recompute.
    """
    params = IndexParams.from_settings(settings)
    if since is not None:
        since = parse_day(since, "--since").isoformat()
    conn = db.conn
    with transaction(conn):
        narratives = load_narratives(conn)
        probe = narratives[0] if narratives else None
        full = since is None or not stored_is_complete(conn, since, narratives)
        if since is not None and full:
            log.info("Stored counts before %s are incomplete: recounting everything", since)
        if full:
            totals = load_totals(conn, probe=probe)
            counts = load_counts(conn)
        else:
            assert since is not None
            old_totals, old_counts = load_stored(conn, before=since)
            totals = pd.concat([old_totals, load_totals(conn, since, probe=probe)], ignore_index=True)
            counts = pd.concat([old_counts, load_counts(conn, since)], ignore_index=True)
        result = compute_index(totals, counts, narratives, params)
        computed_at = save_result(conn, result, params)
        entity_rows = save_entity_daily(conn, None if full else since)
    days = len(result.rows) // len(narratives) if narratives else 0
    missing = int(result.rows["share"].isna().sum()) // max(len(narratives), 1)
    return IndexSummary(
        days=days,
        narratives=len(narratives),
        rows=len(result.rows),
        source_rows=len(result.source_rows),
        entity_rows=entity_rows,
        first_day=result.first_day,
        last_day=result.last_day,
        missing_days=missing,
        spikes=int(result.rows["spike"].sum()),
        full=full,
        since=since,
        computed_at=computed_at,
    )
