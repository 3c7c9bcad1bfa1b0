"""The daily narrative-intensity index from counts: pure computation over pandas frames.

Counts in (scored articles per source and day, member articles per narrative and day and
per narrative and source), every stored figure out: the coverage day table, the daily
index with its interval, surprise, spike flag and net stance, each source's usual rate,
each narrative's fit, and the weekly table with its movers. :mod:`tracker.index.model`
holds the formulas; :mod:`tracker.index.store` reads and writes the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from tracker.base.errors import ConfigError
from tracker.index.model import (
    change_test,
    count_surprise,
    fit_source_rates,
    null_strength,
    posterior,
    prior_strength,
    rate_interval,
    ratio_of_sums,
    trailing_rate,
)
from tracker.index.params import IndexParams

#: Columns of the frames :func:`compute_index` takes (and the tables they come from).
SOURCE_COLUMNS = ["day", "feed_id", "articles", "scored_articles"]  # source_daily
MEMBER_COLUMNS = [
    "narrative_id", "day", "articles", "weighted_articles", "stance_sum", "stance_articles",
    "member_sources", "model_version",
]  # fmt: skip  # narrative_source_daily summed per narrative and day
SOURCE_MEMBER_COLUMNS = ["narrative_id", "feed_id", "articles"]  # ... per narrative and source
WEEK_SOURCE_COLUMNS = ["narrative_id", "week_start", "member_sources"]  # ... per narrative and week

#: Columns of the frames it returns (the stored tables' columns).
COVERAGE_COLUMNS = ["day", "articles", "scored_articles", "sources", "covered"]
INDEX_COLUMNS = [
    "day", "narrative_id", "covered", "articles", "weighted_articles", "total_articles", "sources",
    "member_sources", "share", "weighted_share", "expected_articles", "prior_index",
    "index_value", "index_low", "index_high", "smoothed_7d", "zscore", "p_value", "spike",
    "rising_sources", "net_stance", "stance_articles", "model_version",
]  # fmt: skip
#: Member articles per (narrative_id, day, feed_id): the rows of narrative_source_daily.
DAY_SOURCE_COLUMNS = ["narrative_id", "day", "feed_id", "articles"]
RATE_COLUMNS = ["narrative_id", "feed_id", "member_articles", "scored_articles", "rate"]
FIT_COLUMNS = [
    "narrative_id", "base_start", "base_end", "base_days", "base_articles", "base_expected",
    "prior_strength", "null_strength", "iterations",
]  # fmt: skip
WEEK_COLUMNS = [
    "week", "narrative_id", "week_start", "week_end", "covered_days", "articles",
    "total_articles", "member_sources", "expected_articles", "share", "index_value",
    "index_low", "index_high", "prev_index", "change", "change_z", "change_p", "mover",
    "net_stance", "stance_articles",
]  # fmt: skip


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass
class IndexResult:
    """Everything one build computes, as frames with the stored tables' columns."""

    coverage: pd.DataFrame = field(default_factory=lambda: _empty(COVERAGE_COLUMNS))
    rows: pd.DataFrame = field(default_factory=lambda: _empty(INDEX_COLUMNS))
    rates: pd.DataFrame = field(default_factory=lambda: _empty(RATE_COLUMNS))
    fits: pd.DataFrame = field(default_factory=lambda: _empty(FIT_COLUMNS))
    weekly: pd.DataFrame = field(default_factory=lambda: _empty(WEEK_COLUMNS))
    first_day: str | None = None
    last_day: str | None = None


def join_versions(versions: Iterable[str | None]) -> str | None:
    """Distinct model versions, sorted and comma-joined; None if there are none."""
    parts = {p for v in versions if isinstance(v, str) for p in v.split(",") if p}
    return ",".join(sorted(parts)) or None


def coverage_table(sources: pd.DataFrame, min_articles: int) -> pd.DataFrame:
    """Per day with articles: articles, scored articles, sources present, and whether covered.

    A day is covered when its sources together have at least ``min_articles`` scored
    articles; only covered days get index values (the rest are NULL, never zero).
    """
    by_day = sources.assign(sources=(sources["articles"] > 0).astype(np.int64)).groupby("day", sort=True)[
        ["articles", "scored_articles", "sources"]
    ].sum()
    by_day["covered"] = by_day["scored_articles"] >= min_articles
    return by_day.reset_index()[COVERAGE_COLUMNS]


