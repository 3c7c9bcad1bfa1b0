"""The daily narrative-intensity index, after the Economic Policy Uncertainty method: pure computation.

Per narrative *n*, source *s* and UTC day *t* (README, "Narrative index", has every formula):

1. ``c`` member articles (non-duplicates), ``w`` their score-weighted sum, ``T`` all articles
   of the source that day; share ``r = c / T``, missing (NaN / NULL) when ``T < min_articles``.
2. Each source's share series is divided by its sample standard deviation over the base
   window, then averaged across the sources present that day.
3. That average is rescaled so that its mean over the base window is 100.
4. Also: the plain share of all coverage, a trailing moving average, a z-score against a
   trailing window and a spike flag.

Counts in, index rows out; :mod:`tracker.index.store` reads and writes the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tracker.base.errors import ConfigError
from tracker.base.settings import Settings

#: A standard deviation at or below this is treated as zero: shares live in [0, 1], so
#: anything smaller is floating-point noise from a constant series, not variation.
STD_EPSILON = 1e-12


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class IndexParams:
    """The knobs of the index; stored with every build so figures can be reproduced."""

    min_articles: int = 2
    base_start: str | None = None
    base_end: str | None = None
    smooth_days: int = 7
    z_window: int = 30
    z_min_periods: int = 7
    spike_z: float = 2.5
    spike_min_articles: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> IndexParams:
        """Read the ``index_*`` fields of :class:`Settings` and validate them."""
        params = cls(
            min_articles=settings.index_min_articles,
            base_start=settings.index_base_start,
            base_end=settings.index_base_end,
            smooth_days=settings.index_smooth_days,
            z_window=settings.index_z_window,
            # A narrower --z-window than the default minimum should just work.
            z_min_periods=min(settings.index_z_min_periods, settings.index_z_window),
            spike_z=settings.index_spike_z,
            spike_min_articles=settings.index_spike_min_articles,
        )
        params.validate()
        return params

    def validate(self) -> None:
        """Raise :class:`ConfigError` (cause and fix) for values the formulas cannot use."""
        if self.min_articles < 1:
            raise ConfigError(
                f"--min-articles must be at least 1 (got {self.min_articles}): a share needs "
                "at least one article in the denominator."
            )
        if self.smooth_days < 1:
            raise ConfigError(f"--smooth-days must be at least 1 (got {self.smooth_days}).")
        if self.z_window < 2:
            raise ConfigError(
                f"--z-window must be at least 2 days (got {self.z_window}): a z-score needs a "
                "standard deviation over the trailing window."
            )
        if not 2 <= self.z_min_periods <= self.z_window:
            raise ConfigError(
                f"z_min_periods must be between 2 and --z-window ({self.z_window}); got "
                f"{self.z_min_periods}. Lower it or widen the window."
            )
        if self.spike_min_articles < 0:
            raise ConfigError(
                f"spike_min_articles cannot be negative (got {self.spike_min_articles}); use 0 "
                "to flag spikes on the z-score alone."
            )
        start = parse_day(self.base_start, "--base-start") if self.base_start else None
        end = parse_day(self.base_end, "--base-end") if self.base_end else None
        if start and end and start > end:
            raise ConfigError(
                f"The base window starts ({self.base_start}) after it ends ({self.base_end}); "
                "swap --base-start and --base-end."
            )


def parse_day(value: str, what: str = "day") -> date:
    """Parse ``YYYY-MM-DD`` or raise a ConfigError that says what format is expected."""
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad_day(value, what)
    except ValueError:
        return _bad_day(value, what)


def _bad_day(value: str, what: str) -> date:
    raise ConfigError(f"{what} must be a UTC day as YYYY-MM-DD (got {value!r}), e.g. 2025-06-01.")


# ----------------------------------------------------------------- pure formula pieces
#
# Frames are indexed by day (a daily DatetimeIndex without gaps) with one column per
# source or narrative; NaN is missing, never zero.


def source_shares(counts: pd.DataFrame, totals: pd.DataFrame, min_articles: int) -> pd.DataFrame:
    """Share ``c / T`` per source and day; NaN (missing, not zero) where ``T < min_articles``."""
    return (counts / totals).where(totals >= min_articles)


def source_scales(shares: pd.DataFrame, base: pd.Series) -> pd.DataFrame:
    """Per source (rows of the result): ``mean``, sample ``std`` (ddof=1) and ``n`` base days.

    The std is NaN when fewer than two base days have a share or the series is constant
    there: such a source carries no scale, so it cannot enter the scaled average.
    """
    in_base = shares[base.to_numpy(dtype=bool)]
    std = in_base.std(ddof=1)
    return pd.DataFrame(
        {"mean": in_base.mean(), "std": std.where(std > STD_EPSILON), "n": in_base.count()}
    )


def scaled_average(shares: pd.DataFrame, std: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Scaled shares ``r / sigma_s`` and their daily mean over the sources present.

    A day with no present, scaled source has NaN: sources come and go, so the mean is over
    whoever is there.
    """
    scaled = shares / std
    return scaled, scaled.mean(axis=1)


