"""``tracker validate``: the event study on the stored index, every spike with its headlines,
and a Markdown summary; plus :func:`current_hit_rates` for the weekly report.

Reads only what ``tracker index`` stored (``narrative_index``) and the articles behind the
spikes; writes nothing to the database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from tracker.base.errors import TrackerError
from tracker.index.events import NO_NARRATIVE, Calendar, default_events_path, load_events
from tracker.index.study import NarrativeRates, StudyParams, StudyResult, run_study

#: Headlines listed per spike (its member articles with the highest narrative score).
TOP_HEADLINES = 5


@dataclass(frozen=True)
class Headline:
    """A member article of a spike day."""

    article_id: int
    guid: str | None
    feed: str
    title: str | None
    url: str | None
    score: float


@dataclass(frozen=True)
class Spike:
    """One flagged day of one narrative with the figures that flagged it."""

    narrative_id: str
    day: str
    articles: int
    expected_articles: float | None
    member_sources: int
    index_value: float | None
    p_value: float | None
    zscore: float | None
    headlines: list[Headline] = field(default_factory=list)


@dataclass
class Validation:
    """What ``tracker validate`` found."""

    events_path: str
    narratives: list[str]
    study: StudyResult
    spikes: list[Spike]
    first_day: str | None
    last_day: str | None
    articles_per_day: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for ``--json``."""
        return {
            "events_path": self.events_path,
            "range": [self.first_day, self.last_day],
            "articles_per_day": self.articles_per_day,
            "params": asdict(self.study.params),
            "rates": [asdict(r) for r in self.study.rates],
            "matrix": self.study.matrix,
            "null_sizes": self.study.null_sizes,
            "events": [asdict(r) for r in self.study.results],
            "spikes": [asdict(s) for s in self.spikes],
        }


def load_daily(conn: sqlite3.Connection) -> pd.DataFrame:
    """The stored index rows the study needs."""
    return pd.DataFrame(
        conn.execute(
            "SELECT narrative_id, day, articles, expected_articles, covered FROM narrative_index "
            "ORDER BY narrative_id, day"
        ).fetchall(),
        columns=["narrative_id", "day", "articles", "expected_articles", "covered"],
    )


def load_spikes(conn: sqlite3.Connection, top: int = TOP_HEADLINES) -> list[Spike]:
    """Every spike day with its ``top`` member articles by narrative score."""
    spikes = []
    rows = conn.execute(
        "SELECT narrative_id, day, articles, expected_articles, member_sources, index_value, "
        "p_value, zscore FROM narrative_index WHERE spike = 1 ORDER BY narrative_id, day"
    ).fetchall()
    for narrative, day, articles, expected, sources, value, p, z in rows:
        heads = conn.execute(
            "SELECT a.id, a.guid, f.name, a.title, a.url, an.score FROM articles a "
            "JOIN article_narratives an ON an.article_id = a.id AND an.narrative_id = ? "
            "JOIN feeds f ON f.id = a.feed_id "
            "WHERE a.day = ? AND an.is_member = 1 AND a.duplicate_of IS NULL "
            "ORDER BY an.score DESC, a.id LIMIT ?",
            (narrative, day, top),
        ).fetchall()
        spikes.append(Spike(narrative, day, articles, expected, sources, value, p, z,
                            [Headline(*h) for h in heads]))  # fmt: skip
    return spikes


def validate(conn: sqlite3.Connection, events_path: Path | None = None, *,
             models_dir: Path | None = None, params: StudyParams | None = None) -> Validation:
    """Run the event study and gather the spikes from the stored index."""  # fmt: skip
    narratives = [r[0] for r in conn.execute("SELECT id FROM narratives ORDER BY id")]
    daily = load_daily(conn)
    if daily.empty:
        raise TrackerError(
            "The database has no index yet: run `tracker index` (or `tracker run`) first, then "
            "`tracker validate`."
        )
    path = events_path or default_events_path(models_dir)
    calendar = load_events(path, narratives, strict=events_path is not None)
    study = run_study(daily, calendar, narratives, params)
    first, last = daily["day"].min(), daily["day"].max()
    per_day = conn.execute(
        "SELECT AVG(articles), MIN(articles), MAX(articles), AVG(covered) FROM coverage_daily "
        "WHERE day BETWEEN ? AND ?",
        (first, last),
    ).fetchone()
    return Validation(
        events_path=str(path), narratives=narratives, study=study, spikes=load_spikes(conn),
        first_day=first, last_day=last,
        articles_per_day={"mean": round(per_day[0] or 0.0, 1), "min": per_day[1] or 0,
                          "max": per_day[2] or 0, "covered_share": round(per_day[3] or 0.0, 3)},
    )  # fmt: skip