#: Coverage "begins" with this many consecutive covered days, so stale items in a feed's
#: first snapshot (ten old articles that happen to share a day) do not start the index.
START_RUN = 7


def index_start(covered_days: pd.Series) -> str:
    """The first day of the first run of :data:`START_RUN` consecutive covered days.

    Falls back to the first covered day when no such run exists (a short history).
    """
    stamps = pd.to_datetime(covered_days).reset_index(drop=True)
    breaks = stamps.diff().dt.days.ne(1).cumsum()  # a new run starts at every gap
    runs = stamps.groupby(breaks).agg(["first", "size"])
    long = runs[runs["size"] >= START_RUN]
    first = long["first"].iloc[0] if len(long) else stamps.iloc[0]
    return str(first.strftime("%Y-%m-%d"))


def compute_index(
    sources: pd.DataFrame,
    members: pd.DataFrame,
    source_members: pd.DataFrame,
    narratives: Sequence[str],
    params: IndexParams,
    week_sources: pd.DataFrame | None = None,
) -> IndexResult:
    """Compute every stored figure from the counts (README, "Narrative index").

    ``sources``: one row per (day, feed_id) with all non-duplicate ``articles`` and the
    ``scored_articles`` among them (the exposure). ``members``: per (narrative_id, day) the
    member ``articles``, their ``weighted_articles`` (score sum), ``stance_sum`` and
    ``stance_articles`` (members with a known stance), ``member_sources`` and the
    comma-joined ``model_version``. ``source_members``: member ``articles`` per
    (narrative_id, feed_id) over all days. ``week_sources``: distinct member sources per
    (narrative_id, week_start) for the movers' minimum. Spikes are candidates until
    :func:`confirm_spikes` has counted the sources that rose.
    """
    # The matrices are small (days x sources): a multi-threaded BLAS only adds thread
    # hand-offs, which on a shared two-core machine cost 30 times the work (measured:
    # the source-rate fit at 3,000 days x 50 sources took 1.2 s wall, 0.04 s on one thread).
    with threadpool_limits(limits=1, user_api="blas"):
        return _compute(sources, members, source_members, narratives, params, week_sources)