def rescale_to_base(series: pd.Series, base: pd.Series) -> tuple[pd.Series, float]:
    """``100 * y / mean(y over base days with a value)``; all NaN if that mean is 0 or absent."""
    base_mean = float(series[base.to_numpy(dtype=bool)].mean())
    if not base_mean > 0:
        return pd.Series(np.nan, index=series.index), base_mean
    return 100.0 * series / base_mean, base_mean


def pooled_share(counts: pd.DataFrame, totals: pd.DataFrame, present: pd.DataFrame) -> pd.Series:
    """Plain share of all coverage, ``100 * sum c / sum T`` over present sources; NaN if none."""
    c = counts.where(present, 0.0).sum(axis=1)
    t = totals.where(present, 0.0).sum(axis=1)
    return (100.0 * c / t).where(t > 0)


def moving_average(x: pd.Series, window: int) -> pd.Series:
    """Trailing mean over the available (non-NaN) days of ``[t - window + 1, t]``; NaN if none."""
    return x.rolling(window, min_periods=1).mean()


def _trailing(x: pd.Series, window: int, min_periods: int) -> tuple[pd.Series, pd.Series]:
    """Mean and sample std of the ``window`` days before t (t excluded); NaN if too few."""
    rolling = x.rolling(window, min_periods=max(min_periods, 2))
    return rolling.mean().shift(1), rolling.std(ddof=1).shift(1)


def trailing_zscore(x: pd.Series, window: int, min_periods: int) -> pd.Series:
    """``(x_t - mean) / std`` against the ``window`` days before t (t excluded).

    NaN when x_t is missing, fewer than ``min_periods`` of those days have a value, or the
    trailing window is flat (std 0).
    """
    mean, std = _trailing(x, window, min_periods)
    return ((x - mean) / std).where(std > STD_EPSILON)


def spike_flags(x: pd.Series, window: int, min_periods: int, threshold: float) -> pd.Series:
    """Spike where the z-score reaches ``threshold``, or x rises above a flat trailing window.

    The second case matters for a narrative that emerges from nothing: its trailing std is
    zero, so the z-score is undefined (stored NULL) although the day is plainly unusual.
    """
    mean, std = _trailing(x, window, min_periods)
    z = ((x - mean) / std).where(std > STD_EPSILON)
    flat_rise = mean.notna() & ~(std > STD_EPSILON) & (x > mean + STD_EPSILON)
    return (z >= threshold) | flat_rise


# ------------------------------------------------------------------------ frames in/out


@dataclass(frozen=True)
class NarrativeCount:
    """Raw counts for one narrative, source and day (the numerator side)."""

    day: str
    narrative_id: str
    feed_id: int
    articles: int
    weighted_articles: float
    model_version: str | None


#: Columns of the frames :func:`compute_index` takes and returns (the tables' columns).
TOTAL_COLUMNS = ["day", "feed_id", "total_articles", "scored_articles"]
COUNT_COLUMNS = ["day", "narrative_id", "feed_id", "articles", "weighted_articles", "model_version"]
SOURCE_COLUMNS = [
    "day", "narrative_id", "feed_id", "articles", "weighted_articles", "total_articles",
    "scored_articles", "share", "scaled_share", "model_version",
]  # fmt: skip
SCALE_COLUMNS = ["narrative_id", "feed_id", "base_days", "mean_share", "std_share"]
BASE_COLUMNS = ["narrative_id", "base_start", "base_end", "base_days", "base_mean"]
INDEX_COLUMNS = [
    "day", "narrative_id", "articles", "weighted_articles", "total_articles", "sources", "share",
    "weighted_share", "scaled_mean", "index_value", "smoothed_7d", "zscore", "spike",
    "model_version",
]  # fmt: skip


