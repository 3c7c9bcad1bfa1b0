"""Event study of the index (``tracker validate``): pure computation on the daily counts.

For an event on day *d* of narrative *n* (the Economic Policy Uncertainty papers' check,
done on counts): the narrative's member articles ``O`` and expected members ``E`` (from the
index's source fixed effects, so a change of the source mix is not a response) are summed
over the event window ``[d, d+2]`` and the baseline window ``[d-21, d-4]``, over covered
days only. The response ratio is

    R = ((O_event + 1/2) / E_event) / ((O_base + 1/2) / E_base)

and is ranked against the same ratio on random days of the same narrative (the null; days
within three days of the narrative's own events are not drawn). A hit is an event whose
ratio reaches the null's 90th percentile. A placebo run puts each narrative's events on the
other narratives' series: if those hit as often, the index responds to news volume, not to
the narrative.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from tracker.index.events import NO_NARRATIVE, Calendar


@dataclass(frozen=True)
class StudyParams:
    """Windows (days relative to the event), null size and hit threshold."""

    event_window: tuple[int, int] = (0, 2)
    base_window: tuple[int, int] = (-21, -4)
    null_days: int = 500
    hit_percentile: float = 0.9
    #: The baseline must expect at least this many member articles to rank an event.
    min_expected: float = 5.0
    #: Null days closer than this to one of the narrative's own events are not drawn.
    exclude_days: int = 3
    seed: int = 20250101


@dataclass(frozen=True)
class EventResult:
    """One event on one narrative's series (its own: the test; another's: a placebo)."""

    event_id: str
    day: str
    event_narrative: str
    series: str
    placebo: bool
    defined: bool
    event_articles: int = 0
    event_expected: float = 0.0
    base_articles: int = 0
    base_expected: float = 0.0
    ratio: float | None = None
    percentile: float | None = None
    hit: bool = False


@dataclass(frozen=True)
class NarrativeRates:
    """Hit rate of a narrative's events on its own series against its placebo rate."""

    narrative: str
    events: int
    ranked: int
    hits: int
    hit_rate: float | None
    placebo_ranked: int
    placebo_hits: int
    placebo_rate: float | None
    #: P(at least ``hits`` hits of ``ranked``) if the events hit at the placebo rate.
    p_value: float | None
    #: Other narratives' events (and the controls) on this narrative's series.
    series_placebo_ranked: int = 0
    series_placebo_hits: int = 0
    median_event_articles: float | None = None


@dataclass
class StudyResult:
    """Every event on every series, the per-narrative rates and the placebo matrix."""

    params: StudyParams
    results: list[EventResult] = field(default_factory=list)
    rates: list[NarrativeRates] = field(default_factory=list)
    #: hit rate of events of row narrative on the column narrative's series
    matrix: dict[str, dict[str, float | None]] = field(default_factory=dict)
    null_sizes: dict[str, int] = field(default_factory=dict)


