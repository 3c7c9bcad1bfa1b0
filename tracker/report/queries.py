"""The named SQL queries every report figure comes from, and the runner that records what ran.

Each query is printed verbatim in the report's SQL appendix with the parameter values it
ran with, so any number can be reproduced in ``sqlite3`` or Datasette.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class NamedQuery:
    """A SQL query the report runs, printed verbatim in the appendix."""

    name: str
    purpose: str
    sql: str


@dataclass(frozen=True)
class QueryRun:
    """One execution of a named query: its text, the parameters bound and the row count."""

    name: str
    purpose: str
    sql: str
    params: dict[str, Any]
    rows: int


Q_COVERAGE = NamedQuery(
    "coverage",
    "What the store holds overall and in the report week (distinct articles only).",
    """
SELECT
  (SELECT day FROM articles WHERE +duplicate_of IS NULL ORDER BY day LIMIT 1) AS first_day,
  (SELECT day FROM articles WHERE +duplicate_of IS NULL ORDER BY day DESC LIMIT 1) AS last_day,
  (SELECT COUNT(*) FROM articles
    WHERE +duplicate_of IS NULL AND day BETWEEN :week_start AND :week_end) AS week_articles,
  (SELECT COUNT(DISTINCT feed_id) FROM articles
    WHERE +duplicate_of IS NULL AND day BETWEEN :week_start AND :week_end) AS week_feeds,
  (SELECT MIN(day) FROM narrative_index) AS index_first_day,
  (SELECT MAX(day) FROM narrative_index) AS index_last_day,
  (SELECT COUNT(*) FROM narrative_index
    WHERE day BETWEEN :week_start AND :week_end) AS week_index_values
""",
)

Q_NARRATIVE_WEEK = NamedQuery(
    "narrative_week",
    "Per narrative: mean daily index this week, last week and over the trailing quarter "
    "(the 91 days before the week), changes, member articles and spike days. Means skip "
    "missing days (NULL index).",
    """
WITH w AS (
  SELECT narrative_id,
    AVG(CASE WHEN day BETWEEN :week_start AND :week_end THEN index_value END) AS week_mean,
    COUNT(CASE WHEN day BETWEEN :week_start AND :week_end THEN index_value END) AS week_days,
    AVG(CASE WHEN day BETWEEN :prev_start AND :prev_end THEN index_value END) AS prev_mean,
    AVG(CASE WHEN day BETWEEN :quarter_start AND :prev_end THEN index_value END)
      AS quarter_mean,
    SUM(CASE WHEN day BETWEEN :week_start AND :week_end THEN articles ELSE 0 END)
      AS week_articles,
    SUM(CASE WHEN day BETWEEN :prev_start AND :prev_end THEN articles ELSE 0 END)
      AS prev_articles,
    SUM(CASE WHEN day BETWEEN :week_start AND :week_end THEN spike ELSE 0 END) AS spike_days,
    MAX(CASE WHEN day BETWEEN :week_start AND :week_end THEN zscore END) AS max_zscore
  FROM narrative_index
  WHERE day BETWEEN :quarter_start AND :week_end
  GROUP BY narrative_id
)
SELECT n.id AS narrative_id, n.label, n.description,
  w.week_mean, COALESCE(w.week_days, 0) AS week_days, w.prev_mean, w.quarter_mean,
  w.week_mean - w.prev_mean AS change_prev,
  100.0 * (w.week_mean - w.prev_mean) / NULLIF(w.prev_mean, 0) AS pct_prev,
  w.week_mean - w.quarter_mean AS change_quarter,
  100.0 * (w.week_mean - w.quarter_mean) / NULLIF(w.quarter_mean, 0) AS pct_quarter,
  COALESCE(w.week_articles, 0) AS week_articles, COALESCE(w.prev_articles, 0) AS prev_articles,
  COALESCE(w.spike_days, 0) AS spike_days, w.max_zscore
FROM narratives n LEFT JOIN w ON w.narrative_id = n.id
ORDER BY change_prev IS NULL, change_prev DESC, week_mean DESC, n.id
""",
)

Q_INDEX_SERIES = NamedQuery(
    "index_series",
    "The daily index behind each chart: the trailing quarter and the report week.",
    """
