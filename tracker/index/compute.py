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

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from tracker.base.errors import ConfigError
from tracker.base.settings import Settings

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

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


def source_shares(counts: FloatArray, totals: FloatArray, min_articles: int) -> FloatArray:
    """Share ``c / T`` per source and day; NaN (missing, not zero) where ``T < min_articles``."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = np.asarray(totals, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = counts / totals
    return np.where(totals >= min_articles, share, np.nan)


def source_scales(shares: FloatArray, base: BoolArray) -> tuple[FloatArray, FloatArray, IntArray]:
    """Per source (rows): mean, sample std (ddof=1) and number of shares in the base window.

    The std is NaN when fewer than two base days have a share or the series is constant
    there: such a source carries no scale, so it cannot enter the scaled average.
    """
    shares = np.atleast_2d(np.asarray(shares, dtype=np.float64))
    x = np.where(np.asarray(base, dtype=bool)[None, :], shares, np.nan)
    valid = ~np.isnan(x)
    n = valid.sum(axis=1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, np.nansum(x, axis=1) / n, np.nan)
        dev = np.where(valid, x - mean[:, None], 0.0)
        var = np.where(n > 1, (dev * dev).sum(axis=1) / (n - 1), np.nan)
    std = np.sqrt(var)
    std = np.where(std > STD_EPSILON, std, np.nan)
    return mean, std, n


def scaled_average(shares: FloatArray, std: FloatArray) -> tuple[FloatArray, FloatArray, IntArray]:
    """Scaled shares ``r / sigma_s`` and their mean over the sources present each day.

    Returns (scaled per source and day, daily mean, number of sources averaged). A day
    with no present, scaled source has NaN: sources come and go, so the mean is over
    whoever is there.
    """
    shares = np.atleast_2d(np.asarray(shares, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = shares / np.asarray(std, dtype=np.float64)[:, None]
    valid = ~np.isnan(scaled)
    n = valid.sum(axis=0).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, np.nansum(scaled, axis=0) / n, np.nan)
    return scaled, mean, n


def rescale_to_base(series: FloatArray, base: BoolArray) -> tuple[FloatArray, float]:
    """``100 * y / mean(y over base days with a value)``; all NaN if that mean is 0 or absent."""
    y = np.asarray(series, dtype=np.float64)
    picked = y[np.asarray(base, dtype=bool) & ~np.isnan(y)]
    base_mean = float(picked.mean()) if picked.size else float("nan")
    if not base_mean > 0:
        return np.full_like(y, np.nan), base_mean
    return 100.0 * y / base_mean, base_mean


def pooled_share(counts: FloatArray, totals: FloatArray, present: BoolArray) -> FloatArray:
    """Plain share of all coverage, ``100 * sum c / sum T`` over present sources; NaN if none."""
    counts = np.atleast_2d(np.asarray(counts, dtype=np.float64))
    totals = np.atleast_2d(np.asarray(totals, dtype=np.float64))
    present = np.atleast_2d(np.asarray(present, dtype=bool))
    c = np.where(present, counts, 0.0).sum(axis=0)
    t = np.where(present, totals, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t > 0, 100.0 * c / t, np.nan)


def _windows(x: FloatArray, window: int, include_today: bool) -> FloatArray:
    """Row t holds the ``window`` values ending at t (or at t-1), NaN-padded at the start."""
    x = np.asarray(x, dtype=np.float64)
    pad = np.concatenate([np.full(window, np.nan), x])
    view = np.lib.stride_tricks.sliding_window_view(pad, window)
    # view[i] covers pad[i : i + window] = x[i - window : i]; shift by one to include x[i].
    return view[1:] if include_today else view[:-1]


def moving_average(x: FloatArray, window: int) -> FloatArray:
    """Trailing mean over the available (non-NaN) days of ``[t - window + 1, t]``; NaN if none."""
    w = _windows(x, window, include_today=True)
    n = (~np.isnan(w)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.nansum(w, axis=1) / n, np.nan)


def _trailing_moments(
    x: FloatArray, window: int, min_periods: int
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Mean and sample std of the ``window`` days before t, and where enough of them exist."""
    w = _windows(x, window, include_today=False)
    valid = ~np.isnan(w)
    n = valid.sum(axis=1)
    enough = n >= max(min_periods, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(enough, np.nansum(w, axis=1) / n, np.nan)
        dev = np.where(valid, w - mean[:, None], 0.0)
        std = np.where(enough, np.sqrt((dev * dev).sum(axis=1) / (n - 1)), np.nan)
    return mean, std, enough


def trailing_zscore(x: FloatArray, window: int, min_periods: int) -> FloatArray:
    """``(x_t - mean) / std`` against the ``window`` days before t (t excluded).

    NaN when x_t is missing, fewer than ``min_periods`` of those days have a value, or the
    trailing window is flat (std 0).
    """
    x = np.asarray(x, dtype=np.float64)
    mean, std, enough = _trailing_moments(x, window, min_periods)
    ok = enough & ~np.isnan(x) & (std > STD_EPSILON)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, (x - mean) / std, np.nan)