def _compute(
    sources: pd.DataFrame,
    members: pd.DataFrame,
    source_members: pd.DataFrame,
    narratives: Sequence[str],
    params: IndexParams,
    week_sources: pd.DataFrame | None,
) -> IndexResult:
    """compute_index inside the one-thread BLAS limit."""
    params.validate()
    result = IndexResult()
    sources = sources.astype({"day": object, "feed_id": np.int64, "articles": np.int64,
                              "scored_articles": np.int64})  # fmt: skip
    coverage = coverage_table(sources, params.min_articles)
    result.coverage = coverage
    covered_days = coverage.loc[coverage["covered"], "day"]
    if covered_days.empty:
        return result
    result.first_day, result.last_day = index_start(covered_days), str(covered_days.iloc[-1])
    days = pd.date_range(result.first_day, result.last_day, freq="D")
    day_keys = pd.Index(days.strftime("%Y-%m-%d"), name="day")

    # Exposure over every day with articles (stale items before the first covered day too:
    # their members are members of their sources), sources as columns.
    exposure = sources.pivot(index="day", columns="feed_id", values="scored_articles").fillna(0)
    exposure = exposure.sort_index().astype(np.float64)
    feeds = list(exposure.columns)
    cov = coverage.set_index("day")["covered"].reindex(exposure.index, fill_value=False)
    in_range = np.asarray((exposure.index >= result.first_day) & (exposure.index <= result.last_day))
    base = cov.to_numpy(dtype=bool) & in_range & _in_window(exposure.index, params)
    if not base.any():
        raise ConfigError(
            f"The base window ({params.base_start or 'first day'} to "
            f"{params.base_end or 'last day'}) has no covered days: the index covers "
            f"{result.first_day}..{result.last_day}. Choose --base-start/--base-end inside that "
            "range, or leave them unset to use the whole history."
        )
    base_start = params.base_start or result.first_day
    base_end = params.base_end or result.last_day
    covered = coverage.set_index("day")["covered"].reindex(day_keys, fill_value=False)
    scored = coverage.set_index("day")["scored_articles"].reindex(day_keys, fill_value=0)
    n_sources = coverage.set_index("day")["sources"].reindex(day_keys, fill_value=0)
    members = members.set_index(["narrative_id", "day"]).sort_index()
    source_members = source_members.set_index(["narrative_id", "feed_id"])["articles"]
    weeks_src: dict[tuple[str, str], int] = (
        dict(zip(zip(week_sources["narrative_id"], week_sources["week_start"], strict=True),
                 week_sources["member_sources"], strict=True))
        if week_sources is not None else {}
    )  # fmt: skip

    rows, rates, fits, weekly = [], [], [], []
    for narrative in narratives:
        own = members.xs(narrative, level="narrative_id") if narrative in members.index else None
        own = _empty(MEMBER_COLUMNS[2:]).set_index(pd.Index([], name="day")) if own is None else own
        o_all = own["articles"].reindex(exposure.index, fill_value=0).astype(np.float64)
        c_s = (source_members.xs(narrative, level="narrative_id").reindex(feeds, fill_value=0)
               if narrative in source_members.index else pd.Series(0, index=feeds))  # fmt: skip
        pi, iterations = fit_source_rates(
            exposure.to_numpy(), o_all.to_numpy(), c_s.to_numpy(dtype=np.float64), base,
            params.source_prior,
        )  # fmt: skip
        e_all = pd.Series(exposure.to_numpy() @ pi, index=exposure.index)
        o = o_all.reindex(day_keys, fill_value=0.0)
        e = e_all.reindex(day_keys, fill_value=0.0)
        on = covered.to_numpy(dtype=bool)
        o_c, e_c = o.where(covered, 0.0), e.where(covered, 0.0)
        mu = trailing_rate(o_c, e_c, params.prior_days)
        usable = on & (e.to_numpy() > 0)
        strength = (params.prior_strength if params.prior_strength is not None
                    else prior_strength(o.to_numpy()[usable], (mu * e).to_numpy()[usable]))  # fmt: skip
        mean, low, high = posterior(o.to_numpy(), e.to_numpy(), mu.to_numpy(), strength, params.interval)
        publish = usable & (e.to_numpy() >= params.min_expected)
        ordinary = (params.prior_strength if params.prior_strength is not None
                    else null_strength(o.to_numpy()[usable], (mu * e).to_numpy()[usable]))  # fmt: skip
        p_value, z = count_surprise(o.to_numpy(), (mu * e).to_numpy(), ordinary)
        got = own.reindex(day_keys)
        member_sources = got["member_sources"].fillna(0).astype(np.int64)
        stance_n = got["stance_articles"].fillna(0).astype(np.int64)
        # Candidates; confirm_spikes then counts the sources that rose (member_sources bounds it).
        spike = (usable & (p_value <= params.spike_p) & (o.to_numpy() >= params.spike_min_articles)
                 & (member_sources.to_numpy() >= params.spike_min_sources))  # fmt: skip
        weighted = got["weighted_articles"].astype(np.float64).fillna(0.0)
        denominator = np.where(on, scored.to_numpy(dtype=np.float64), np.nan)
        frame = pd.DataFrame(
            {
                "day": day_keys,
                "narrative_id": narrative,
                "covered": on,
                "articles": o.to_numpy(dtype=np.int64),
                "weighted_articles": weighted.to_numpy(),
                "total_articles": scored.to_numpy(dtype=np.int64),
                "sources": n_sources.to_numpy(dtype=np.int64),
                "member_sources": member_sources.to_numpy(),
                # Covered days have at least min_articles >= 1 scored articles: no zero division.
                "share": 100.0 * o.to_numpy() / denominator,
                "weighted_share": 100.0 * weighted.to_numpy() / denominator,
                "expected_articles": np.where(on, e.to_numpy(), np.nan),
                "prior_index": np.where(on, 100.0 * mu.to_numpy(), np.nan),
                "index_value": np.where(publish, 100.0 * mean, np.nan),
                "index_low": np.where(publish, 100.0 * low, np.nan),
                "index_high": np.where(publish, 100.0 * high, np.nan),
                "smoothed_7d": ratio_of_sums(o_c, e_c, params.smooth_days, params.min_expected)
                .where(covered).to_numpy(),
                "zscore": np.where(usable, z, np.nan),
                "p_value": np.where(usable, p_value, np.nan),
                "spike": spike,
                "rising_sources": np.nan,
                "net_stance": (got["stance_sum"] / stance_n.where(stance_n > 0))
                .where(stance_n >= max(params.stance_min_articles, 1)).to_numpy(),
                "stance_articles": stance_n.to_numpy(),
                "model_version": _versions(got["model_version"]),
                # Not stored: the weekly net stance sums it.
                "stance_sum": got["stance_sum"].fillna(0.0).to_numpy(),
            }
        )
        rows.append(frame)
        weekly.append(_weekly(frame, narrative, weeks_src, params))
        rates.append(pd.DataFrame({
            "narrative_id": narrative, "feed_id": feeds, "member_articles": c_s.to_numpy(dtype=np.int64),
            "scored_articles": exposure.sum(axis=0).to_numpy(dtype=np.int64), "rate": pi,
        }))  # fmt: skip
        fits.append((narrative, base_start, base_end, int(base.sum()), int(o_all[base].sum()),
                     float(e_all[base].sum()), strength, ordinary, iterations))  # fmt: skip
    result.rows = pd.concat(rows, ignore_index=True)[INDEX_COLUMNS]
    result.rates = pd.concat(rates, ignore_index=True)[RATE_COLUMNS]
    result.fits = pd.DataFrame(fits, columns=FIT_COLUMNS)
    result.weekly = pd.concat(weekly, ignore_index=True)[WEEK_COLUMNS]
    return result