def current_hit_rates(conn: sqlite3.Connection, events_path: Path | None = None, *,
                      models_dir: Path | None = None) -> list[NarrativeRates]:
    """Hit and placebo rates of the shipped (or given) calendar on the stored index.

    For the weekly report to quote: an empty list when there is no index yet.
    """  # fmt: skip
    narratives = [r[0] for r in conn.execute("SELECT id FROM narratives ORDER BY id")]
    daily = load_daily(conn)
    if daily.empty:
        return []
    path = events_path or default_events_path(models_dir)
    calendar = load_events(path, narratives, strict=events_path is not None)
    return run_study(daily, calendar, narratives).rates


# ---------------------------------------------------------------------------- Markdown


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def _cell(text: object) -> str:
    """Article text is data: no Markdown markup, no table breaks, no HTML."""
    out = str(text if text is not None else "").replace("\n", " ").replace("\\", "\\\\")
    for ch in "`*_[]#|":
        out = out.replace(ch, "\\" + ch)
    return out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_markdown(v: Validation, calendar_note: str = "") -> str:
    """The summary: rates per narrative, the placebo matrix, every event, every spike."""
    p = v.study.params
    lines = [
        "# Index validation",
        "",
        f"Event calendar: `{v.events_path}`{calendar_note}. Index range {v.first_day}..{v.last_day}; "
        f"articles per day: mean {v.articles_per_day['mean']}, min {v.articles_per_day['min']}, "
        f"max {v.articles_per_day['max']}; {_pct(v.articles_per_day['covered_share'])} of days covered.",
        "",
        f"Response ratio: members over expected members in [d{p.event_window[0]:+d}, d{p.event_window[1]:+d}] "
        f"against [d{p.base_window[0]:+d}, d{p.base_window[1]:+d}], ranked against {p.null_days} random days "
        f"of the same narrative; a hit reaches the null's {100 * p.hit_percentile:.0f}th percentile. "
        f"An event is ranked when its baseline expects at least {p.min_expected:g} member articles.",
        "",
        "## Hit rates",
        "",
        "| narrative | events | ranked | hits | hit rate | placebo rate (its events on other series) "
        "| p (hits vs placebo) | other events on its series | median members in event window |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in v.study.rates:
        lines.append(
            f"| {r.narrative} | {r.events} | {r.ranked} | {r.hits} | {_pct(r.hit_rate)} | "
            f"{_pct(r.placebo_rate)} ({r.placebo_hits}/{r.placebo_ranked}) | {_num(r.p_value, 4)} | "
            f"{r.series_placebo_hits}/{r.series_placebo_ranked} | {_num(r.median_event_articles, 0)} |"
        )
    series = list(next(iter(v.study.matrix.values()), {}))
    lines += ["", "## Placebo matrix", "",
              "Hit rate of the events of each row narrative on each column narrative's series "
              "(the diagonal is the test, the rest are placebos).", "",
              "| events of \\ series | " + " | ".join(series) + " |",
              "|---|" + "---:|" * len(series)]  # fmt: skip
    for row, cols in v.study.matrix.items():
        lines.append(f"| {row} | " + " | ".join(_pct(cols.get(c)) for c in series) + " |")
    lines += ["", "## Events", "",
              "| event | day | narrative | members (event) | expected (event) | members (base) "
              "| expected (base) | ratio | percentile | hit |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for e in v.study.results:
        if e.placebo:
            continue
        lines.append(
            f"| {_cell(e.event_id)} | {e.day} | {e.event_narrative} | {e.event_articles} | "
            f"{_num(e.event_expected, 1)} | {e.base_articles} | {_num(e.base_expected, 1)} | "
            f"{_num(e.ratio)} | {_pct(e.percentile)} | "
            f"{'yes' if e.hit else ('no' if e.defined else 'not ranked')} |"
        )
    controls = [r for r in v.study.results if r.event_narrative == NO_NARRATIVE]
    if controls:
        lines += ["", f"Control events (narrative `none`) ran as placebos only: {len(controls)} "
                  "event-series pairs."]  # fmt: skip
    lines += ["", f"## Spikes ({len(v.spikes)})", ""]
    for s in v.spikes:
        lines.append(
            f"### {s.narrative_id} {s.day}: {s.articles} members, {_num(s.expected_articles, 1)} "
            f"expected, {s.member_sources} sources, index {_num(s.index_value, 0)}, p {s.p_value:.1e}"
            if s.p_value is not None else f"### {s.narrative_id} {s.day}"
        )
        lines.append("")
        for h in s.headlines:
            lines.append(f"- {_cell(h.title)} ({_cell(h.feed)}, score {h.score:.2f}, id {h.article_id}, "
                         f"guid `{_cell(h.guid)}`)")  # fmt: skip
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def summary_lines(rates: Sequence[NarrativeRates]) -> list[str]:
    """One line per narrative, e.g. for the CLI."""
    return [
        f"{r.narrative}: {r.hits}/{r.ranked} events hit ({_pct(r.hit_rate)}), placebo "
        f"{_pct(r.placebo_rate)} ({r.placebo_hits}/{r.placebo_ranked}), p {_num(r.p_value, 4)}"
        for r in rates
    ]


__all__ = ["Calendar", "Validation", "current_hit_rates", "to_markdown", "validate"]