def spike_flags(x: FloatArray, window: int, min_periods: int, threshold: float) -> BoolArray:
    """Spike where the z-score reaches ``threshold``, or x rises above a flat trailing window.

    The second case matters for a narrative that emerges from nothing: its trailing std is
    zero, so the z-score is undefined (stored NULL) although the day is plainly unusual.
    """
    x = np.asarray(x, dtype=np.float64)
    mean, std, enough = _trailing_moments(x, window, min_periods)
    z = trailing_zscore(x, window, min_periods)
    flat_rise = enough & ~np.isnan(x) & ~(std > STD_EPSILON) & (x > mean + STD_EPSILON)
    return np.asarray((z >= threshold) | flat_rise, dtype=bool)


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


@dataclass(frozen=True)
class SourceDailyRow:
    """One ``narrative_source_daily`` row: counts, share and scaled share."""

    day: str
    narrative_id: str
    feed_id: int
    articles: int
    weighted_articles: float
    total_articles: int
    scored_articles: int
    share: float | None
    scaled_share: float | None
    model_version: str | None


@dataclass(frozen=True)
class SourceScale:
    """One ``narrative_source_scale`` row: a source's share statistics over the base window."""

    narrative_id: str
    feed_id: int
    base_days: int
    mean_share: float | None
    std_share: float | None


@dataclass(frozen=True)
class IndexBase:
    """One ``narrative_index_base`` row: the rescaling constant of a narrative's index."""

    narrative_id: str
    base_start: str
    base_end: str
    base_days: int
    base_mean: float | None


@dataclass(frozen=True)
class IndexRow:
    """One ``narrative_index`` row (computed_at is added when saved)."""

    day: str
    narrative_id: str
    articles: int
    weighted_articles: float
    total_articles: int
    sources: int
    share: float | None
    weighted_share: float | None
    scaled_mean: float | None
    index_value: float | None
    smoothed_7d: float | None
    zscore: float | None
    spike: bool
    model_version: str | None


@dataclass
class IndexResult:
    """Everything one build computes, ready to be saved."""

    source_rows: list[SourceDailyRow] = field(default_factory=list)
    scales: list[SourceScale] = field(default_factory=list)
    bases: list[IndexBase] = field(default_factory=list)
    rows: list[IndexRow] = field(default_factory=list)
    first_day: str | None = None
    last_day: str | None = None


def _opt(value: float) -> float | None:
    """NaN becomes None (SQL NULL): missing stays missing."""
    return None if np.isnan(value) else float(value)


def _nullable(values: FloatArray) -> list[float | None]:
    """An array as Python floats with NaN as None, in one pass (rows are built in bulk)."""
    return [None if v != v else v for v in np.asarray(values, dtype=np.float64).tolist()]


def join_versions(versions: Iterable[str | None]) -> str | None:
    """Distinct model versions, sorted and comma-joined; None if there are none."""
    parts = {p for v in versions if v for p in v.split(",") if p}
    return ",".join(sorted(parts)) or None