def totals_frame(
    totals: Mapping[tuple[str, int], int], scored: Mapping[tuple[str, int], int] | None = None
) -> pd.DataFrame:
    """A totals frame from ``{(day, feed_id): articles}`` (and how many were scored)."""
    scored = scored or {}
    return pd.DataFrame(
        [(d, f, t, scored.get((d, f), 0)) for (d, f), t in totals.items()], columns=TOTAL_COLUMNS
    )


def counts_frame(counts: Iterable[NarrativeCount]) -> pd.DataFrame:
    """A counts frame from :class:`NarrativeCount` records."""
    return pd.DataFrame(
        [(c.day, c.narrative_id, c.feed_id, c.articles, c.weighted_articles, c.model_version)
         for c in counts],
        columns=COUNT_COLUMNS,
    )  # fmt: skip


@dataclass
class IndexResult:
    """Everything one build computes, as frames with the stored tables' columns."""

    source_rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SOURCE_COLUMNS))
    scales: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SCALE_COLUMNS))
    bases: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BASE_COLUMNS))
    rows: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=INDEX_COLUMNS))
    first_day: str | None = None
    last_day: str | None = None


def join_versions(versions: Iterable[str | None]) -> str | None:
    """Distinct model versions, sorted and comma-joined; None if there are none."""
    parts = {p for v in versions if isinstance(v, str) for p in v.split(",") if p}
    return ",".join(sorted(parts)) or None


def compute_index(
    totals: pd.DataFrame, counts: pd.DataFrame, narratives: Sequence[str], params: IndexParams
) -> IndexResult:
    """Compute every intermediate and final figure from source-day totals and counts.

    ``totals`` has one row per (day, feed_id) with all non-duplicate articles of that source
    and day (``total_articles``) and how many of them have narrative scores
    (``scored_articles``, carried through for data-quality checks); ``counts`` holds the
    narrative numerators (absent = zero). The index covers every day from the first to the
    last day on which some source reaches ``min_articles``.
    """
    params.validate()
    result = IndexResult()
    m = params.min_articles
    # Typed even when empty, so merges on the key columns never compare float with text.
    totals = totals.astype({"day": object, "feed_id": np.int64, "total_articles": np.int64,
                            "scored_articles": np.int64})
    counts = counts.astype({"day": object, "narrative_id": object, "feed_id": np.int64,
                            "articles": np.int64, "weighted_articles": np.float64,
                            "model_version": object})  # fmt: skip
    counts = counts[counts["narrative_id"].isin(narratives)]
    total_wide = totals.pivot(index="day", columns="feed_id", values="total_articles")
    present_days = total_wide.index[(total_wide >= m).any(axis=1)]
    if len(present_days):
        days = pd.date_range(min(present_days), max(present_days), freq="D")
        result.first_day, result.last_day = min(present_days), max(present_days)
    else:
        days = pd.DatetimeIndex([])
    day_keys = days.strftime("%Y-%m-%d")
    feeds = sorted(total_wide.columns)
    # Dense days x sources totals, shared by every narrative.
    total_arr = total_wide.reindex(index=day_keys, columns=feeds, fill_value=0).fillna(0.0)
    total_arr.index = days
    present = total_arr >= m
    base = _base_mask(days, params)
    base_start = params.base_start or (result.first_day or "")
    base_end = params.base_end or (result.last_day or "")

    # Every source-day with articles gets a row per narrative, in range or not, so the stored
    # intermediate figures account for every article counted.
    long = (
        totals.merge(pd.DataFrame({"narrative_id": pd.Series(list(narratives), dtype=object)}), how="cross")
        .merge(counts, on=["day", "narrative_id", "feed_id"], how="left")
        .fillna({"articles": 0, "weighted_articles": 0.0})
    )
    long["articles"] = long["articles"].astype(np.int64)
    long["share"] = (long["articles"] / long["total_articles"]).where(long["total_articles"] >= m)

    # Provenance: the model versions of the counted (present) source-days.
    counted = long[long["model_version"].notna() & (long["total_articles"] >= m)]
    versions = counted.groupby(["narrative_id", "day"])["model_version"].agg(join_versions)

    scales, bases, index_parts, scaled_parts = [], [], [], []
    by_narrative = dict(tuple(counts.groupby("narrative_id", sort=False)))
    for narrative in narratives:
        own = by_narrative.get(narrative, counts.iloc[:0])
        own = own[own["day"].isin(day_keys)]
        c_arr = _wide(own, "articles", day_keys, feeds)
        w_arr = _wide(own, "weighted_articles", day_keys, feeds)
        for frame in (c_arr, w_arr):
            frame.index = days
        shares = source_shares(c_arr, total_arr, m)
        scale = source_scales(shares, base)
        scaled, y = scaled_average(shares, scale["std"])
        index_value, base_mean = rescale_to_base(y, base)
        day_articles = c_arr.where(present, 0.0).sum(axis=1)
        spikes = spike_flags(index_value, params.z_window, params.z_min_periods, params.spike_z)
        frame = pd.DataFrame(
            {
                "day": day_keys,
                "narrative_id": narrative,
                "articles": day_articles.to_numpy(dtype=np.int64),
                "weighted_articles": w_arr.where(present, 0.0).sum(axis=1).to_numpy(),
                "total_articles": total_arr.where(present, 0.0).sum(axis=1).to_numpy(dtype=np.int64),
                "sources": present.sum(axis=1).to_numpy(dtype=np.int64),
                "share": pooled_share(c_arr, total_arr, present).to_numpy(),
                "weighted_share": pooled_share(w_arr, total_arr, present).to_numpy(),
                "scaled_mean": y.to_numpy(),
                "index_value": index_value.to_numpy(),
                "smoothed_7d": moving_average(index_value, params.smooth_days).to_numpy(),
                "zscore": trailing_zscore(
                    index_value, params.z_window, params.z_min_periods
                ).to_numpy(),
                "spike": (spikes & (day_articles >= params.spike_min_articles)).to_numpy(),
                "model_version": _versions_of(versions, narrative, day_keys),
            }
        )
        index_parts.append(frame)
        scales.append(
            pd.DataFrame(
                {
                    "narrative_id": narrative,
                    "feed_id": feeds,
                    "base_days": scale["n"].to_numpy(dtype=np.int64),
                    "mean_share": scale["mean"].to_numpy(),
                    "std_share": scale["std"].to_numpy(),
                }
            )
        )
        bases.append(
            (narrative, base_start, base_end, int((base & y.notna()).sum()), base_mean)
        )
        scaled.index = pd.Index(day_keys, name="day")
        scaled.columns.name = "feed_id"
        scaled_parts.append(
            scaled.stack().rename("scaled_share").reset_index().assign(narrative_id=narrative)
        )

    if index_parts:
        result.rows = pd.concat(index_parts, ignore_index=True)[INDEX_COLUMNS]
        result.scales = pd.concat(scales, ignore_index=True)[SCALE_COLUMNS]
        result.bases = pd.DataFrame(bases, columns=BASE_COLUMNS)
        scaled_long = pd.concat(scaled_parts, ignore_index=True)
        long = long.merge(scaled_long, on=["day", "narrative_id", "feed_id"], how="left")
    else:
        long["scaled_share"] = np.nan
    result.source_rows = long[SOURCE_COLUMNS]
    return result