SELECT narrative_id, day, index_value, smoothed_7d, zscore, spike
FROM narrative_index
WHERE day BETWEEN :quarter_start AND :week_end
ORDER BY narrative_id, day
""",
)

_ENTITY_WEEKS = """
WITH e AS (
  SELECT narrative_id, entity_id,
    SUM(CASE WHEN day BETWEEN :week_start AND :week_end THEN articles ELSE 0 END)
      AS week_articles,
    SUM(CASE WHEN day BETWEEN :prev_start AND :prev_end THEN articles ELSE 0 END)
      AS prev_articles
  FROM narrative_entity_daily
  WHERE day BETWEEN :prev_start AND :week_end
  GROUP BY narrative_id, entity_id
)"""

Q_TOP_ENTITIES = NamedQuery(
    "top_entities",
    "Per narrative: the entities in most of its articles this week (with last week's count).",
    _ENTITY_WEEKS
    + """, ranked AS (
  SELECT e.*, week_articles - prev_articles AS change,
    ROW_NUMBER() OVER (PARTITION BY narrative_id ORDER BY week_articles DESC, entity_id) AS rank
  FROM e WHERE week_articles > 0
)
SELECT r.narrative_id, r.rank, r.entity_id, en.name, en.type,
  r.week_articles, r.prev_articles, r.change
FROM ranked r JOIN entities en ON en.id = r.entity_id
WHERE r.rank <= :top_n
ORDER BY r.narrative_id, r.rank
""",
)

Q_ENTITY_RISERS = NamedQuery(
    "entity_risers",
    "Per narrative: the entities whose article count rose most against last week.",
    _ENTITY_WEEKS
    + """, ranked AS (
  SELECT e.*, week_articles - prev_articles AS change,
    ROW_NUMBER() OVER (PARTITION BY narrative_id
      ORDER BY week_articles - prev_articles DESC, week_articles DESC, entity_id) AS rank
  FROM e WHERE week_articles > prev_articles
)
SELECT r.narrative_id, r.rank, r.entity_id, en.name, en.type,
  r.week_articles, r.prev_articles, r.change
FROM ranked r JOIN entities en ON en.id = r.entity_id
WHERE r.rank <= :top_n
ORDER BY r.narrative_id, r.rank
""",
)

Q_EMBEDDING_MODEL = NamedQuery(
    "embedding_model",
    "The embedding model with the most vectors among the week's narrative members.",
    """
SELECT ae.model, COUNT(*) AS vectors
FROM article_embeddings ae
JOIN articles a ON a.id = ae.article_id
WHERE +a.duplicate_of IS NULL AND a.day BETWEEN :week_start AND :week_end
  AND EXISTS (SELECT 1 FROM article_narratives an
              WHERE an.article_id = a.id AND an.is_member = 1)
GROUP BY ae.model
ORDER BY vectors DESC, ae.model
LIMIT 1
""",
)

Q_MEMBER_ARTICLES = NamedQuery(
    "member_articles",
    "The week's member articles per narrative with their score, story cluster and embedding. "
    "Stories group members by story cluster (an article without one is its own story), "
    "biggest by outlets then articles. Centrality "
    "= cosine between an article's vector and the mean of the narrative's unit-normalised "
    "member vectors that week; articles without a vector rank after, by score.",
    """
SELECT an.narrative_id, a.id AS article_id, a.title, COALESCE(a.canonical_url, a.url) AS url,
  a.day, a.feed_id, COALESCE(f.title, f.name) AS source, an.score, an.evidence,
  sa.cluster_id, ae.dim, ae.vector
FROM article_narratives an
JOIN articles a ON a.id = an.article_id
JOIN feeds f ON f.id = a.feed_id
LEFT JOIN story_articles sa ON sa.article_id = a.id
LEFT JOIN article_embeddings ae ON ae.article_id = a.id AND ae.model = :embedding_model
WHERE an.is_member = 1 AND +a.duplicate_of IS NULL
  AND a.day BETWEEN :week_start AND :week_end
