"""Read the counts the index needs from the store and write every figure back, in one transaction.

Two levels of counts are kept, and only they are ever recounted from the articles:
``source_daily`` (articles and scored articles per source and day) and the sparse
``narrative_source_daily`` (member articles, score sum and stance per narrative, source
and day, only where there are members). A ``--since`` build recounts just the days from
``since`` on; every model figure is then computed again from these stored counts, the same
way as in a full build, so both give the same rows.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlite_utils

from tracker.base.db import transaction, utcnow
from tracker.base.settings import Settings
from tracker.index import params as index_params
from tracker.index.compute import (
    COVERAGE_COLUMNS,
    DAY_SOURCE_COLUMNS,
    FIT_COLUMNS,
    INDEX_COLUMNS,
    MEMBER_COLUMNS,
    RATE_COLUMNS,
    SOURCE_COLUMNS,
    SOURCE_MEMBER_COLUMNS,
    WEEK_COLUMNS,
    WEEK_SOURCE_COLUMNS,
    IndexResult,
    compute_index,
    confirm_spikes,
    spike_candidates,
)
from tracker.index.params import IndexParams, parse_day

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------- parameters


def stored_params(conn: sqlite3.Connection) -> dict[str, str]:
    """The index parameters remembered in the database (name -> text)."""
    return dict(conn.execute("SELECT key, value FROM index_settings").fetchall())


def resolve_params(
    conn: sqlite3.Connection, settings: Settings, *, env: Mapping[str, str] | None = None,
    reset: bool = False,
) -> IndexParams:
    """Defaults < stored in the database < ``TRACKER_INDEX_*`` environment < CLI (``settings``)."""  # fmt: skip
    stored = {} if reset else index_params.from_stored(stored_params(conn))
    cli = {name: getattr(settings, f"index_{name}", None) for name in index_params.NAMES}
    return index_params.resolve(
        stored, index_params.from_env(os.environ if env is None else env), cli
    )


def save_params(conn: sqlite3.Connection, params: IndexParams, now: str) -> None:
    """Remember ``params`` (rows that did not change keep their ``set_at``)."""
    old = stored_params(conn)
    for key, value in index_params.to_stored(params).items():
        if old.get(key) != value:
            conn.execute(
                "INSERT INTO index_settings (key, value, set_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at",
                (key, value, now),
            )


# ---------------------------------------------------------------------------- counting

#: Articles and scored articles per source and day. "Scored" is checked against one
#: narrative, the probe (the enrich stage scores all narratives of an article together).
#: A full count walks the probe's rows in article order (sequential lookups of the narrow
#: id index), a recount from a day looks the probe up per article of those days: on a
#: million articles the per-article lookup in day order cost three times the walk.
SOURCE_DAILY_SQL = {
    "full": """
        INSERT INTO source_daily (day, feed_id, articles, scored_articles)
        SELECT t.day, t.feed_id, t.n, COALESCE(s.n, 0)
        FROM (SELECT day, feed_id, COUNT(*) AS n FROM articles INDEXED BY idx_articles_day_duplicate
              WHERE duplicate_of IS NULL AND day >= '' GROUP BY day, feed_id) t
        LEFT JOIN (SELECT a.day, a.feed_id, COUNT(*) AS n
                   FROM article_narratives an INDEXED BY idx_article_narratives_narrative
                   CROSS JOIN articles a INDEXED BY idx_articles_id_day ON a.id = an.article_id
                   WHERE an.narrative_id = :probe AND a.duplicate_of IS NULL
                   GROUP BY a.day, a.feed_id) s
        ON s.day = t.day AND s.feed_id = t.feed_id""",
    "since": """
        INSERT INTO source_daily (day, feed_id, articles, scored_articles)
        SELECT a.day, a.feed_id, COUNT(*), COUNT(an.article_id)
        FROM articles a INDEXED BY idx_articles_day_duplicate
        LEFT JOIN article_narratives an ON an.article_id = a.id AND an.narrative_id = :probe
        WHERE a.duplicate_of IS NULL AND a.day >= :since
        GROUP BY a.day, a.feed_id""",
}

#: Member articles, score sum, stance and model versions per (narrative, day, source). A
#: full recount walks the partial index of member rows (covering score, stance and
#: version); a recount from a day starts from idx_articles_day_duplicate instead. NULL
#: stance is missing, not neutral: TOTAL and COUNT skip it.
MEMBERS_SQL = {
    "full": """
        INSERT INTO narrative_source_daily (narrative_id, day, feed_id, articles,
            weighted_articles, stance_sum, stance_articles, model_version)
        SELECT an.narrative_id, a.day, a.feed_id, COUNT(*), TOTAL(an.score), TOTAL(an.stance),
               COUNT(an.stance), GROUP_CONCAT(DISTINCT an.model_version)
        FROM article_narratives an INDEXED BY idx_article_narratives_members
        CROSS JOIN articles a INDEXED BY idx_articles_id_day ON a.id = an.article_id
        WHERE an.is_member = 1 AND a.duplicate_of IS NULL
        GROUP BY an.narrative_id, a.day, a.feed_id""",
    "since": """
        INSERT INTO narrative_source_daily (narrative_id, day, feed_id, articles,
            weighted_articles, stance_sum, stance_articles, model_version)
        SELECT an.narrative_id, a.day, a.feed_id, COUNT(*), TOTAL(an.score), TOTAL(an.stance),
               COUNT(an.stance), GROUP_CONCAT(DISTINCT an.model_version)
        FROM articles a INDEXED BY idx_articles_day_duplicate
        JOIN article_narratives an ON an.article_id = a.id
        WHERE a.day >= :since AND an.is_member = 1 AND a.duplicate_of IS NULL
        GROUP BY an.narrative_id, a.day, a.feed_id""",
}


def recount(conn: sqlite3.Connection, since: str | None, probe: str | None) -> None:
    """Rewrite the stored counts (all of them, or the days from ``since`` on) from the articles."""
    if since is None:
        conn.execute("DELETE FROM source_daily")
        conn.execute("DELETE FROM narrative_source_daily")
        conn.execute(SOURCE_DAILY_SQL["full"], {"probe": probe})
        conn.execute(MEMBERS_SQL["full"])
    else:
        conn.execute("DELETE FROM source_daily WHERE day >= ?", (since,))
        conn.execute("DELETE FROM narrative_source_daily WHERE day >= ?", (since,))
        conn.execute(SOURCE_DAILY_SQL["since"], {"probe": probe, "since": since})
        conn.execute(MEMBERS_SQL["since"], {"since": since})


def counts_are_complete(conn: sqlite3.Connection, before: str, narratives: Sequence[str]) -> bool:
    """Whether the stored counts before ``before`` can stand in for a recount.

    They cannot when articles exist before that day but none are stored, or when a narrative
    (say, one just added to narratives.yaml) was not part of the last build.
    """
    if conn.execute("SELECT 1 FROM articles WHERE day < ? LIMIT 1", (before,)).fetchone() is None:
        return True
    if conn.execute("SELECT 1 FROM source_daily WHERE day < ? LIMIT 1", (before,)).fetchone() is None:
        return False
    counted = {r[0] for r in conn.execute("SELECT narrative_id FROM narrative_index_fit")}
    return set(narratives) <= counted


def _frame(conn: sqlite3.Connection, sql: str, columns: list[str], args: Sequence[Any] = ()) -> pd.DataFrame:
    """A query's rows as a frame with the given column names (also when there are none)."""
    return pd.DataFrame(conn.execute(sql, tuple(args)).fetchall(), columns=columns)