def day_range(first: str, last: str) -> list[str]:
    """Every UTC day from ``first`` to ``last`` inclusive, as YYYY-MM-DD."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def compute_index(
    totals: Mapping[tuple[str, int], int],
    counts: Iterable[NarrativeCount],
    narratives: Sequence[str],
    params: IndexParams,
    scored: Mapping[tuple[str, int], int] | None = None,
) -> IndexResult:
    """Compute every intermediate and final figure from source-day totals and counts.

    ``totals`` maps (day, feed_id) to all non-duplicate articles of that source and day;
    ``counts`` holds the narrative numerators (absent = zero); ``scored`` how many of the
    totals have narrative scores at all (carried through for data-quality checks). The
    index covers every day from the first to the last day on which some source reaches
    ``min_articles``.
    """
    scored = scored or {}
    params.validate()
    by_narrative: dict[str, dict[tuple[str, int], NarrativeCount]] = {n: {} for n in narratives}
    for c in counts:
        if c.narrative_id in by_narrative:
            by_narrative[c.narrative_id][(c.day, c.feed_id)] = c

    result = IndexResult()
    present_days = sorted({d for (d, _), t in totals.items() if t >= params.min_articles})
    if present_days:
        days = day_range(present_days[0], present_days[-1])
        result.first_day, result.last_day = days[0], days[-1]
    else:
        days = []
    day_pos = {d: i for i, d in enumerate(days)}
    feeds = sorted({f for (_, f) in totals})
    feed_pos = {f: i for i, f in enumerate(feeds)}

    # Dense sources x days totals, shared by every narrative.
    total_arr = np.zeros((len(feeds), len(days)))
    for (d, f), t in totals.items():
        if d in day_pos:
            total_arr[feed_pos[f], day_pos[d]] = t
    present = total_arr >= params.min_articles
    base = _base_mask(days, params)
    base_start = params.base_start or (days[0] if days else "")
    base_end = params.base_end or (days[-1] if days else "")

    for narrative in narratives:
        own = by_narrative[narrative]
        c_arr = np.zeros_like(total_arr)
        w_arr = np.zeros_like(total_arr)
        versions: dict[int, list[str | None]] = defaultdict(list)
        for (d, f), c in own.items():
            j = day_pos.get(d)
            if j is None or f not in feed_pos:
                continue
            i = feed_pos[f]
            c_arr[i, j] = c.articles
            w_arr[i, j] = c.weighted_articles
            if present[i, j]:
                versions[j].append(c.model_version)

        shares = source_shares(c_arr, total_arr, params.min_articles)
        mean_share, std, n_base = source_scales(shares, base)
        scaled, y, _ = scaled_average(shares, std)
        index_value, base_mean = rescale_to_base(y, base)
        z = trailing_zscore(index_value, params.z_window, params.z_min_periods)
        spikes = spike_flags(index_value, params.z_window, params.z_min_periods, params.spike_z)
        day_articles = np.where(present, c_arr, 0.0).sum(axis=0)
        spikes &= day_articles >= params.spike_min_articles
        smoothed = moving_average(index_value, params.smooth_days)
        share = pooled_share(c_arr, total_arr, present)
        weighted_share = pooled_share(w_arr, total_arr, present)

        for f, i in feed_pos.items():
            result.scales.append(
                SourceScale(narrative, f, int(n_base[i]), _opt(mean_share[i]), _opt(std[i]))
            )
        base_days = int((base & ~np.isnan(y)).sum())
        result.bases.append(IndexBase(narrative, base_start, base_end, base_days, _opt(base_mean)))
        columns = zip(
            days,
            day_articles.astype(np.int64).tolist(),
            np.where(present, w_arr, 0.0).sum(axis=0).tolist(),
            np.where(present, total_arr, 0.0).sum(axis=0).astype(np.int64).tolist(),
            present.sum(axis=0).tolist(),
            _nullable(share),
            _nullable(weighted_share),
            _nullable(y),
            _nullable(index_value),
            _nullable(smoothed),
            _nullable(z),
            spikes.tolist(),
            strict=True,
        )
        for j, (d, c, w, t, k, sh, wsh, ym, iv, sm, zs, sp) in enumerate(columns):
            result.rows.append(
                IndexRow(
                    d, narrative, c, w, t, k, sh, wsh, ym, iv, sm, zs, sp,
                    join_versions(versions.get(j, ())),
                )
            )
        # Every source-day with articles gets a row, in range or not, so the stored
        # intermediate figures account for every article counted.
        share_rows = [_nullable(row) for row in shares]
        scaled_rows = [_nullable(row) for row in scaled]
        for (d, f), t in totals.items():
            got = own.get((d, f))
            i = feed_pos[f]
            j = day_pos.get(d)
            result.source_rows.append(
                SourceDailyRow(
                    d,
                    narrative,
                    f,
                    got.articles if got else 0,
                    got.weighted_articles if got else 0.0,
                    t,
                    scored.get((d, f), 0),
                    share_rows[i][j] if j is not None else None,
                    scaled_rows[i][j] if j is not None else None,
                    got.model_version if got else None,
                )
            )
    return result


def _base_mask(days: Sequence[str], params: IndexParams) -> BoolArray:
    """Which days of the range fall in the base window (default: all of them)."""
    mask = np.array(
        [
            (params.base_start is None or d >= params.base_start)
            and (params.base_end is None or d <= params.base_end)
            for d in days
        ],
        dtype=bool,
    )
    if days and not mask.any():
        raise ConfigError(
            f"The base window ({params.base_start or 'first day'} to "
            f"{params.base_end or 'last day'}) has no days with data: the index covers "
            f"{days[0]}..{days[-1]}. Choose --base-start/--base-end inside that range, or "
            "leave them unset to use the whole history."
        )
    return mask
