"""Narrative dynamics: does one story lead another? Pure computation over pandas frames.

For every ordered pair of narrative series (intensity or net stance, daily or weekly):

1. each series is made stationary: intensity is logged; a series is kept in levels when the
   augmented Dickey-Fuller test rejects a unit root (p < alpha) and the KPSS test does not
   reject level-stationarity (p > alpha), otherwise it is first-differenced (both tests from
   :mod:`statsmodels.tsa.stattools`);
2. the lag order of the two-variable VAR is chosen by an information criterion (AIC by
   default) over 1..max_lag on a common sample (statsmodels' ``VAR.select_order``);
3. the Granger test is statsmodels' ``VARResults.test_causality`` (F test that every lag of
   the leader has a zero coefficient in the follower's equation); the lead's lag range is
   the leader lags whose own coefficient is significant (Bonferroni over the lags);
4. p-values are corrected over the ordered pairs of one family (series x frequency x
   variant) with ``statsmodels.stats.multitest.multipletests`` (Holm by default);
5. the cross-correlation by lag of the two stationary series is kept for the lag chart.

Real coverage has holes (uncovered days, too few stance-bearing members): gaps of up to
``max_gap`` points are interpolated, longer ones split a series, and each test runs on the
longest stretch where both series have values (stored as pair_start..pair_end).

Robustness variants (drop one source, each half of the period, a placebo pair whose leader
is a shuffled copy) reuse the main run's transforms and lag orders, so a changed verdict
comes from the data, not from a different model choice. Virality lives in
:mod:`tracker.index.virality`; reading and writing the database in
:mod:`tracker.index.dynamics_store`.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

SERIES = ("intensity", "stance")
FREQUENCIES = ("daily", "weekly")
UNIT = {"daily": "day", "weekly": "week"}
#: Columns of the pair rows :func:`analyse_pairs` returns.
PAIR_COLUMNS = [
    "analysis", "series", "frequency", "variant", "leader", "follower", "n_obs", "pair_start", "pair_end",
    "leader_transform", "follower_transform", "lag", "lag_low", "lag_high", "direction",
    "f_stat", "p_value", "p_adjusted", "significant", "xcorr_best_lag", "xcorr_best", "xcorr",
    "verdict",
]  # fmt: skip
#: Columns of the stationarity rows (one per narrative, series and frequency).
STATIONARITY_COLUMNS = ["analysis", "series", "frequency", "variant", "leader", "n_obs",
                        "leader_transform", "adf_p", "kpss_p", "verdict"]  # fmt: skip


@dataclass(frozen=True)
class DynamicsParams:
    """Settings of one dynamics run (stored with every row)."""

    max_lag: int = 14
    max_lag_weekly: int = 4
    ic: str = "aic"
    alpha: float = 0.05
    correction: str = "holm"
    min_obs: int = 60
    min_obs_weekly: int = 26
    max_gap: int = 3
    seed: int = 20250101
    drop_min_share: float = 0.02

    def lag_limit(self, frequency: str) -> int:
        """The largest lag tried at ``frequency``."""
        return self.max_lag if frequency == "daily" else self.max_lag_weekly

    def min_length(self, frequency: str) -> int:
        """Observations a pair needs at ``frequency``."""
        return self.min_obs if frequency == "daily" else self.min_obs_weekly

    def as_dict(self) -> dict[str, Any]:
        """The settings as plain values."""
        return asdict(self)


# ------------------------------------------------------------------ stationary transforms


@dataclass(frozen=True)
class Prepared:
    """One series made ready for the tests: the stationary values and how they were made."""

    values: pd.Series
    transform: str
    adf_p: float
    kpss_p: float
    imputed: float


def fill_gaps(series: pd.Series, max_gap: int) -> tuple[pd.Series, float]:
    """Interpolate inner gaps of at most ``max_gap`` points (longer ones stay gaps).

    Returns the series and the share of its points between the first and last value
    that were filled. Real coverage has holes (days below the index's minimum of scored
    articles, a narrative with too few stance-bearing members): a short hole is bridged,
    a long one splits the series, and the tests use the longest unbroken stretch.
    """
    missing = series.isna()
    runs = (missing != missing.shift()).cumsum()
    run_length = missing.groupby(runs).transform("sum")
    filled = series.interpolate(limit_area="inside").where(~missing | (run_length <= max_gap))
    inside = series.first_valid_index(), series.last_valid_index()
    span = filled.loc[inside[0]:inside[1]] if inside[0] is not None else filled.iloc[:0]
    share = float(missing.loc[span.index].sum() - span.isna().sum()) / len(span) if len(span) else 0.0
    return filled, share


def longest_run(frame: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """The longest stretch of consecutive rows without a missing value."""
    complete = frame.notna().all(axis=1) if isinstance(frame, pd.DataFrame) else frame.notna()
    if not complete.any():
        return frame.iloc[:0]
    runs = (complete != complete.shift()).cumsum()
    sizes = complete.groupby(runs).sum()
    best = sizes.idxmax()
    return frame[(runs == best).to_numpy()]


def stationarity(values: np.ndarray, max_lag: int) -> tuple[float, float]:
    """(ADF p-value, KPSS p-value) of ``values``; NaN when a test cannot run (a constant series)."""
    from statsmodels.tsa.stattools import adfuller, kpss

    if len(values) < 10 or np.nanstd(values) == 0:
        return math.nan, math.nan
    with warnings.catch_warnings():
        # KPSS warns when its p-value is outside its table (reported as the table's edge).
        warnings.simplefilter("ignore")
        try:
            adf_p = float(adfuller(values, maxlag=min(max_lag, len(values) // 3 - 1), autolag="AIC")[1])
        except (ValueError, np.linalg.LinAlgError):
            adf_p = math.nan
        try:
            kpss_p = float(kpss(values, regression="c", nlags="auto")[1])
        except (ValueError, OverflowError):
            kpss_p = math.nan
    return adf_p, kpss_p


def _transform(series: pd.Series, kind: str, transform: str) -> pd.Series:
    """Apply a named transform ("log", "log_diff", "level", "diff"); gaps stay gaps."""
    out = np.log(series.where(series > 0)) if transform.startswith("log") else series
    return out.diff() if transform.endswith("diff") else out


def prepare(series: pd.Series, kind: str, max_lag: int, alpha: float,
            transform: str | None = None, max_gap: int = 3) -> Prepared:
    """Make ``series`` stationary (or apply a given ``transform``, as the robustness runs do).

    The tests run on the series' longest unbroken stretch; the values keep their gaps.
    """
    filled, imputed = fill_gaps(series.astype(float), max_gap)
    log = "log" if kind == "intensity" else ""
    if transform is not None:
        return Prepared(_transform(filled, kind, transform), transform, math.nan, math.nan, imputed)
    level = _transform(filled, kind, log or "level")
    adf_p, kpss_p = stationarity(longest_run(level).to_numpy(), max_lag)
    if adf_p < alpha and not kpss_p <= alpha:
        return Prepared(level, log or "level", adf_p, kpss_p, imputed)
    name = f"{log}_diff" if log else "diff"
    diffed = _transform(filled, kind, name)
    adf_p, kpss_p = stationarity(longest_run(diffed).to_numpy(), max_lag)
    return Prepared(diffed, name, adf_p, kpss_p, imputed)


# -------------------------------------------------------------------------- the tests


def select_lag(data: np.ndarray, max_lag: int, ic: str = "aic") -> int:
    """The VAR lag order (1..max_lag) minimising ``ic`` (statsmodels' ``VAR.select_order``).

    Every order is fitted on the same sample (the first ``max_lag`` rows held back) with a
    constant. Order 0 is never used: a Granger test needs at least one lag.
    """
    from statsmodels.tsa.api import VAR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        orders = VAR(data).select_order(max_lag, trend="c").selected_orders
    return max(1, int(orders[ic]))


@dataclass(frozen=True)
class Granger:
    """One Granger test of leader -> follower."""

    lag: int
    f_stat: float
    p_value: float
    lag_low: int | None
    lag_high: int | None
    direction: float


def granger(follower: np.ndarray, leader: np.ndarray, lag: int, alpha: float) -> Granger:
    """F test that ``leader``'s ``lag`` lags add nothing to ``follower``'s own (statsmodels VAR)."""
    from statsmodels.tsa.api import VAR

    result = VAR(np.column_stack([follower, leader])).fit(lag, trend="c")
    test = result.test_causality(caused=0, causing=1, kind="f")
    # Rows of params: const, then per lag (follower, leader); column 0 is the follower's equation.
    rows = [2 + 2 * (i - 1) for i in range(1, lag + 1)]
    coefs = np.asarray(result.params)[rows, 0]
    pvals = np.asarray(result.pvalues)[rows, 0]
    # Bonferroni over the lags: with p lags at level alpha one spurious lag would be common.
    significant = [i + 1 for i, p in enumerate(pvals) if p < alpha / lag]
    return Granger(lag, float(test.test_statistic), float(test.pvalue),
                   min(significant) if significant else None, max(significant) if significant else None,
                   float(np.sum(coefs)))  # fmt: skip


def cross_correlation(follower: pd.Series, leader: pd.Series, max_lag: int) -> dict[int, float]:
    """corr(leader[t - k], follower[t]) for k in -max_lag..max_lag (positive k: leader first).

    Pearson correlation over the overlapping points of each shift (as pandas' ``corr`` of a
    shifted series), computed on arrays: the robustness runs call it hundreds of times.
    """
    y, x = follower.to_numpy(dtype=float), leader.to_numpy(dtype=float)
    n = len(y)
    out = {}
    for k in range(-max_lag, max_lag + 1):
        a, b = (y[k:], x[: n - k]) if k >= 0 else (y[: n + k], x[-k:])
        if len(a) < 3 or a.std() == 0 or b.std() == 0:
            out[k] = math.nan
            continue
        out[k] = round(float(np.corrcoef(a, b)[0, 1]), 4)
    return out


# --------------------------------------------------------------------------- pairs


def _aligned(a: pd.Series, b: pd.Series) -> pd.DataFrame:
    """The two series on their common index: their longest stretch without a gap in either."""
    frame = longest_run(pd.concat({"follower": a, "leader": b}, axis=1, join="inner"))
    assert isinstance(frame, pd.DataFrame)
    return frame


def pair_test(follower: pd.Series, leader: pd.Series, frequency: str, params: DynamicsParams,
              lag: int | None = None, xcorr: bool = True) -> dict[str, Any]:
    """The Granger test of one ordered pair of stationary series (and their cross-correlation)."""
    frame = _aligned(follower, leader)
    max_lag = params.lag_limit(frequency)
    row: dict[str, Any] = {"n_obs": len(frame)}
    if len(frame):
        row.update(pair_start=_day(frame.index[0]), pair_end=_day(frame.index[-1]))
    if not len(frame):
        row["verdict"] = f"not tested: no {UNIT[frequency]} where both series have a value"
        return row
    if len(frame) < max(params.min_length(frequency), 3 * max_lag + 10):
        row["verdict"] = (f"too short: {len(frame)} {UNIT[frequency]}s in common without a gap, "
                          f"{max(params.min_length(frequency), 3 * max_lag + 10)} needed")  # fmt: skip
        return row
    if frame["follower"].std() == 0 or frame["leader"].std() == 0:
        row["verdict"] = "not testable: a series is constant"
        return row
    data = frame.to_numpy()
    chosen = lag if lag is not None else select_lag(data, max_lag, params.ic)
    try:
        test = granger(data[:, 0], data[:, 1], chosen, params.alpha)
    except (ValueError, np.linalg.LinAlgError) as exc:
        row["verdict"] = f"not testable: {exc}"
        return row
    row.update(lag=test.lag, f_stat=test.f_stat, p_value=test.p_value, lag_low=test.lag_low,
               lag_high=test.lag_high, direction=test.direction)  # fmt: skip
    if xcorr:
        corr = cross_correlation(frame["follower"], frame["leader"], max_lag)
        positive = {k: v for k, v in corr.items() if k > 0 and v == v}
        best = max(positive, key=lambda k: abs(positive[k])) if positive else None
        row.update(xcorr_best_lag=best, xcorr_best=positive.get(best) if best is not None else None,
                   xcorr=json.dumps(corr))
    return row


def _day(value: Any) -> str:
    """A day index value as YYYY-MM-DD (other index values as text)."""
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


def adjust(pvalues: Sequence[float], method: str) -> list[float]:
    """Corrected p-values (NaN stays NaN) with statsmodels' multipletests."""
    from statsmodels.stats.multitest import multipletests

    values = np.asarray(pvalues, dtype=float)
    out = np.full(len(values), np.nan)
    ok = ~np.isnan(values)
    if ok.any():
        out[ok] = multipletests(values[ok], method=method)[1]
    return out.tolist()


def _lag_words(row: pd.Series | dict[str, Any], frequency: str) -> str:
    """'by 3-5 days' from a row's significant-lag range (or its lag order)."""
    low, high = row.get("lag_low"), row.get("lag_high")
    unit = UNIT[frequency]
    if low is None or low != low:  # jointly significant, no single lag stands out
        return f"within {int(row['lag'])} {unit}{'s' * (int(row['lag']) != 1)}"
    low, high = int(low), int(high)  # type: ignore[arg-type]
    return f"by {low} {unit}{'s' * (low != 1)}" if low == high else f"by {low}-{high} {unit}s"


def verdict(row: dict[str, Any], labels: dict[str, str], alpha: float, pairs: int,
            correction: str) -> str:
    """The plain-language verdict of one pair row."""
    if row.get("p_value") is None or row.get("p_value") != row.get("p_value"):
        return str(row.get("verdict") or "not tested")
    lead, follow = labels.get(row["leader"], row["leader"]), labels.get(row["follower"], row["follower"])
    what = f"{row['series']} of {follow}" if row["series"] == "stance" else follow
    p = f"p = {row['p_adjusted']:.3g} ({correction} over {pairs} pairs, raw {row['p_value']:.3g})"
    if row["p_adjusted"] < alpha:
        sign = "up" if row["direction"] > 0 else "down"
        return f"{lead} leads {what} {_lag_words(row, row['frequency'])} (pushes it {sign}), {p}"
    return f"no lead found from {lead} to {what}, {p}"


def prepare_panel(panel: pd.DataFrame, kind: str, frequency: str, params: DynamicsParams,
                  transforms: dict[str, str] | None = None) -> dict[str, Prepared]:
    """Every column of ``panel`` made stationary (or with the given transforms)."""
    return {
        name: prepare(panel[name], kind, params.lag_limit(frequency), params.alpha,
                      None if transforms is None else transforms.get(name), params.max_gap)
        for name in panel.columns
    }


def analyse_pairs(
    prepared: dict[str, Prepared], kind: str, frequency: str, params: DynamicsParams, *,
    variant: str = "all", labels: dict[str, str] | None = None,
    lags: dict[tuple[str, str], int] | None = None, placebo_seed: int | None = None,
) -> pd.DataFrame:
    """Test every ordered pair of prepared series; p-values corrected over the pairs.

    ``lags`` fixes each pair's lag order (the robustness runs reuse the main run's);
    ``placebo_seed`` replaces each leader by a shuffled copy of itself (the placebo pair).
    Only the main run (``variant`` "all") is corrected and cross-correlated: a robustness
    variant re-tests one pre-specified link, read at its raw p-value.
    """
    main = variant == "all"
    labels = labels or {}
    rng = np.random.default_rng(placebo_seed)
    rows = []
    names = list(prepared)
    for leader in names:
        for follower in names:
            if leader == follower:
                continue
            lead = prepared[leader].values
            if placebo_seed is not None:  # shuffle the values, keep the gaps where they are
                lead = lead.copy()
                valid = lead.notna().to_numpy()
                lead.iloc[valid] = rng.permutation(lead.to_numpy(copy=True)[valid])
            fixed = None if lags is None else lags.get((leader, follower))
            if lags is not None and fixed is None:
                continue
            row: dict[str, Any] = {"analysis": "granger", "series": kind, "frequency": frequency, "variant": variant,
                   "leader": leader, "follower": follower,
                   "leader_transform": prepared[leader].transform,
                   "follower_transform": prepared[follower].transform}  # fmt: skip
            row.update(pair_test(prepared[follower].values, lead, frequency, params, fixed, xcorr=main))
            rows.append(row)
    frame = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    if not main:
        frame["significant"] = (frame["p_value"].astype(float) < params.alpha).astype(int)
        frame["verdict"] = [
            f"{variant}: lead {'held' if r['significant'] else 'not held'} (raw p = {r['p_value']:.3g})"
            if r["p_value"] == r["p_value"] and r["p_value"] is not None else r["verdict"]
            for r in frame.to_dict("records")
        ]
        return frame
    frame["p_adjusted"] = adjust(frame["p_value"].astype(float).tolist(), params.correction)
    tested = int(frame["p_value"].notna().sum())
    frame["significant"] = (frame["p_adjusted"] < params.alpha).astype(int)
    frame["verdict"] = [verdict(r, labels, params.alpha, tested, params.correction)
                        for r in frame.to_dict("records")]  # fmt: skip
    return frame


def stationarity_rows(prepared: dict[str, Prepared], kind: str, frequency: str) -> pd.DataFrame:
    """One row per series: the tests and the transform chosen."""
    rows = []
    for name, prep in prepared.items():
        stationary = prep.adf_p < 0.05 and not prep.kpss_p <= 0.05
        rows.append({
            "analysis": "stationarity", "series": kind, "frequency": frequency, "variant": "all",
            "leader": name, "n_obs": len(longest_run(prep.values)), "leader_transform": prep.transform,
            "adf_p": prep.adf_p, "kpss_p": prep.kpss_p,
            "verdict": f"{prep.transform}: ADF p = {prep.adf_p:.3g}, KPSS p = {prep.kpss_p:.3g} "
                       + ("(stationary)" if stationary else "(stationarity doubtful)"),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=STATIONARITY_COLUMNS)


# ---------------------------------------------------------------------- robustness


def split_halves(panel: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first and second half of the period (by row count)."""
    middle = len(panel) // 2
    return panel.iloc[:middle], panel.iloc[middle:]


def robustness_summary(main: pd.DataFrame, variants: pd.DataFrame, alpha: float,
                       source_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Per main pair: which variants kept the lead (raw p < alpha), appended to its verdict.

    A variant tests one pre-specified link, so its raw p-value is read against alpha; the
    placebo should *not* be significant.
    """
    source_names = source_names or {}
    out = main.copy()
    robust = []
    for i, row in out.iterrows():
        same = variants[(variants["series"] == row["series"]) & (variants["frequency"] == row["frequency"])
                        & (variants["leader"] == row["leader"]) & (variants["follower"] == row["follower"])]
        held = {v: bool(p < alpha) for v, p in zip(same["variant"], same["p_value"], strict=True) if p == p}
        pvals = {v: (None if p != p else round(float(p), 4)) for v, p in zip(same["variant"], same["p_value"],
                                                                               strict=True)}
        robust.append(json.dumps({"held": held, "p": pvals}, sort_keys=True))
        if row["significant"] != 1 or not held:
            continue
        drops = {v: h for v, h in held.items() if v.startswith("drop:")}
        lost = [source_names.get(v[5:], v[5:]) for v, h in drops.items() if not h]
        parts = []
        if drops:
            parts.append("robust to dropping each source" if not lost
                         else f"not robust to dropping {', '.join(sorted(lost))}")
        halves = [h for h in ("first_half", "second_half") if h in held]
        if not halves and "first_half" in pvals:
            parts.append("halves too short to test")
        elif halves:
            kept = [h.replace("_", " ") for h in halves if held[h]]
            parts.append("held in both halves" if len(kept) == len(halves)
                         else f"held only in the {kept[0]}" if kept else "held in neither half")
        if "placebo" in held:
            parts.append("placebo also significant (suspect)" if held["placebo"] else "placebo not significant")
        out.at[i, "verdict"] = f"{row['verdict']}; {'; '.join(parts)}"
    out["robustness"] = robust
    return out


def ordered_pairs(names: Iterable[str]) -> list[tuple[str, str]]:
    """Every (leader, follower) of distinct names."""
    names = list(names)
    return [(a, b) for a in names for b in names if a != b]