def _versions_of(versions: pd.Series, narrative: str, days: pd.Index) -> np.ndarray:
    """The joined model versions of one narrative per day (None where nothing was counted)."""
    own = versions.xs(narrative, level="narrative_id") if narrative in versions.index.levels[0] else None
    if own is None:
        return np.full(len(days), None, dtype=object)
    picked = own.reindex(days).astype(object)
    return picked.where(picked.notna(), None).to_numpy(dtype=object)


def _wide(frame: pd.DataFrame, column: str, days: pd.Index, feeds: list[int]) -> pd.DataFrame:
    """One value column of a long (day, feed_id) frame as days x feeds, absent = 0."""
    wide = frame.pivot(index="day", columns="feed_id", values=column)
    return wide.reindex(index=days, columns=feeds).fillna(0.0).astype(np.float64)


def _base_mask(days: pd.DatetimeIndex, params: IndexParams) -> pd.Series:
    """Which days of the range fall in the base window (default: all of them)."""
    mask = pd.Series(True, index=days)
    if params.base_start is not None:
        mask &= days >= pd.Timestamp(params.base_start)
    if params.base_end is not None:
        mask &= days <= pd.Timestamp(params.base_end)
    if len(days) and not mask.any():
        first, last = days[0].strftime("%Y-%m-%d"), days[-1].strftime("%Y-%m-%d")
        raise ConfigError(
            f"The base window ({params.base_start or 'first day'} to "
            f"{params.base_end or 'last day'}) has no days with data: the index covers "
            f"{first}..{last}. Choose --base-start/--base-end inside that range, or "
            "leave them unset to use the whole history."
        )
    return mask
