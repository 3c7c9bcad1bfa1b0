"""Weekly narrative report: figures gathered by named SQL queries, rendered to Markdown and HTML.

Every figure in a report is read from the store by one of the named queries below;
the report's appendix prints each query verbatim with the parameter values it ran
with, so any number can be reproduced in ``sqlite3`` or Datasette. Gathering
(:func:`gather_report`) is the only step that touches the database; rendering
(:func:`render_markdown`, :func:`render_html`) are pure functions of a
:class:`ReportData`. Article text is data: it is escaped for the output format
(Markdown or HTML) and links are kept only when they are plain http(s) URLs.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import numpy as np
import sqlite_utils
from markupsafe import Markup

from tracker.charts import Point, line_chart_svg
from tracker.db import utcnow
from tracker.errors import TrackerError
from tracker.settings import Settings

log = logging.getLogger(__name__)


class ReportError(TrackerError):
    """A report cannot be written (bad week, unwritable directory, PDF tool missing)."""


# --------------------------------------------------------------------------- weeks

_WEEK_RE = re.compile(r"^\s*(\d{4})-?[Ww](\d{1,2})\s*$")


@dataclass(frozen=True)
class Week:
    """An ISO week (Monday to Sunday, UTC days) and the comparison windows around it."""

    year: int
    number: int

    @property
    def label(self) -> str:
        """The week as ``YYYY-Www``."""
        return f"{self.year}-W{self.number:02d}"

    @property
    def start(self) -> date:
        """The Monday."""
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def end(self) -> date:
        """The Sunday."""
        return self.start + timedelta(days=6)

    @property
    def prev_start(self) -> date:
        """Monday of the previous week."""
        return self.start - timedelta(days=7)

    @property
    def prev_end(self) -> date:
        """Sunday of the previous week."""
        return self.start - timedelta(days=1)

    @property
    def quarter_start(self) -> date:
        """First day of the trailing quarter: the 13 weeks (91 days) before this week."""
        return self.start - timedelta(days=91)

    def days(self) -> list[date]:
        """The seven days of the week."""
        return [self.start + timedelta(days=i) for i in range(7)]


def parse_week(text: str) -> Week:
    """Parse ``YYYY-Www`` (also ``YYYYWww``) into a :class:`Week`."""
    m = _WEEK_RE.match(text)
    if m:
        year, number = int(m.group(1)), int(m.group(2))
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            pass
        else:
            return Week(year, number)
    raise ReportError(
        f"Invalid week {text!r}: use the ISO week format YYYY-Www, e.g. 2026-W47 "
        "(weeks run Monday to Sunday; a year has 52 or 53 of them)."
    )


def week_of(day: date) -> Week:
    """The ISO week containing ``day``."""
    iso = day.isocalendar()
    return Week(iso.year, iso.week)


def default_week(today: date | None = None) -> Week:
    """The last complete ISO week before ``today`` (UTC today by default)."""
    today = today or datetime.now(UTC).date()
    return week_of(today - timedelta(days=7))


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
  (SELECT COUNT(index_value) FROM narrative_index
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
    "The week's member articles per narrative with their score and embedding. Centrality "
    "= cosine between an article's vector and the mean of the narrative's unit-normalised "
    "member vectors that week; articles without a vector rank after, by score.",
    """
SELECT an.narrative_id, a.id AS article_id, a.title, COALESCE(a.url, a.canonical_url) AS url,
  a.day, COALESCE(f.title, f.name) AS source, an.score, an.evidence, ae.dim, ae.vector
FROM article_narratives an
JOIN articles a ON a.id = an.article_id
JOIN feeds f ON f.id = a.feed_id
LEFT JOIN article_embeddings ae ON ae.article_id = a.id AND ae.model = :embedding_model
WHERE an.is_member = 1 AND +a.duplicate_of IS NULL
  AND a.day BETWEEN :week_start AND :week_end
ORDER BY an.narrative_id, an.score DESC, a.id
""",
)

Q_WEEK_CLAIMS = NamedQuery(
    "week_claims",
    "Money and percent figures cited in the week's articles, with their entity; the same "
    "figure for the same entity in one article (title and summary) counts once. Claims in "
    "narrative articles and with a linked entity first.",
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
GROUP BY c.article_id, c.entity_id, c.kind, c.value, c.low, c.high, c.unit
ORDER BY narratives IS NULL, c.entity_id IS NULL, a.day, claim_id
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
    "Enabled feeds with no new distinct article dated in the last days of the week.",
    """