class Series:
    """One narrative's daily members and expected members on a gap-free day range."""

    def __init__(self, daily: pd.DataFrame) -> None:
        """``daily``: columns day, articles, expected_articles, covered (one row per day)."""
        frame = daily.sort_values("day")
        self.days = pd.Index(frame["day"].astype(str))
        covered = frame["covered"].astype(bool).to_numpy()
        o = np.where(covered, frame["articles"].to_numpy(dtype=np.float64), 0.0)
        e = np.where(covered, np.nan_to_num(frame["expected_articles"].to_numpy(dtype=np.float64)), 0.0)
        self._co = np.concatenate([[0.0], np.cumsum(o)])
        self._ce = np.concatenate([[0.0], np.cumsum(e)])
        self._cc = np.concatenate([[0], np.cumsum(covered.astype(np.int64))])

    def position(self, day: str) -> int | None:
        """Row of a day, None outside the range."""
        loc = self.days.get_indexer([day])[0]
        return None if loc < 0 else int(loc)

    def windows(self, pos: np.ndarray, params: StudyParams) -> tuple[np.ndarray, ...]:
        """Members and expected members in the event and base windows of each position."""
        n = len(self.days)

        def sums(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            a = np.clip(pos + lo, 0, n)
            b = np.clip(pos + hi + 1, 0, n)
            return self._co[b] - self._co[a], self._ce[b] - self._ce[a], self._cc[b] - self._cc[a]

        inside = (pos + params.base_window[0] >= 0) & (pos + params.event_window[1] < n)
        o_ev, e_ev, c_ev = sums(*params.event_window)
        o_b, e_b, c_b = sums(*params.base_window)
        defined = inside & (c_ev > 0) & (c_b > 0) & (e_ev > 0) & (e_b >= params.min_expected)
        return o_ev, e_ev, o_b, e_b, defined


def response_ratio(o_ev: np.ndarray, e_ev: np.ndarray, o_b: np.ndarray, e_b: np.ndarray) -> np.ndarray:
    """``((O_event + 1/2) / E_event) / ((O_base + 1/2) / E_base)``; NaN where undefined."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((o_ev + 0.5) / e_ev) / ((o_b + 0.5) / e_b)


def null_ratios(series: Series, narrative: str, own_days: Sequence[str], params: StudyParams) -> np.ndarray:
    """Ratios on ``null_days`` random days of the series (seeded per narrative: reproducible)."""
    positions = np.arange(len(series.days))
    o_ev, e_ev, o_b, e_b, defined = series.windows(positions, params)
    keep = defined.copy()
    for day in own_days:
        pos = series.position(day)
        if pos is not None:
            keep[max(0, pos - params.exclude_days): pos + params.exclude_days + 1] = False
    candidates = positions[keep]
    if not len(candidates):
        return np.array([])
    rng = np.random.default_rng(params.seed + zlib.crc32(narrative.encode()))
    picked = rng.choice(candidates, size=params.null_days, replace=len(candidates) < params.null_days)
    return response_ratio(o_ev[picked], e_ev[picked], o_b[picked], e_b[picked])


def percentile_of(value: float, null: np.ndarray) -> float:
    """Share of the null below ``value`` (ties count half)."""
    return float((np.sum(null < value) + 0.5 * np.sum(null == value)) / len(null))


def run_study(daily: pd.DataFrame, calendar: Calendar, narratives: Sequence[str],
              params: StudyParams | None = None) -> StudyResult:
    """Every event on its own narrative's series and, as placebo, on every other one.

    ``daily``: the index rows (narrative_id, day, articles, expected_articles, covered).
    Controls (narrative ``none``) only run as placebos.
    """  # fmt: skip
    params = params or StudyParams()
    study = StudyResult(params=params)
    series = {n: Series(g) for n, g in daily.groupby("narrative_id") if n in set(narratives)}
    own_days: dict[str, list[str]] = {n: [] for n in narratives}
    for event in calendar.events:
        if event.narrative in own_days:
            own_days[event.narrative].append(event.date.isoformat())
    nulls = {n: null_ratios(s, n, own_days[n], params) for n, s in series.items()}
    study.null_sizes = {n: len(v) for n, v in nulls.items()}
    for event in calendar.events:
        day = event.date.isoformat()
        for name, s in series.items():
            placebo = name != event.narrative
            pos = s.position(day)
            if pos is None or not len(nulls[name]):
                study.results.append(EventResult(event.id, day, event.narrative, name, placebo, False))
                continue
            o_ev, e_ev, o_b, e_b, defined = (float(x[0]) for x in s.windows(np.array([pos]), params))
            if not defined:
                study.results.append(EventResult(event.id, day, event.narrative, name, placebo, False,
                                                 int(o_ev), e_ev, int(o_b), e_b))  # fmt: skip
                continue
            ratio = float(response_ratio(np.array(o_ev), np.array(e_ev), np.array(o_b), np.array(e_b)))
            pct = percentile_of(ratio, nulls[name])
            study.results.append(EventResult(
                event.id, day, event.narrative, name, placebo, True, int(o_ev), e_ev, int(o_b), e_b,
                ratio, pct, pct >= params.hit_percentile,
            ))  # fmt: skip
    study.rates = [_rates(n, study.results) for n in narratives if n in series]
    rows = [n for n in narratives if n in series] + [NO_NARRATIVE]
    for row in rows:
        study.matrix[row] = {}
        for col in series:
            ranked = [r for r in study.results if r.event_narrative == row and r.series == col and r.defined]
            study.matrix[row][col] = sum(r.hit for r in ranked) / len(ranked) if ranked else None
    return study


def _rates(narrative: str, results: list[EventResult]) -> NarrativeRates:
    own = [r for r in results if r.event_narrative == narrative and not r.placebo]
    ranked = [r for r in own if r.defined]
    hits = sum(r.hit for r in ranked)
    placebo = [r for r in results if r.event_narrative == narrative and r.placebo and r.defined]
    placebo_hits = sum(r.hit for r in placebo)
    placebo_rate = placebo_hits / len(placebo) if placebo else None
    p_value = None
    if ranked and placebo_rate is not None:
        p_value = float(stats.binom.sf(hits - 1, len(ranked), max(placebo_rate, 1e-9)))
    others = [r for r in results if r.series == narrative and r.placebo and r.defined]
    return NarrativeRates(
        narrative=narrative, events=len(own), ranked=len(ranked), hits=hits,
        hit_rate=hits / len(ranked) if ranked else None,
        placebo_ranked=len(placebo), placebo_hits=placebo_hits, placebo_rate=placebo_rate,
        p_value=p_value, series_placebo_ranked=len(others),
        series_placebo_hits=sum(r.hit for r in others),
        median_event_articles=float(np.median([r.event_articles for r in ranked])) if ranked else None,
    )  # fmt: skip