def spike_candidates(result: IndexResult) -> pd.DataFrame:
    """(narrative_id, day) of the days that pass every spike test but the rising sources."""
    return result.rows.loc[result.rows["spike"].astype(bool), ["narrative_id", "day"]]


def confirm_spikes(
    result: IndexResult, sources: pd.DataFrame, day_sources: pd.DataFrame, params: IndexParams
) -> None:
    """Keep a candidate spike only if enough sources rose that day; store how many did.

    A source rises when its members exceed what it would publish at its usual rate and the
    narrative's trailing rate: ``c(s,t) > T(s,t) * pi_s * mu_t``. One outlet's burst (a live
    blog) is not a wave however significant the total: ``spike_min_sources`` must rise.
    ``day_sources`` holds the member rows (narrative_id, day, feed_id, articles) of at least
    the candidate days; ``sources`` the exposures.
    """
    rows = result.rows
    candidates = rows.index[rows["spike"].astype(bool)]
    if not len(candidates):
        return
    rate = dict(zip(zip(result.rates["narrative_id"], result.rates["feed_id"], strict=True),
                    result.rates["rate"], strict=True))  # fmt: skip
    wanted = set(zip(rows.loc[candidates, "day"], strict=True))
    picked = sources[sources["day"].isin([d for (d,) in wanted])]
    exposure = dict(zip(zip(picked["day"], picked["feed_id"], strict=True), picked["scored_articles"], strict=True))
    by_day: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for narrative, day, feed, count in day_sources[DAY_SOURCE_COLUMNS].itertuples(index=False, name=None):
        by_day.setdefault((narrative, day), []).append((feed, count))
    for i in candidates:
        narrative, day, mu = rows.at[i, "narrative_id"], rows.at[i, "day"], rows.at[i, "prior_index"] / 100.0
        rising = 0
        for feed, count in by_day.get((narrative, day), []):
            expected = exposure.get((day, feed), 0) * rate.get((narrative, feed), 0.0) * mu
            rising += int(count > expected)
        rows.at[i, "rising_sources"] = rising
        rows.at[i, "spike"] = rising >= params.spike_min_sources