def load_inputs(conn: sqlite3.Connection) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The stored counts as :func:`compute_index` takes them (aggregated inside SQLite)."""
    sources = _frame(conn, "SELECT day, feed_id, articles, scored_articles FROM source_daily "
                     "ORDER BY day, feed_id", SOURCE_COLUMNS)  # fmt: skip
    members = _frame(
        conn,
        "SELECT narrative_id, day, SUM(articles), TOTAL(weighted_articles), TOTAL(stance_sum), "
        "SUM(stance_articles), COUNT(*), GROUP_CONCAT(model_version) FROM narrative_source_daily "
        "GROUP BY narrative_id, day",
        MEMBER_COLUMNS,
    )
    source_members = _frame(
        conn,
        "SELECT narrative_id, feed_id, SUM(articles) FROM narrative_source_daily "
        "GROUP BY narrative_id, feed_id",
        SOURCE_MEMBER_COLUMNS,
    )
    # The Monday on or before each day starts its ISO week.
    week_sources = _frame(
        conn,
        "SELECT narrative_id, date(day, '-6 days', 'weekday 1') AS week_start, "
        "COUNT(DISTINCT feed_id) FROM narrative_source_daily GROUP BY narrative_id, week_start",
        WEEK_SOURCE_COLUMNS,
    )
    return sources, members, source_members, week_sources


def load_day_sources(conn: sqlite3.Connection, pairs: pd.DataFrame) -> pd.DataFrame:
    """The member rows per source of the given (narrative_id, day) pairs (the spike candidates)."""
    rows = [
        row
        for narrative, day in pairs.itertuples(index=False, name=None)
        for row in conn.execute(
            "SELECT narrative_id, day, feed_id, articles FROM narrative_source_daily "
            "WHERE narrative_id = ? AND day = ?",
            (narrative, day),
        )
    ]
    return pd.DataFrame(rows, columns=DAY_SOURCE_COLUMNS)


# ----------------------------------------------------------------------------- saving


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[object, ...]]:
    """Rows of ``frame`` as plain Python tuples, NaN as None (SQL NULL: missing stays missing)."""
    out = frame[list(columns)]
    values = [
        [None if v != v else v for v in out[c].to_numpy(dtype=object).tolist()]
        if out[c].dtype.kind in "fO" else out[c].to_numpy().tolist()
        for c in columns
    ]
    return list(zip(*values, strict=True))


def _replace(conn: sqlite3.Connection, table: str, frame: pd.DataFrame, columns: Sequence[str],
             extra: Mapping[str, Any] | None = None) -> None:
    """Replace every row of ``table`` with ``frame`` (plus constant ``extra`` columns)."""
    extra = extra or {}
    names = [*columns, *extra]
    conn.execute(f"DELETE FROM {table}")
    conn.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [(*r, *extra.values()) for r in _records(frame, columns)],
    )


def save_result(conn: sqlite3.Connection, result: IndexResult, params: IndexParams) -> str:
    """Replace the stored index, coverage, source rates, fits and weeks; return computed_at.

    Every model figure is replaced: with a moving base window one late article changes
    every source's rate a little, and so every value.
    """
    now = utcnow()
    rows = result.rows.assign(spike=result.rows["spike"].astype(np.int64),
                              covered=result.rows["covered"].astype(np.int64))  # fmt: skip
    _replace(conn, "coverage_daily", result.coverage.assign(covered=result.coverage["covered"].astype(np.int64)),
             COVERAGE_COLUMNS)  # fmt: skip
    _replace(conn, "narrative_index", rows, INDEX_COLUMNS, {"computed_at": now})
    _replace(conn, "narrative_source_rate", result.rates, RATE_COLUMNS, {"computed_at": now})
    _replace(conn, "narrative_index_fit", result.fits, FIT_COLUMNS, {
        "first_day": result.first_day, "last_day": result.last_day,
        "params": json.dumps(params.as_dict(), sort_keys=True), "computed_at": now,
    })  # fmt: skip
    weekly = result.weekly.assign(mover=result.weekly["mover"].astype(np.int64))
    _replace(conn, "narrative_weekly", weekly, WEEK_COLUMNS, {"computed_at": now})
    save_params(conn, params, now)
    return now


#: Distinct member articles per day, narrative and linked entity; the same two access
#: paths as :data:`MEMBERS_SQL`.
ENTITY_DAILY_SQL = {
    "full": """
        SELECT a.day, an.narrative_id, m.entity_id, COUNT(DISTINCT a.id)
        FROM article_narratives an INDEXED BY idx_article_narratives_members
        CROSS JOIN articles a INDEXED BY idx_articles_id_day ON a.id = an.article_id
        CROSS JOIN mentions m INDEXED BY idx_mentions_linked ON m.article_id = a.id
        WHERE an.is_member = 1 AND a.duplicate_of IS NULL AND m.entity_id IS NOT NULL
        GROUP BY a.day, an.narrative_id, m.entity_id""",
    "since": """
        SELECT a.day, an.narrative_id, m.entity_id, COUNT(DISTINCT a.id)
        FROM articles a INDEXED BY idx_articles_day_duplicate
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


