"""The report's data model and the pure helpers that shape it (formatting, centrality, links)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

import numpy as np

from tracker.report.charts import Point
from tracker.report.facts import CoverageDay, EmergingTopic, HitRate, StoryRef, WeeklyFigure
from tracker.report.queries import QueryRun
from tracker.report.weeks import Week

# --------------------------------------------------------------------------- report data


@dataclass(frozen=True)
class ReportOptions:
    """Knobs for how much the report lists; defaults suit a weekly read."""

    top_n: int = 5
    representatives: int = 3
    stories: int = 5
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
    #: The index's weekly row (interval, significance of the change); None if not stored.
    weekly: WeeklyFigure | None = None
    #: The biggest stories among the week's members, one per story cluster.
    stories: tuple[StoryRef, ...] = ()

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
    in_progress: bool = False


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
    as_of: str = "9999-12-31"
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
    #: Central probability of the stored intervals and the movers' p-value threshold.
    interval: float = 0.9
    mover_p: float = 0.01
    coverage_days: tuple[CoverageDay, ...] = ()
    emerging: tuple[EmergingTopic, ...] = ()
    hit_rates: tuple[HitRate, ...] = ()
    validation_note: str | None = None
    #: "How the stories move together" (``tracker dynamics``): its Markdown and lag-chart spec,
    #: None when dynamics never ran on this database.
    dynamics_markdown: str | None = None
    dynamics_chart: dict[str, Any] | None = None

    @property
    def has_data(self) -> bool:
        """Whether any distinct article is dated in the week."""
        return self.week_articles > 0

    @property
    def has_index(self) -> bool:
        """Whether the index has at least one value in the week."""
        return self.week_index_values > 0

    @property
    def complete(self) -> bool:
        """Whether the week was over (its Sunday before ``as_of``, today) when gathered."""
        return self.week.end.isoformat() < self.as_of

    @property
    def through(self) -> str:
        """The last day the report covers: the Sunday, or today while the week is not over."""
        return min(self.week.end.isoformat(), self.as_of)

    @property
    def progress_note(self) -> str | None:
        """A sentence saying the week is not over (or not begun), None for a complete week."""
        if self.complete:
            return None
        wk = self.week
        if self.as_of < wk.start.isoformat():
            return (f"Week {wk.label} has not begun (today is {self.as_of}): there is nothing "
                    "to report yet.")
        done = (date.fromisoformat(self.as_of) - wk.start).days + 1
        return (f"Week {wk.label} is not over: this report covers {wk.start:%d %b} to "
                f"{self.as_of} ({done} of 7 days, today still in progress). Figures for the "
                "week are partial; write the report again after Sunday for the full week.")

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
    """The ``k`` most central member articles of distinct story clusters (by embedding; by score
    when none have vectors)."""
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
    # One article per story cluster: three copies of one event are not three examples.
    picked, seen = [], set()
    for i in order:
        cid = members[i].get("cluster_id")
        if cid is not None and cid in seen:
            continue
        seen.add(cid)
        picked.append(article_ref(members[i], centrality=cent.get(i), evidence=True))
        if len(picked) == k:
            break
    ranked_by = "centrality" if cent else "score"
    return picked, ranked_by


_SLUG = re.compile(r"[a-z0-9_.-]+")


def outlet_name(source: Any, url: str | None) -> str:
    """The feed's title; for an untitled feed (its slug, e.g. ``theverge_ai``) the article's host."""
    name = clean_text(source or "", 80)
    if url and (not name or _SLUG.fullmatch(name)):
        host = urlsplit(url).hostname or ""
        host = host[4:] if host.startswith("www.") else host
        if host:
            return host
    return name


def article_ref(
    row: Mapping[str, Any], *, centrality: float | None = None, evidence: bool = False
) -> ArticleRef:
    title = clean_text(row.get("title") or "(untitled)", 240)
    quote_ = best_evidence(row.get("evidence")) if evidence else None
    return ArticleRef(
        article_id=int(row["article_id"]),
        title=title,
        url=safe_url(row.get("url")),
        source=outlet_name(row.get("source"), safe_url(row.get("url"))),
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


def fmt_p(v: float | None) -> str:
    """A p-value for display: ``<0.001`` for tiny ones, three decimals otherwise, or ``n/a``."""
    if v is None:
        return "n/a"
    return "<0.001" if v < 0.001 else f"{v:.3f}"


def fmt_share(v: float | None) -> str:
    """A rate in [0, 1] as a whole percentage, or ``n/a``."""
    return "n/a" if v is None else f"{100 * v:.0f}%"


def fmt_pct(v: float | None) -> str:
    """A percentage change with its sign, or ``n/a``."""
    return "n/a" if v is None else f"{v:+,.1f}%"