ORDER BY an.narrative_id, an.score DESC, a.id
""",
)

Q_WEEK_CLAIMS = NamedQuery(
    "week_claims",
    "Money and percent figures cited in the week's narrative member articles (figures in "
    "other articles are left out), with their entity; the same figure for the same entity "
    "in one article (title and summary) counts once. Claims with a linked entity first.",
    """
-- With exactly one MIN(), SQLite takes the bare columns (text, subject) from that row.
SELECT MIN(c.id) AS claim_id, a.day, c.kind, c.value, c.low, c.high, c.unit,
  c.text, c.subject, COUNT(*) AS mentions,
  c.entity_id, e.name AS entity, e.type AS entity_type,
  a.id AS article_id, a.title, COALESCE(a.url, a.canonical_url) AS url,
  COALESCE(f.title, f.name) AS source,
  (SELECT group_concat(narrative_id, ', ') FROM (
     SELECT an.narrative_id FROM article_narratives an
     WHERE an.article_id = a.id AND an.is_member = 1 ORDER BY an.narrative_id)) AS narratives
FROM claims c
JOIN articles a ON a.id = c.article_id
JOIN feeds f ON f.id = a.feed_id
LEFT JOIN entities e ON e.id = c.entity_id
WHERE +a.duplicate_of IS NULL AND a.day BETWEEN :week_start AND :week_end
  AND EXISTS (SELECT 1 FROM article_narratives m WHERE m.article_id = a.id AND m.is_member = 1)
GROUP BY c.article_id, c.entity_id, c.kind, c.value, c.low, c.high, c.unit
ORDER BY c.entity_id IS NULL, a.day, claim_id
""",
)

Q_CROSS_LINKS = NamedQuery(
    "cross_links",
    "Pairs of narratives sharing member articles this week.",
    """
SELECT x.narrative_id AS narrative_a, y.narrative_id AS narrative_b, COUNT(*) AS articles
FROM article_narratives x
JOIN article_narratives y ON y.article_id = x.article_id AND y.narrative_id > x.narrative_id
JOIN articles a ON a.id = x.article_id
WHERE x.is_member = 1 AND y.is_member = 1 AND +a.duplicate_of IS NULL
  AND a.day BETWEEN :week_start AND :week_end
GROUP BY x.narrative_id, y.narrative_id
ORDER BY articles DESC, narrative_a, narrative_b
""",
)

Q_CROSS_LINK_EXAMPLES = NamedQuery(
    "cross_link_examples",
    "Example articles for each pair of linked narratives (highest combined score first).",
    """
WITH pairs AS (
  SELECT x.narrative_id AS narrative_a, y.narrative_id AS narrative_b, a.id AS article_id,
    a.title, COALESCE(a.url, a.canonical_url) AS url, a.day,
    (SELECT COALESCE(f.title, f.name) FROM feeds f WHERE f.id = a.feed_id) AS source,
    x.score + y.score AS score,
    ROW_NUMBER() OVER (PARTITION BY x.narrative_id, y.narrative_id
                       ORDER BY x.score + y.score DESC, a.id) AS rank
  FROM article_narratives x
  JOIN article_narratives y ON y.article_id = x.article_id AND y.narrative_id > x.narrative_id
  JOIN articles a ON a.id = x.article_id
  WHERE x.is_member = 1 AND y.is_member = 1 AND +a.duplicate_of IS NULL
    AND a.day BETWEEN :week_start AND :week_end
)
SELECT * FROM pairs WHERE rank <= :examples ORDER BY narrative_a, narrative_b, rank
""",
)

Q_FAILED_FEEDS = NamedQuery(
    "failed_feeds",
    "Feeds with failed fetches started during the week (UTC), with their partial fetches "
    "(malformed feed, items recovered) and the last error.",
    """
SELECT f.name, COALESCE(f.title, f.name) AS source, COUNT(*) AS fetches,
  SUM(x.status = 'failed') AS failed, SUM(x.status = 'partial') AS partial,
  (SELECT y.error_kind FROM fetches y
    WHERE y.feed_id = f.id AND y.status = 'failed'
      AND y.started_at >= :week_start AND y.started_at < :after_end
    ORDER BY y.started_at DESC, y.id DESC LIMIT 1) AS last_error_kind,
  (SELECT y.error FROM fetches y
    WHERE y.feed_id = f.id AND y.status = 'failed'
      AND y.started_at >= :week_start AND y.started_at < :after_end
    ORDER BY y.started_at DESC, y.id DESC LIMIT 1) AS last_error