def _versions(column: pd.Series) -> np.ndarray:
    """Each day's joined model versions (None where nothing was counted); few distinct values."""
    values = column.to_numpy(dtype=object)
    joined = {v: join_versions([v]) for v in set(values) if isinstance(v, str)}
    return np.array([joined.get(v) if isinstance(v, str) else None for v in values], dtype=object)


def _in_window(days: pd.Index, params: IndexParams) -> np.ndarray:
    """Which of these YYYY-MM-DD days fall in the base window (default: all)."""
    keep = np.ones(len(days), dtype=bool)
    if params.base_start:
        keep &= np.asarray(days >= params.base_start)
    if params.base_end:
        keep &= np.asarray(days <= params.base_end)
    return keep


def _weekly(
    daily: pd.DataFrame, narrative: str, week_sources: dict[tuple[str, str], int], params: IndexParams
) -> pd.DataFrame:
    """ISO weeks (Monday to Sunday) of one narrative: counts, rate, interval, change, movers."""
    frame = daily.assign(
        day=pd.to_datetime(daily["day"]),
        expected=daily["expected_articles"].fillna(0.0),
        o=daily["articles"].where(daily["covered"], 0),
        t=daily["total_articles"].where(daily["covered"], 0),
    ).set_index("day")
    weeks = frame.resample("W-SUN").agg(
        {"covered": "sum", "o": "sum", "t": "sum", "expected": "sum", "stance_sum": "sum",
         "stance_articles": "sum"}
    )
    start = weeks.index - pd.Timedelta(days=6)
    starts = start.strftime("%Y-%m-%d")
    iso = start.isocalendar()
    o = weeks["o"].to_numpy(dtype=np.float64)
    e = weeks["expected"].to_numpy(dtype=np.float64)
    enough = e >= max(params.min_expected, 1e-12)
    low, high = rate_interval(o, np.where(e > 0, e, 1.0), params.interval)
    index = np.where(enough, 100.0 * o / np.where(e > 0, e, 1.0), np.nan)
    prev = np.concatenate([[np.nan], index[:-1]])
    o0 = np.concatenate([[np.nan], o[:-1]])
    e0 = np.concatenate([[np.nan], e[:-1]])
    both = enough & np.concatenate([[False], enough[:-1]])
    z, _ = change_test(np.where(both, o, np.nan), e, o0, e0)
    z = np.where(both, z, np.nan)
    p = np.where(np.isfinite(z), 2 * stats.norm.sf(np.abs(np.nan_to_num(z))), np.nan)
    msrc = np.array([week_sources.get((narrative, s), 0) for s in starts], dtype=np.int64)
    mover = (np.nan_to_num(p, nan=1.0) <= params.mover_p) & (o + np.nan_to_num(o0) >= params.mover_min_articles) \
        & (msrc >= params.spike_min_sources)
    stance_n = weeks["stance_articles"].to_numpy(dtype=np.int64)
    net_stance = np.where(stance_n >= max(params.stance_min_articles, 1),
                          weeks["stance_sum"].to_numpy() / np.maximum(stance_n, 1), np.nan)
    return pd.DataFrame({
        "week": [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)],
        "narrative_id": narrative, "week_start": starts,
        "week_end": weeks.index.strftime("%Y-%m-%d"),
        "covered_days": weeks["covered"].to_numpy(dtype=np.int64),
        "articles": o.astype(np.int64), "total_articles": weeks["t"].to_numpy(dtype=np.int64),
        "member_sources": msrc, "expected_articles": e,
        "share": np.where(weeks["t"] > 0, 100.0 * o / np.maximum(weeks["t"].to_numpy(), 1), np.nan),
        "index_value": index, "index_low": np.where(enough, 100.0 * low, np.nan),
        "index_high": np.where(enough, 100.0 * high, np.nan), "prev_index": prev,
        "change": index - prev, "change_z": z, "change_p": p, "mover": mover,
        "net_stance": net_stance, "stance_articles": stance_n,
    })  # fmt: skip
