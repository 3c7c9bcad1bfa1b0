"""The report's "why" facts: weekly index with interval and significance, stories, emerging
topics, validation rates and coverage (dataclasses and the pure helpers that pick them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WeeklyFigure:
    """A narrative's ISO week as the index stored it (``narrative_weekly``)."""

    index_value: float | None
    index_low: float | None
    index_high: float | None
    prev_index: float | None
    change: float | None
    change_p: float | None
    mover: bool
    articles: int
    expected: float | None
    covered_days: int
    member_sources: int
    net_stance: float | None
    stance_articles: int
    prev_net_stance: float | None = None

    @property
    def direction(self) -> str:
        """'rose' or 'fell' for a significant change (a mover), else 'steady'."""
        if not self.mover or self.change is None or self.change == 0:
            return "steady"
        return "rose" if self.change > 0 else "fell"


@dataclass(frozen=True)
class StoryRef:
    """One story (a story cluster, or a lone article) among a narrative's week members."""

    cluster_id: int | None
    article_id: int
    title: str
    url: str | None
    source: str
    day: str
    articles: int
    sources: int
    score: float | None
    evidence: str | None


@dataclass(frozen=True)
class EmergingTopic:
    """A new or rising topic of the latest discovery run that overlaps the week."""

    topic_id: int
    label: str
    growth: str
    articles: int
    sources: int
    recent_articles: int
    baseline_weekly: float | None
    peak_day: str
    headlines: tuple[str, ...]
    entities: tuple[str, ...]


@dataclass(frozen=True)
class HitRate:
    """How often a narrative's dated events land in its top index days, against placebo days."""

    narrative: str
    label: str
    events: int
    ranked: int
    hits: int
    hit_rate: float | None
    placebo_rate: float | None
    p_value: float | None


@dataclass(frozen=True)
class CoverageDay:
    """One day's articles, scored articles and sources as the index counted them."""

    day: str
    articles: int
    scored_articles: int
    sources: int
    covered: bool


def pick_stories(members: Sequence[Mapping[str, Any]], k: int,
                 make_ref: Any) -> list[StoryRef]:
    """The ``k`` biggest stories among members (rows best score first): by outlets, then articles.

    Articles without a story cluster are stories of their own. ``make_ref(row)`` turns the
    story's best-scoring member into (title, url, source, day, score, evidence).
    """
    groups: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for m in members:
        cid = m.get("cluster_id")
        key = ("c", int(cid)) if cid is not None else ("a", int(m["article_id"]))
        groups.setdefault(key, []).append(m)
    ranked = sorted(
        groups.items(),
        key=lambda kv: (-len({r.get("feed_id") for r in kv[1]}), -len(kv[1]),
                        -float(kv[1][0].get("score") or 0.0), kv[0][1]),
    )
    out = []
    for (kind, _), rows in ranked[:k]:
        best = rows[0]
        title, url, source, day, score, evidence = make_ref(best)
        out.append(StoryRef(
            cluster_id=int(best["cluster_id"]) if kind == "c" else None,
            article_id=int(best["article_id"]), title=title, url=url, source=source, day=day,
            articles=len(rows), sources=len({r.get("feed_id") for r in rows}), score=score,
            evidence=evidence,
        ))
    return out