#: Recomputes the stored figures of ``narrative_index`` from the other stored tables alone
#: (shown in the README so a reader can check any value): the expected members from the
#: exposures and the sources' rates, then the posterior mean from the counts, the prior's
#: mean and strength.
REPRODUCE_SQL = """
WITH expected AS (
  SELECT d.day, r.narrative_id, SUM(d.scored_articles * r.rate) AS expected_articles
  FROM source_daily d JOIN narrative_source_rate r USING (feed_id)
  GROUP BY d.day, r.narrative_id)
SELECT ni.day, ni.narrative_id, e.expected_articles,
       100.0 * (f.prior_strength + ni.articles)
             / (f.prior_strength / (ni.prior_index / 100.0) + e.expected_articles) AS index_value
FROM narrative_index ni
JOIN expected e USING (day, narrative_id)
JOIN narrative_index_fit f USING (narrative_id)
WHERE ni.index_value IS NOT NULL
ORDER BY ni.narrative_id, ni.day"""


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
    articles: int = 0
    scored_articles: int = 0
    params: dict[str, Any] = field(default_factory=dict)


def build_index(
    db: sqlite_utils.Database, settings: Settings, *, since: str | None = None,
    reset_params: bool = False, env: Mapping[str, str] | None = None,
) -> IndexSummary:
    """Recompute the index in one transaction; ``since`` recounts only days from it on.

    Counting articles is the expensive part, so ``since`` limits the recount; every model
    figure is computed again from all the stored counts, so the result is identical to a
    full recompute. The parameters are the stored ones unless the environment or
    ``settings`` (the CLI) change them; the ones used are stored for the next build.
    """  # fmt: skip
    if since is not None:
        since = parse_day(since, "--since").isoformat()
    conn = db.conn
    with transaction(conn):
        params = resolve_params(conn, settings, env=env, reset=reset_params)
        narratives = [r[0] for r in conn.execute("SELECT id FROM narratives ORDER BY id")]
        probe = narratives[0] if narratives else None
        full = since is None or not counts_are_complete(conn, since, narratives)
        if since is not None and full:
            log.info("Stored counts before %s are incomplete: recounting everything", since)
        recount(conn, None if full else since, probe)
        sources, members, source_members, week_sources = load_inputs(conn)
        result = compute_index(sources, members, source_members, narratives, params, week_sources)
        confirm_spikes(result, sources, load_day_sources(conn, spike_candidates(result)), params)
        computed_at = save_result(conn, result, params)
        entity_rows = save_entity_daily(conn, None if full else since)
        source_rows = int(conn.execute("SELECT COUNT(*) FROM narrative_source_daily").fetchone()[0])
    rows = result.rows
    days = len(rows) // len(narratives) if narratives else 0
    return IndexSummary(
        days=days,
        narratives=len(narratives),
        rows=len(rows),
        source_rows=source_rows,
        entity_rows=entity_rows,
        first_day=result.first_day,
        last_day=result.last_day,
        missing_days=int((~rows["covered"].astype(bool)).sum()) // max(len(narratives), 1),
        spikes=int(rows["spike"].astype(bool).sum()),
        full=full,
        since=since,
        computed_at=computed_at,
        articles=int(sources["articles"].sum()),
        scored_articles=int(sources["scored_articles"].sum()),
        params=params.as_dict(),
    )
