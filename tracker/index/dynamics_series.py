"""Narrative series for the dynamics tests, and the whole run (main, robustness, virality), pure.

Intensity is the index's ratio of observed to expected members on covered days,
100 * (members + 0.5) / (expected + 0.5), from ``narrative_index.articles`` and
``expected_articles`` (weekly: ``narrative_weekly``'s): the index without its shrinkage
toward the prior. The stored ``index_value`` itself is NULL on days with too few expected
members, which on real feeds is most days of a rare narrative, and the ratio can be
rebuilt without one source, which the robustness runs need: there expected is the sum
over the remaining sources of scored articles times the source's usual rate. Net stance
is ``net_stance`` (a gap when too few members have a known stance), and without a source
the remaining members' stance sum over their count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from threadpoolctl import threadpool_limits

from tracker.index.dynamics import (
    FREQUENCIES,
    PAIR_COLUMNS,
    SERIES,
    DynamicsParams,
    analyse_pairs,
    prepare_panel,
    robustness_summary,
    split_halves,
    stationarity_rows,
)
from tracker.index.virality import ViralityParams, virality

#: Every column of a dynamics row (the stored table's, less the run's constants).
ROW_COLUMNS = [
    *PAIR_COLUMNS, "robustness", "adf_p", "kpss_p", "episodes", "spread_1d", "spread_3d",
    "spread_7d", "half_life_days",
]  # fmt: skip
STANCE_MIN_ARTICLES = 3


@dataclass
class DynamicsInputs:
    """The stored tables the run reads (days as Timestamps)."""

    index: pd.DataFrame  # day, narrative_id, covered, index_value, articles, expected_articles, net_stance, spike
    weekly: pd.DataFrame  # week_end, narrative_id, articles, expected_articles, net_stance
    members: pd.DataFrame  # narrative_id, day, feed_id, articles, stance_sum, stance_articles
    sources: pd.DataFrame  # day, feed_id, scored_articles
    rates: pd.DataFrame  # narrative_id, feed_id, rate
    feeds: dict[str, str] = field(default_factory=dict)  # feed id (as text) -> name
    labels: dict[str, str] = field(default_factory=dict)  # narrative id -> label


def main_panels(inputs: DynamicsInputs, narratives: Sequence[str]) -> dict[tuple[str, str], pd.DataFrame]:
    """(series, frequency) -> a day- or week-indexed frame with one column per narrative."""
    daily = inputs.index[inputs.index["narrative_id"].isin(narratives)]
    covered = daily[daily["covered"].astype(bool)]
    covered = covered.assign(ratio=ratio(covered["articles"], covered["expected_articles"]))
    weeks = inputs.weekly.assign(ratio=ratio(inputs.weekly["articles"], inputs.weekly["expected_articles"]))
    out = {}
    for series, column in (("intensity", "ratio"), ("stance", "net_stance")):
        out[(series, "daily")] = _full_days(covered.pivot(index="day", columns="narrative_id", values=column),
                                            narratives)  # fmt: skip
        weekly = weeks[weeks["narrative_id"].isin(narratives)]
        wide = weekly.pivot(index="week_end", columns="narrative_id", values=column)
        out[(series, "weekly")] = _full_weeks(wide.reindex(columns=list(narratives)).astype(float))
    return out


def ratio(articles: pd.Series, expected: pd.Series) -> pd.Series:
    """100 * (members + 0.5) / (expected + 0.5); missing where nothing was expected."""
    articles, expected = articles.astype(float), expected.astype(float)
    return (100 * (articles + 0.5) / (expected + 0.5)).where(expected > 0)


def _full_days(frame: pd.DataFrame, narratives: Sequence[str]) -> pd.DataFrame:
    """Every calendar day between the first and last (gaps as NaN), one column per narrative."""
    frame = frame.reindex(columns=list(narratives)).astype(float)
    if frame.empty:
        return frame
    return frame.reindex(pd.date_range(frame.index.min(), frame.index.max(), freq="D"))


def _full_weeks(frame: pd.DataFrame) -> pd.DataFrame:
    """Every week between the first and last (a week without a row is a gap)."""
    if frame.empty:
        return frame
    return frame.reindex(pd.date_range(frame.index.min(), frame.index.max(), freq="7D"))


def dropped_panels(inputs: DynamicsInputs, narratives: Sequence[str], feed_id: str, days: pd.DatetimeIndex,
                   shape: dict[tuple[str, str], pd.DataFrame]) -> dict[tuple[str, str], pd.DataFrame]:
    """The four panels rebuilt from the per-source counts without ``feed_id``.

    Only the index's covered days count (``days``); the panels are laid on the main
    panels' days and weeks.
    """
    members = inputs.members[(inputs.members["feed_id"].astype(str) != feed_id)
                             & inputs.members["narrative_id"].isin(narratives)]
    sources = inputs.sources[inputs.sources["feed_id"].astype(str) != feed_id]
    exposure = sources.merge(inputs.rates[inputs.rates["narrative_id"].isin(narratives)], on="feed_id")
    exposure = exposure.assign(expected=exposure["scored_articles"] * exposure["rate"])
    out = {}
    for frequency in FREQUENCIES:
        key = "day" if frequency == "daily" else "week"
        m = members.assign(week=members["day"].dt.to_period("W-SUN").dt.end_time.dt.normalize())
        e = exposure.assign(week=exposure["day"].dt.to_period("W-SUN").dt.end_time.dt.normalize())
        m, e = m[m["day"].isin(days)], e[e["day"].isin(days)]
        counts = m.groupby([key, "narrative_id"])[["articles", "stance_sum", "stance_articles"]].sum()
        expected = e.groupby([key, "narrative_id"])["expected"].sum()
        both = pd.concat([counts, expected], axis=1).fillna({"articles": 0, "stance_sum": 0, "stance_articles": 0})
        both = both[both["expected"] > 0]
        intensity = ratio(both["articles"], both["expected"]).unstack("narrative_id")
        stance = (both["stance_sum"] / both["stance_articles"]).where(
            both["stance_articles"] >= STANCE_MIN_ARTICLES).unstack("narrative_id")
        for series, frame in (("intensity", intensity), ("stance", stance)):
            frame = frame.reindex(columns=list(narratives)).astype(float)
            out[(series, frequency)] = frame.reindex(shape[(series, frequency)].index)
    return out


def droppable_sources(inputs: DynamicsInputs, narratives: Sequence[str], min_share: float) -> list[str]:
    """Sources carrying at least ``min_share`` of some narrative's members (others barely matter)."""
    members = inputs.members[inputs.members["narrative_id"].isin(narratives)]
    per = members.groupby(["narrative_id", "feed_id"])["articles"].sum()
    share = per / per.groupby(level="narrative_id").transform("sum")
    feeds = {str(f) for (_, f), s in share.items() if s >= min_share}
    return sorted(feeds, key=lambda f: (len(f), f))