SELECT f.name, COALESCE(f.title, f.name) AS source,
  (SELECT COUNT(*) FROM articles a WHERE a.feed_id = f.id AND +a.duplicate_of IS NULL
     AND a.day BETWEEN :week_start AND :week_end) AS week_articles,
  (SELECT MAX(a.day) FROM articles a WHERE a.feed_id = f.id AND +a.duplicate_of IS NULL
     AND a.day <= :week_end) AS last_article_day,
  (SELECT COUNT(*) FROM fetches x WHERE x.feed_id = f.id
     AND x.started_at >= :week_start AND x.started_at < :after_end) AS fetches
FROM feeds f
WHERE f.enabled = 1 AND NOT EXISTS (
  SELECT 1 FROM articles a WHERE a.feed_id = f.id AND +a.duplicate_of IS NULL
    AND a.day BETWEEN :silent_start AND :week_end)
ORDER BY week_articles, f.name
""",
)

Q_DAILY_VOLUME = NamedQuery(
    "daily_volume",
    "Distinct articles per day of the week against the same weekday of the four weeks "
    "before (days without articles count as 0; weeks before the store's first article are "
    "left out), so quiet weekends are not flagged; a day is low below :low_ratio times "
    "that baseline.",
    """
WITH RECURSIVE days(day) AS (
  SELECT :week_start
  UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < :week_end
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
  CASE WHEN b.baseline > 0
        AND COALESCE(c.articles, 0) < :low_ratio * b.baseline THEN 1 ELSE 0 END AS low
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

#: Every query the report may run, in appendix order.
QUERIES: tuple[NamedQuery, ...] = (
    Q_COVERAGE,
    Q_NARRATIVE_WEEK,
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
    Q_MODEL_VERSIONS,
)

_PARAM_RE = re.compile(r"(?<!:):([A-Za-z_]\w*)")


def query_params(sql: str) -> list[str]:
    """Names of the ``:named`` parameters a query uses, in order of first use."""
    return list(dict.fromkeys(_PARAM_RE.findall(sql)))


class _Runner:
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


# --------------------------------------------------------------------------- report data


@dataclass(frozen=True)
class ReportOptions:
    """Knobs for how much the report lists; defaults suit a weekly read."""

    top_n: int = 5
    representatives: int = 3
    cross_link_examples: int = 3
    max_claims: int = 40
    low_ratio: float = 0.5
    silent_days: int = 3


@dataclass(frozen=True)
class EntityFigure:
    """An entity's member-article count for a narrative this week and last week."""

    entity_id: str
    name: str
    type: str
    week_articles: int
    prev_articles: int
    change: int


@dataclass(frozen=True)
class ArticleRef:
    """An article as the report cites it."""

    article_id: int
    title: str
    url: str | None
    source: str
    day: str
    score: float | None = None
    centrality: float | None = None
    evidence: str | None = None


@dataclass(frozen=True)
class NarrativeReport:
    """Everything the report says about one narrative in the week."""

    id: str
    label: str
    description: str | None
    week_mean: float | None
    week_days: int
    prev_mean: float | None
    quarter_mean: float | None
    change_prev: float | None
    pct_prev: float | None
    change_quarter: float | None
    pct_quarter: float | None
    articles: int
    prev_articles: int
    spike_days: tuple[str, ...]
    max_zscore: float | None
    series: tuple[Point, ...]
    top_entities: tuple[EntityFigure, ...]
    risers: tuple[EntityFigure, ...]
    representatives: tuple[ArticleRef, ...]
    members: int
    ranked_by: str

    @property
    def direction(self) -> str:
        """'rose', 'fell', 'unchanged', or 'no comparison' when a week has no index."""
        if self.change_prev is None:
            return "no comparison"
        if self.change_prev > 0:
            return "rose"
        if self.change_prev < 0:
            return "fell"
        return "unchanged"


@dataclass(frozen=True)
class ClaimRow:
    """A money or percent figure cited in an article of the week."""

    claim_id: int
    day: str
    kind: str
    value: float | None
    low: float | None
    high: float | None
    unit: str | None
    text: str
    entity: str | None
    entity_type: str | None
    subject: str | None
    article: ArticleRef
    narratives: str | None
    mentions: int = 1

    @property
    def amount(self) -> str:
        """The figure as a short human-readable amount, e.g. ``USD 4.5bn`` or ``10-15%``."""
        return format_amount(self.kind, self.value, self.low, self.high, self.unit)


@dataclass(frozen=True)
class CrossLink:
    """Two narratives that share member articles this week."""

    narrative_a: str
    narrative_b: str
    label_a: str
    label_b: str
    articles: int
    examples: tuple[ArticleRef, ...]


@dataclass(frozen=True)
class FeedIssue:
    """A feed with failed fetches during the week."""

    name: str
    source: str
    fetches: int
    failed: int
    partial: int
    last_error_kind: str | None
    last_error: str | None


@dataclass(frozen=True)
class SilentFeed:
    """An enabled feed with no new article in the last days of the week."""

    name: str
    source: str
    week_articles: int
    last_article_day: str | None
    fetches: int


@dataclass(frozen=True)
class DayVolume:
    """Distinct articles on one day of the week and whether that is unusually low."""

    day: str
    articles: int
    feeds: int
    baseline: float | None
    baseline_weeks: int
    low: bool


@dataclass(frozen=True)
class ModelVersion:
    """A narrative model version behind the week's index rows."""

    model_version: str
    rows: int
    computed_at: str | None


@dataclass(frozen=True)
class ReportData:
    """All figures of one weekly report, as gathered from the store."""

    week: Week
    generated_at: str
    options: ReportOptions
    first_day: str | None
    last_day: str | None
    week_articles: int
    week_feeds: int
    index_first_day: str | None
    index_last_day: str | None
    week_index_values: int
    narratives: tuple[NarrativeReport, ...] = ()
    claims: tuple[ClaimRow, ...] = ()
    claims_total: int = 0
    cross_links: tuple[CrossLink, ...] = ()
    failed_feeds: tuple[FeedIssue, ...] = ()
    silent_feeds: tuple[SilentFeed, ...] = ()
    daily_volume: tuple[DayVolume, ...] = ()
    model_versions: tuple[ModelVersion, ...] = ()
    embedding_model: str | None = None
    queries: tuple[QueryRun, ...] = field(default=())

    @property
    def has_data(self) -> bool:
        """Whether any distinct article is dated in the week."""
        return self.week_articles > 0

    @property
    def has_index(self) -> bool:
        """Whether the index has at least one value in the week."""
        return self.week_index_values > 0

    @property
    def coverage(self) -> str:
        """The store's date range as ``A..B``, or a phrase when it is empty."""
        if self.first_day is None:
            return "no articles yet"
        return f"{self.first_day}..{self.last_day}"


# --------------------------------------------------------------------------- pure helpers


def clean_text(text: Any, limit: int = 300) -> str:
    """Collapse whitespace (so text cannot start a new block) and cap the length."""
    s = " ".join(str(text if text is not None else "").split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def safe_url(url: Any) -> str | None:
    """The URL if it is a plain http(s) link, percent-encoded so it cannot break markup; else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Quote everything that could end a Markdown link or an HTML attribute early.
    return quote(url, safe=":/?#@!$&'*+,;=%~-._")


def decode_vector(blob: Any, dim: Any) -> np.ndarray | None:
    """A float32 little-endian blob as a vector, or None if it is missing or the wrong size."""
    if not isinstance(blob, bytes | bytearray | memoryview) or not isinstance(dim, int):
        return None
    if dim <= 0 or len(blob) != 4 * dim:
        return None
    vec = np.frombuffer(bytes(blob), dtype="<f4").astype(np.float64)
    return vec if np.all(np.isfinite(vec)) else None


def centrality(vectors: Sequence[np.ndarray]) -> list[float]:
    """Cosine of each vector to the centroid of the unit-normalised vectors (0 for zero vectors)."""
    if not vectors:
        return []
    m = np.vstack(vectors)
    norms = np.linalg.norm(m, axis=1)
    unit = np.divide(m, norms[:, None], out=np.zeros_like(m), where=norms[:, None] > 0)
    centroid = unit.mean(axis=0)
    c_norm = float(np.linalg.norm(centroid))
    if c_norm == 0.0:
        return [0.0] * len(vectors)
    return [float(x) for x in unit @ centroid / c_norm]


def best_evidence(evidence: Any) -> str | None:
    """The highest-scoring evidence sentence from the stored JSON list, if any."""
    try:
        items = json.loads(evidence) if isinstance(evidence, str) else evidence
    except ValueError:
        return None
    if not isinstance(items, list):
        return None
    best: tuple[float, str] | None = None
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("sentence"), str):
            continue
        score = item.get("score")
        s = float(score) if isinstance(score, int | float) and math.isfinite(score) else 0.0
        if best is None or s > best[0]:
            best = (s, item["sentence"])
    return clean_text(best[1]) if best and best[1].strip() else None


def pick_representatives(
    members: Sequence[Mapping[str, Any]], k: int
) -> tuple[list[ArticleRef], str]:
    """The ``k`` most central member articles (by embedding; by score when none have vectors)."""
    present = [
        (i, v)
        for i, m in enumerate(members)
        if (v := decode_vector(m.get("vector"), m.get("dim"))) is not None
    ]
    cent: dict[int, float] = {}
    # Vectors of different sizes (mixed models) cannot share a centroid: fall back to score.
    if present and len({v.shape[0] for _, v in present}) == 1:
        scores = centrality([v for _, v in present])
        cent = {i: c for (i, _), c in zip(present, scores, strict=True)}
    order = sorted(
        range(len(members)),
        key=lambda i: (
            0 if i in cent else 1,
            -cent.get(i, 0.0),
            -float(members[i].get("score") or 0.0),
            int(members[i]["article_id"]),
        ),
    )
    picked = [
        _article_ref(members[i], centrality=cent.get(i), evidence=True) for i in order[:k]
    ]
    ranked_by = "centrality" if cent else "score"
    return picked, ranked_by


def _article_ref(
    row: Mapping[str, Any], *, centrality: float | None = None, evidence: bool = False
) -> ArticleRef:
    title = clean_text(row.get("title") or "(untitled)", 240)
    quote_ = best_evidence(row.get("evidence")) if evidence else None
    return ArticleRef(
        article_id=int(row["article_id"]),
        title=title,
        url=safe_url(row.get("url")),
        source=clean_text(row.get("source") or "", 80),
        day=str(row.get("day") or ""),
        score=float(row["score"]) if row.get("score") is not None else None,
        centrality=centrality,
        # A headline quoted under itself adds nothing.
        evidence=quote_ if quote_ and quote_ != title else None,
    )


def _compact(v: float) -> str:
    a = abs(v)
    for scale, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m")):
        if a >= scale:
            return f"{v / scale:.3g}{suffix}"
    if a >= 1e4:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def format_amount(
    kind: str, value: float | None, low: float | None, high: float | None, unit: str | None
) -> str:
    """A claim's figure as text: value or low-high range, money with unit first, percent with %."""
    if value is not None and (low is None or high is None or low == high):
        number = _compact(value)
    elif low is not None and high is not None:
        number = f"{_compact(low)}-{_compact(high)}"
    elif value is not None:
        number = _compact(value)
    else:
        return "n/a"
    unit = clean_text(unit or "", 12)
    if kind == "percent" or unit == "%":
        return f"{number}%"
    return f"{unit} {number}".strip()


def fmt_num(v: float | None, digits: int = 1) -> str:
    """A number rounded for display, or ``n/a``."""
    return "n/a" if v is None else f"{v:,.{digits}f}"


def fmt_signed(v: float | None, digits: int = 1) -> str:
    """A change with its sign, or ``n/a``."""
    return "n/a" if v is None else f"{v:+,.{digits}f}"


def fmt_pct(v: float | None) -> str:
    """A percentage change with its sign, or ``n/a``."""
    return "n/a" if v is None else f"{v:+,.1f}%"


def summary_lines(data: ReportData) -> list[str]:
    """The report's headline summary as plain sentences (escaped later by each renderer)."""
    wk = data.week
    span = f"{wk.start:%d %b} to {wk.end:%d %b %Y}"
    if not data.has_data:
        return [
            f"No data for week {wk.label} ({span}): no articles are dated in that week "
            f"(data covers {data.coverage})."
        ]
    lines = [
        f"Week {wk.label} ({span}): {data.week_articles} distinct articles from "
        f"{data.week_feeds} feeds (data covers {data.coverage})."
    ]
    if not data.has_index:
        lines.append(
            "The narrative index has no values for this week yet: run tracker index "
            "(or tracker run) and write the report again."
        )
        return lines
    compared = [(n.change_prev, n) for n in data.narratives if n.change_prev is not None]
    risers = [n for c, n in sorted(compared, key=lambda t: -t[0]) if c > 0]
    fallers = [n for c, n in sorted(compared, key=lambda t: t[0]) if c < 0]
    for verb, group in (("rose", risers), ("fell", fallers)):
        if not group:
            continue
        top = group[0]
        lines.append(
            f"{top.label} {verb} most: mean index {fmt_num(top.week_mean)} against "
            f"{fmt_num(top.prev_mean)} last week ({fmt_signed(top.change_prev)}, "
            f"{fmt_pct(top.pct_prev)}) and {fmt_num(top.quarter_mean)} over the trailing "
            f"quarter ({fmt_signed(top.change_quarter)}, {fmt_pct(top.pct_quarter)})."
        )
        if len(group) > 1:
            others = ", ".join(
                f"{n.label} ({fmt_signed(n.change_prev)}, {fmt_pct(n.pct_prev)})" for n in group[1:]
            )
            lines.append(f"Also {verb}: {others}.")
    flat = [n.label for c, n in compared if c == 0]
    if flat:
        lines.append(f"Unchanged: {', '.join(flat)}.")
    new = [n for n in data.narratives if n.change_prev is None and n.week_mean is not None]
    if new:
        lines.append(
            "No index last week to compare with: "
            + ", ".join(f"{n.label} ({fmt_num(n.week_mean)} this week)" for n in new)
            + "."
        )
    spiking = [n for n in data.narratives if n.spike_days]
    if spiking:
        lines.append(
            "Spikes: "
            + "; ".join(f"{n.label} on {', '.join(n.spike_days)}" for n in spiking)
            + "."
        )
    low_days = [d.day for d in data.daily_volume if d.low]
    if data.failed_feeds or data.silent_feeds or low_days:
        notes = []
        if data.failed_feeds:
            notes.append(f"{len(data.failed_feeds)} feed(s) with failed fetches")
        if data.silent_feeds:
            notes.append(f"{len(data.silent_feeds)} silent feed(s)")
        if low_days:
            notes.append(f"{len(low_days)} low-volume day(s)")
        lines.append("Data quality: " + ", ".join(notes) + " (see below).")
    return lines


# --------------------------------------------------------------------------- gathering


def week_params(week: Week, options: ReportOptions) -> dict[str, Any]:
    """The named parameters every report query draws from."""
    return {
        "week_start": week.start.isoformat(),
        "week_end": week.end.isoformat(),
        "prev_start": week.prev_start.isoformat(),
        "prev_end": week.prev_end.isoformat(),
        "quarter_start": week.quarter_start.isoformat(),
        "after_end": (week.end + timedelta(days=1)).isoformat(),
        "baseline_start": (week.start - timedelta(days=28)).isoformat(),
        "silent_start": (week.end - timedelta(days=options.silent_days - 1)).isoformat(),
        "low_ratio": options.low_ratio,
        "top_n": options.top_n,
        "examples": options.cross_link_examples,
    }


def gather_report(
    conn: sqlite3.Connection,
    week: Week,
    *,
    options: ReportOptions | None = None,
    generated_at: str | None = None,
) -> ReportData:
    """Run the report's named queries for ``week`` and assemble a :class:`ReportData`."""
    options = options or ReportOptions()
    runner = _Runner(conn, week_params(week, options))
    cov = runner.run(Q_COVERAGE)[0]
    base: dict[str, Any] = {
        "week": week,
        "generated_at": generated_at or utcnow(),
        "options": options,
        "first_day": cov["first_day"],
        "last_day": cov["last_day"],
        "week_articles": cov["week_articles"],
        "week_feeds": cov["week_feeds"],
        "index_first_day": cov["index_first_day"],
        "index_last_day": cov["index_last_day"],
        "week_index_values": cov["week_index_values"],
    }
    failed = tuple(
        FeedIssue(
            name=clean_text(r["name"], 80),
            source=clean_text(r["source"], 80),
            fetches=r["fetches"],
            failed=r["failed"],
            partial=r["partial"],
            last_error_kind=clean_text(r["last_error_kind"], 40) or None,
            last_error=clean_text(r["last_error"], 200) or None,
        )
        for r in runner.run(Q_FAILED_FEEDS)
    )
    silent = tuple(
        SilentFeed(
            name=clean_text(r["name"], 80),
            source=clean_text(r["source"], 80),
            week_articles=r["week_articles"],
            last_article_day=r["last_article_day"],
            fetches=r["fetches"],
        )
        for r in runner.run(Q_SILENT_FEEDS)
    )
    volume = tuple(
        DayVolume(
            r["day"], r["articles"], r["feeds"], r["baseline"], r["baseline_weeks"], bool(r["low"])
        )
        for r in runner.run(Q_DAILY_VOLUME)
    )
    quality: dict[str, Any] = {
        "failed_feeds": failed,
        "silent_feeds": silent,
        "daily_volume": volume,
    }
    if not cov["week_articles"]:
        return ReportData(**base, **quality, queries=tuple(runner.runs))

    week_rows = runner.run(Q_NARRATIVE_WEEK)
    series: dict[str, list[Point]] = {}
    spikes: dict[str, list[str]] = {}
    for r in runner.run(Q_INDEX_SERIES):
        day = date.fromisoformat(r["day"])
        series.setdefault(r["narrative_id"], []).append(
            Point(day, r["index_value"], r["smoothed_7d"], bool(r["spike"]), r["zscore"])
        )
        if r["spike"] and week.start <= day <= week.end:
            spikes.setdefault(r["narrative_id"], []).append(r["day"])
    tops = _entities_by_narrative(runner.run(Q_TOP_ENTITIES))
    risers = _entities_by_narrative(runner.run(Q_ENTITY_RISERS))
    model_rows = runner.run(Q_EMBEDDING_MODEL)
    embedding_model = model_rows[0]["model"] if model_rows else None
    runner.params["embedding_model"] = embedding_model
    members: dict[str, list[dict[str, Any]]] = {}
    for r in runner.run(Q_MEMBER_ARTICLES):
        members.setdefault(r["narrative_id"], []).append(r)

    narratives = []
    for r in week_rows:
        nid = r["narrative_id"]
        reps, ranked_by = pick_representatives(members.get(nid, []), options.representatives)
        narratives.append(
            NarrativeReport(
                id=nid,
                label=clean_text(r["label"] or nid, 120),
                description=clean_text(r["description"], 400) or None,
                week_mean=r["week_mean"],
                week_days=r["week_days"],
                prev_mean=r["prev_mean"],
                quarter_mean=r["quarter_mean"],
                change_prev=r["change_prev"],
                pct_prev=r["pct_prev"],
                change_quarter=r["change_quarter"],
                pct_quarter=r["pct_quarter"],
                articles=r["week_articles"],
                prev_articles=r["prev_articles"],
                spike_days=tuple(spikes.get(nid, [])),
                max_zscore=r["max_zscore"],
                series=tuple(series.get(nid, [])),
                top_entities=tuple(tops.get(nid, [])),
                risers=tuple(risers.get(nid, [])),
                representatives=tuple(reps),
                members=len(members.get(nid, [])),
                ranked_by=ranked_by,
            )
        )
    labels = {n.id: n.label for n in narratives}

    claim_rows = runner.run(Q_WEEK_CLAIMS)
    claims = tuple(
        ClaimRow(
            claim_id=r["claim_id"],
            day=r["day"],
            kind=str(r["kind"]),
            value=r["value"],
            low=r["low"],
            high=r["high"],
            unit=r["unit"],
            text=clean_text(r["text"], 240),
            entity=clean_text(r["entity"], 80) or None,
            entity_type=r["entity_type"],
            subject=clean_text(r["subject"], 80) or None,
            article=_article_ref(r),
            narratives=r["narratives"],
            mentions=r["mentions"],
        )
        for r in claim_rows[: options.max_claims]
    )

    examples: dict[tuple[str, str], list[ArticleRef]] = {}
    links = runner.run(Q_CROSS_LINKS)
    for r in runner.run(Q_CROSS_LINK_EXAMPLES):
        examples.setdefault((r["narrative_a"], r["narrative_b"]), []).append(
            _article_ref({**r, "score": None})
        )
    cross = tuple(
        CrossLink(
            narrative_a=r["narrative_a"],
            narrative_b=r["narrative_b"],
            label_a=labels.get(r["narrative_a"], r["narrative_a"]),
            label_b=labels.get(r["narrative_b"], r["narrative_b"]),
            articles=r["articles"],
            examples=tuple(examples.get((r["narrative_a"], r["narrative_b"]), [])),
        )
        for r in links
    )
    versions = tuple(
        ModelVersion(clean_text(r["model_version"], 200), r["rows"], r["computed_at"])
        for r in runner.run(Q_MODEL_VERSIONS)
    )
    return ReportData(
        **base,
        **quality,
        narratives=tuple(narratives),
        claims=claims,
        claims_total=len(claim_rows),
        cross_links=cross,
        model_versions=versions,
        embedding_model=embedding_model,
        queries=tuple(runner.runs),
    )


def _entities_by_narrative(rows: list[dict[str, Any]]) -> dict[str, list[EntityFigure]]:
    out: dict[str, list[EntityFigure]] = {}
    for r in rows:
        out.setdefault(r["narrative_id"], []).append(
            EntityFigure(
                entity_id=str(r["entity_id"]),
                name=clean_text(r["name"], 80),
                type=clean_text(r["type"], 40),
                week_articles=r["week_articles"],
                prev_articles=r["prev_articles"],
                change=r["change"],
            )
        )
    return out


# --------------------------------------------------------------------------- rendering

_SLUG_RE = re.compile(r"[^A-Za-z0-9_-]+")


def chart_slug(narrative_id: str) -> str:
    """A file-name-safe form of a narrative id."""
    return _SLUG_RE.sub("-", narrative_id).strip("-") or "narrative"


def chart_window(data: ReportData, narrative: NarrativeReport) -> tuple[date, date]:
    """The chart's x range: the trailing quarter and the week, trimmed to where data starts."""
    start = data.week.quarter_start
    days = [p.day for p in narrative.series]
    start = max(start, min(min(days), data.week.start)) if days else data.week.start
    return start, data.week.end


def render_charts(data: ReportData) -> dict[str, str]:
    """One SVG chart per narrative: the index over the window, the week shaded, spikes marked."""
    charts = {}
    for n in data.narratives:
        start, end = chart_window(data, n)
        charts[n.id] = line_chart_svg(
            n.series,
            start=start,
            end=end,
            highlight=(data.week.start, data.week.end),
            title=f"{n.label}: daily index, {start.isoformat()} to {end.isoformat()}",
        )
    return charts


class MdText(str):
    """Markdown that is already safe: the Markdown renderer emits it unescaped."""


_MD_BACKSLASH = frozenset("\\`*_[]")
# Entities work in every Markdown flavour; backslash escapes of these do not (Python-Markdown).
_MD_ENTITY = {"<": "&lt;", ">": "&gt;", "&": "&amp;", "|": "&#124;", "~": "&#126;"}
# List markers need a space (or the end) after them, so "3.3%" stays as it is.
_MD_BLOCK_START = re.compile(r"^(?:[#+\-]|\d{1,9}[.)](?=\s|$))")


def md_escape(text: Any) -> str:
    """Make text inert in Markdown: no HTML, links, emphasis, code or block markers survive."""
    s = " ".join(str(text).split())
    out = []
    for ch in s:
        if ch in _MD_BACKSLASH:
            out.append("\\" + ch)
        else:
            out.append(_MD_ENTITY.get(ch, ch))
    s = "".join(out)
    m = _MD_BLOCK_START.match(s)
    if m:
        marker = m.group(0)
        s = (
            "\\" + marker + s[len(marker) :]
            if len(marker) == 1
            else marker[:-1] + "\\" + marker[-1] + s[len(marker) :]
        )
    elif s[:1] == "=":
        s = "&#61;" + s[1:]
    return s


def _md_finalize(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, MdText):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return md_escape(value)


def _md_link(text: Any, url: str | None) -> MdText:
    label = md_escape(text) or "link"
    return MdText(f"[{label}]({url})" if url else label)


def _fence(text: str) -> MdText:
    runs = [len(r) for r in re.findall(r"`+", text)]
    return MdText("`" * max(3, max(runs, default=0) + 1))


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _shell_arg(literal: str) -> str:
    """Quote a SQL literal as one argument of a sqlite3 shell dot-command."""
    if re.fullmatch(r"[\w.+-]+", literal):
        return literal
    return '"' + literal.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _param_lines(params: Mapping[str, Any]) -> str:
    """``.param set`` lines for the sqlite3 shell, so a query can be rerun as shown."""
    return "\n".join(
        f".param set :{k} {_shell_arg(_sql_literal(v))}" for k, v in params.items()
    )


def _common_filters() -> dict[str, Any]:
    return {
        "num": fmt_num,
        "signed": fmt_signed,
        "pct": fmt_pct,
        "param_lines": _param_lines,
    }


def _as_md(fn: Callable[..., str]) -> Callable[..., MdText]:
    return lambda *args, **kwargs: MdText(fn(*args, **kwargs))


def _environment(markdown: bool) -> jinja2.Environment:
    loader = jinja2.PackageLoader("tracker", "templates")
    if markdown:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            finalize=_md_finalize,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        # Figures formatted here are digits and signs only: mark them safe to keep the source tidy.
        env.filters.update({k: _as_md(f) for k, f in _common_filters().items()})
        env.filters["link"] = _md_link
        env.filters["raw"] = MdText
        env.filters["fence"] = _fence
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        env.filters.update(_common_filters())
    return env


def _context(data: ReportData) -> dict[str, Any]:
    return {
        "data": data,
        "week": data.week,
        "summary": summary_lines(data),
        "low_days": [d for d in data.daily_volume if d.low],
        "queries": data.queries,
    }


def render_markdown(data: ReportData, chart_links: Mapping[str, str] | None = None) -> str:
    """The report as Markdown; ``chart_links`` maps narrative ids to relative SVG paths."""
    links = {k: MdText(quote(v, safe="/._-")) for k, v in (chart_links or {}).items()}
    return _environment(markdown=True).get_template("report.md.j2").render(
        **_context(data), chart_links=links
    )


def render_html(data: ReportData, charts: Mapping[str, str] | None = None) -> str:
    """The report as one self-contained HTML page with the SVG charts inline."""
    svgs = {k: Markup(v) for k, v in (render_charts(data) if charts is None else charts).items()}
    return _environment(markdown=False).get_template("report.html.j2").render(
        **_context(data), charts=svgs
    )


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True)
class ReportResult:
    """What :func:`write_report` wrote, with the headline summary."""

    week: str
    has_data: bool
    markdown_path: Path
    html_path: Path
    chart_paths: tuple[Path, ...]
    pdf_path: Path | None
    summary: tuple[str, ...]

    @property
    def paths(self) -> list[Path]:
        """Every file written."""
        extra = [self.pdf_path] if self.pdf_path else []
        return [self.markdown_path, self.html_path, *self.chart_paths, *extra]


def _write_text(path: Path, text: str) -> None:
    """Write via a temporary file so a reader never sees half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    """Path of a Chromium-family browser for PDF printing, or None."""
    for name in _BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html_path: Path, pdf_path: Path, *, browser: str | None = None) -> Path:
    """Print the HTML report to PDF with headless Chromium."""
    browser = browser or find_browser()
    if browser is None:
        raise ReportError(
            f"Cannot write a PDF: no Chromium browser found on PATH (tried {', '.join(_BROWSERS)}). "
            f"Install one (Debian: apt-get install chromium) or drop --pdf; the Markdown and "
            f"HTML reports were written to {html_path.parent}."
        )
    with tempfile.TemporaryDirectory(prefix="tracker-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            html_path.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ReportError(
                f"Cannot write a PDF: running {browser} failed ({exc}). Check the browser "
                "works headless, or drop --pdf."
            ) from exc
    if not pdf_path.is_file() or pdf_path.read_bytes()[:5] != b"%PDF-":
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise ReportError(
            f"Cannot write a PDF: {browser} exited with status {proc.returncode} and wrote no "
            f"PDF ({tail or 'no output'}). Check the browser works headless, or drop --pdf."
        )
    return pdf_path


def write_report(
    db: sqlite_utils.Database,
    settings: Settings,
    *,
    week: str | None,
    out_dir: Path,
    pdf: bool = False,
    today: date | None = None,
    options: ReportOptions | None = None,
) -> ReportResult:
    """Write the week's report as Markdown (+ SVG charts beside it) and HTML, optionally PDF."""
    wk = parse_week(week) if week else default_week(today)
    data = gather_report(db.conn, wk, options=options)
    charts = render_charts(data)
    stem = f"report-{wk.label}"
    chart_dir = out_dir / f"{stem}-charts"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # The chart folder belongs to this report: clear old charts of removed narratives.
        if chart_dir.is_dir():
            for old in chart_dir.glob("*.svg"):
                old.unlink()
        chart_paths: list[Path] = []
        links: dict[str, str] = {}
        if charts:
            chart_dir.mkdir(exist_ok=True)
        for nid, svg in charts.items():
            path = chart_dir / f"{chart_slug(nid)}.svg"
            _write_text(path, svg + "\n")
            chart_paths.append(path)
            links[nid] = f"{chart_dir.name}/{path.name}"
        md_path = out_dir / f"{stem}.md"
        html_path = out_dir / f"{stem}.html"
        _write_text(md_path, render_markdown(data, links))
        _write_text(html_path, render_html(data, charts))
    except OSError as exc:
        raise ReportError(
            f"Cannot write the report to {out_dir}: {exc}. Choose a writable directory with --out "
            "(or TRACKER_REPORTS)."
        ) from exc
    pdf_path = print_pdf(html_path, out_dir / f"{stem}.pdf") if pdf else None
    log.info("report %s written to %s", wk.label, out_dir)
    return ReportResult(
        week=wk.label,
        has_data=data.has_data,
        markdown_path=md_path,
        html_path=html_path,
        chart_paths=tuple(chart_paths),
        pdf_path=pdf_path,
        summary=tuple(summary_lines(data)),
    )