FROM fetches x JOIN feeds f ON f.id = x.feed_id
WHERE x.started_at >= :week_start AND x.started_at < :after_end
GROUP BY f.id
HAVING SUM(x.status = 'failed') > 0
ORDER BY failed DESC, f.name
""",
)

Q_SILENT_FEEDS = NamedQuery(
    "silent_feeds",
    "Enabled feeds with no new distinct article dated in the last days of the week up to "
    ":through (the week's last day, or today while the week is not over; none before it "
    "starts).",
    """
SELECT f.name, COALESCE(f.title, f.name) AS source,
  (SELECT COUNT(*) FROM articles a WHERE a.feed_id = f.id AND +a.duplicate_of IS NULL
     AND a.day BETWEEN :week_start AND :week_end) AS week_articles,
  (SELECT MAX(a.day) FROM articles a WHERE a.feed_id = f.id AND +a.duplicate_of IS NULL
     AND a.day <= :week_end) AS last_article_day,
  (SELECT COUNT(*) FROM fetches x WHERE x.feed_id = f.id
     AND x.started_at >= :week_start AND x.started_at < :after_end) AS fetches
FROM feeds f
WHERE f.enabled = 1 AND :through >= :week_start AND NOT EXISTS (
  SELECT 1 FROM articles a WHERE a.feed_id = f.id AND +a.duplicate_of IS NULL
    AND a.day BETWEEN :silent_start AND :through)
ORDER BY week_articles, f.name
""",
)

Q_DAILY_VOLUME = NamedQuery(
    "daily_volume",
    "Distinct articles per day of the week up to :through (no future days) against the "
    "same weekday of the four weeks before (days without articles count as 0; weeks before "
    "the store's first article are left out), so quiet weekends are not flagged; a day is "
    "low below :low_ratio times that baseline. Today (:as_of) is still in progress, never "
    "low.",
    """
WITH RECURSIVE days(day) AS (
  SELECT :week_start WHERE :week_start <= :through
  UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < :through
), counts AS (
  SELECT day, COUNT(*) AS articles, COUNT(DISTINCT feed_id) AS feeds
  FROM articles
  WHERE +duplicate_of IS NULL AND day BETWEEN :baseline_start AND :week_end
  GROUP BY day
), first AS (
  SELECT day AS first_day FROM articles WHERE +duplicate_of IS NULL ORDER BY day LIMIT 1
), lags(k) AS (
  VALUES (7), (14), (21), (28)
), base AS (
  SELECT d.day, AVG(COALESCE(c.articles, 0)) AS baseline, COUNT(*) AS weeks
  FROM days d CROSS JOIN lags CROSS JOIN first
  LEFT JOIN counts c ON c.day = date(d.day, '-' || lags.k || ' days')
  WHERE date(d.day, '-' || lags.k || ' days') >= first.first_day
  GROUP BY d.day
)
SELECT d.day, COALESCE(c.articles, 0) AS articles, COALESCE(c.feeds, 0) AS feeds,
  b.baseline, COALESCE(b.weeks, 0) AS baseline_weeks,
  CASE WHEN d.day < :as_of AND b.baseline > 0
        AND COALESCE(c.articles, 0) < :low_ratio * b.baseline THEN 1 ELSE 0 END AS low,
  d.day >= :as_of AS in_progress
FROM days d LEFT JOIN counts c ON c.day = d.day LEFT JOIN base b ON b.day = d.day
ORDER BY d.day
""",
)

Q_MODEL_VERSIONS = NamedQuery(
    "model_versions",
    "Which narrative model versions produced the week's index rows, and when.",
    """
SELECT COALESCE(model_version, '(none)') AS model_version, COUNT(*) AS rows,
  MAX(computed_at) AS computed_at
FROM narrative_index
WHERE day BETWEEN :week_start AND :week_end
GROUP BY model_version
ORDER BY model_version
""",
)

Q_WEEKLY = NamedQuery(
    "narrative_weekly",
    "Per narrative: the index's own weekly figures for the report week (index with its "
    "interval, change against the previous week with its p-value, mover = significant), "
    "and last week's net stance.",
    """