def compute_dynamics(inputs: DynamicsInputs, narratives: Sequence[str], params: DynamicsParams,
                     virality_params: ViralityParams | None = None) -> pd.DataFrame:
    """Every dynamics row: stationarity, main pairs with robustness verdicts, variants, virality."""
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        return _compute(inputs, list(narratives), params, virality_params or ViralityParams())


def _compute(inputs: DynamicsInputs, narratives: list[str], params: DynamicsParams,
             virality_params: ViralityParams) -> pd.DataFrame:
    panels = main_panels(inputs, narratives)
    labels = inputs.labels
    mains, variants, stationary = [], [], []
    plans: dict[tuple[str, str], tuple[dict[str, str], dict[tuple[str, str], int]]] = {}
    for series in SERIES:
        for frequency in FREQUENCIES:
            panel = panels[(series, frequency)]
            prepared = prepare_panel(panel, series, frequency, params)
            stationary.append(stationarity_rows(prepared, series, frequency))
            main = analyse_pairs(prepared, series, frequency, params, labels=labels)
            mains.append(main)
            transforms = {n: p.transform for n, p in prepared.items()}
            lags = {(r["leader"], r["follower"]): int(r["lag"]) for r in main.to_dict("records")
                    if r["lag"] == r["lag"] and r["lag"] is not None}  # fmt: skip
            plans[(series, frequency)] = (transforms, lags)
            if not lags:
                continue
            for name, half in zip(("first_half", "second_half"), split_halves(panel), strict=True):
                variants.append(analyse_pairs(prepare_panel(half, series, frequency, params, transforms),
                                              series, frequency, params, variant=name, lags=lags))  # fmt: skip
            variants.append(analyse_pairs(prepared, series, frequency, params, variant="placebo", lags=lags,
                                          placebo_seed=params.seed))  # fmt: skip
    covered = inputs.index[inputs.index["covered"].astype(bool)]["day"].unique()
    for feed in droppable_sources(inputs, narratives, params.drop_min_share):
        for (series, frequency), panel in dropped_panels(inputs, narratives, feed, pd.DatetimeIndex(covered),
                                                         panels).items():
            transforms, lags = plans[(series, frequency)]
            if lags:
                variants.append(analyse_pairs(prepare_panel(panel, series, frequency, params, transforms),
                                              series, frequency, params, variant=f"drop:{feed}", lags=lags))
    variant_rows = pd.concat(variants, ignore_index=True) if variants else pd.DataFrame(columns=PAIR_COLUMNS)
    main_rows = robustness_summary(pd.concat(mains, ignore_index=True), variant_rows, params.alpha,
                                   inputs.feeds)  # fmt: skip
    spread = virality(_daily(inputs.index, narratives), inputs.members, inputs.sources, narratives, labels,
                      virality_params)  # fmt: skip
    frames = [main_rows, variant_rows, *stationary, spread]
    out = pd.concat([f.reindex(columns=ROW_COLUMNS) for f in frames if len(f)], ignore_index=True)
    return out.reindex(columns=ROW_COLUMNS)


def _daily(index: pd.DataFrame, narratives: Sequence[str]) -> pd.DataFrame:
    """The narratives' daily intensity (the ratio) as ``index_value``, uncovered days without one."""
    rows = index[index["narrative_id"].isin(narratives)]
    value = ratio(rows["articles"], rows["expected_articles"])
    return rows.assign(index_value=value.where(rows["covered"].astype(bool), math.nan))


def focus_rows(rows: pd.DataFrame, pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """The main rows of the given (leader, follower) pairs, every series and frequency."""
    main = rows[(rows["analysis"] == "granger") & (rows["variant"] == "all")]
    keys = set(pairs)
    return main[[(a, b) in keys for a, b in zip(main["leader"], main["follower"], strict=True)]]