SELECT w.narrative_id, w.index_value, w.index_low, w.index_high, w.prev_index, w.change,
  w.change_p, w.mover, w.articles, w.expected_articles, w.covered_days, w.member_sources,
  w.net_stance, w.stance_articles,
  (SELECT p.net_stance FROM narrative_weekly p
    WHERE p.narrative_id = w.narrative_id AND p.week_end = :prev_end) AS prev_net_stance
FROM narrative_weekly w
WHERE w.week_end = :week_end
ORDER BY w.narrative_id
""",
)

Q_INDEX_SETTINGS = NamedQuery(
    "index_settings",
    "The index parameters the stored figures were computed with (interval, thresholds).",
    """
SELECT key, value FROM index_settings
WHERE key IN ('interval', 'mover_p', 'spike_p', 'mover_min_articles', 'spike_min_articles')
ORDER BY key
""",
)

Q_COVERAGE_DAYS = NamedQuery(
    "coverage_days",
    "Per day of the week: articles, articles scored by the narrative model and sources, as "
    "the index counted them; covered = enough sources for the index to trust the day.",
    """
SELECT day, articles, scored_articles, sources, covered
FROM coverage_daily
WHERE day BETWEEN :week_start AND :week_end
ORDER BY day
""",
)

Q_EMERGING = NamedQuery(
    "emerging_topics",
    "New and rising topics of the latest discovery run whose window ends in the report week "
    "(or the day after), preferring the run over articles no narrative claims; most recent "
    "articles first.",
    """
WITH run AS (
  SELECT id FROM discover_runs
  WHERE end_day BETWEEN :week_start AND :after_end
  ORDER BY end_day DESC, scope = 'unclaimed' DESC, id DESC LIMIT 1
)
SELECT t.id AS topic_id, t.label, t.growth, t.articles, t.sources, t.recent_articles,
  t.baseline_weekly, t.peak_day, t.headlines, t.entities
FROM discovered_topics t JOIN run ON t.run_id = run.id
WHERE t.growth IN ('new', 'rising')
ORDER BY t.recent_articles DESC, t.articles DESC, t.id
LIMIT :top_n
""",
)


#: Every query the report may run, in appendix order.
QUERIES: tuple[NamedQuery, ...] = (
    Q_COVERAGE,
    Q_NARRATIVE_WEEK,
    Q_WEEKLY,
    Q_INDEX_SETTINGS,
    Q_INDEX_SERIES,
    Q_TOP_ENTITIES,
    Q_ENTITY_RISERS,
    Q_EMBEDDING_MODEL,
    Q_MEMBER_ARTICLES,
    Q_WEEK_CLAIMS,
    Q_CROSS_LINKS,
    Q_CROSS_LINK_EXAMPLES,
    Q_FAILED_FEEDS,
    Q_SILENT_FEEDS,
    Q_DAILY_VOLUME,
    Q_COVERAGE_DAYS,
    Q_EMERGING,
    Q_MODEL_VERSIONS,
)

_PARAM_RE = re.compile(r"(?<!:):([A-Za-z_]\w*)")


def query_params(sql: str) -> list[str]:
    """Names of the ``:named`` parameters a query uses, in order of first use."""
    return list(dict.fromkeys(_PARAM_RE.findall(sql)))


class QueryRunner:
    """Runs named queries with the report's parameters and records each run for the appendix."""

    def __init__(self, conn: sqlite3.Connection, params: Mapping[str, Any]) -> None:
        self.conn = conn
        self.params = dict(params)
        self.runs: list[QueryRun] = []

    def run(self, query: NamedQuery) -> list[dict[str, Any]]:
        names = query_params(query.sql)
        missing = [n for n in names if n not in self.params]
        if missing:
            raise ValueError(f"query {query.name} needs parameters {missing}")
        bound = {n: self.params[n] for n in names}
        cur = self.conn.execute(query.sql, bound)
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        self.runs.append(QueryRun(query.name, query.purpose, query.sql.strip(), bound, len(rows)))
        return rows
