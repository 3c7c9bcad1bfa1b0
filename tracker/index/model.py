"""The count model behind the index: pure functions on arrays and series (README has the formulas).

Per narrative, a source *s* on day *t* contributes ``T(s,t)`` scored articles of which
``c(s,t)`` are members. The model is the two-way multiplicative (Poisson) one used for
standardised rates:

    c(s,t) ~ Poisson(T(s,t) * pi_s * theta_t)

``pi_s`` is the source's usual rate (its fixed effect: a crypto site covers crypto more than
a general desk does) and ``theta_t`` the day's relative intensity, common to all sources,
1 = every source at its usual rate. Its sufficient statistics are the margins: the day's
members ``O_t``, the source's members ``C_s`` and the exposures ``T``; the expected members
``E_t = sum_s T(s,t) pi_s`` make ``O_t / E_t`` comparable whatever the mix of sources.

The daily value is an empirical-Bayes posterior: ``theta_t ~ Gamma(a, a / mu_t)`` a priori
(``mu_t`` = the trailing rate, ``a`` = the prior's strength in pseudo member articles,
estimated from the data), so a day moves away from its trailing rate in proportion to its
evidence, and a Gamma posterior gives the interval. Surprise and spikes come from the same
model's predictive distribution of the count (negative binomial).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize, special, stats

FloatArray = npt.NDArray[np.float64]

#: Pseudo member articles at the base level (theta = 1) added to every trailing window, so the
#: prior's mean is defined, and sensible, when the trailing days carry little evidence.
TRAILING_PSEUDO = 5.0
#: Bounds of the estimated prior strength: below 0.5 the prior is flatter than any data we
#: have seen justifies; above 10,000 it pins every day to its trailing rate.
PRIOR_STRENGTH_BOUNDS = (0.5, 10_000.0)
#: Days this improbable (upper tail) under the fitted prior are set aside when the strength
#: of ordinary days is fitted (:func:`null_strength`).
TRIM_P = 0.01
#: Convergence of the source-rate fit (largest change of any log rate in a Newton step).
FIT_TOLERANCE = 1e-10
FIT_MAX_ITERATIONS = 100
#: Median of a chi-square variable with one degree of freedom.
CHI2_1_MEDIAN = float(stats.chi2.median(1))
#: A surprise beyond this many standard deviations is stored as this (p-values underflow).
Z_CAP = 37.0


def fit_source_rates(
    exposure: FloatArray, day_members: FloatArray, source_members: FloatArray,
    base: npt.NDArray[np.bool_], source_prior: float,
) -> tuple[FloatArray, int]:
    """Usual rate ``pi_s`` of every source (columns of ``exposure``), and the Newton steps used.

    The Poisson maximum-likelihood fit of the two-way model, with a Gamma prior of ``k`` =
    ``source_prior`` pseudo articles at the pooled rate ``p`` on every source's rate so that a
    source with a handful of articles does not get an extreme one. With ``theta_t = O_t / E_t``
    profiled out, the rates maximise

        l(pi) = sum_s (C_s + k p) log pi_s - sum_t O_t log E_t(pi) - k sum_s pi_s

    whose fixed point is ``pi_s = (C_s + k p) / (sum_t T(s,t) theta_t + k)``. That iteration
    (iterative proportional fitting) needs thousands of rounds when sources barely overlap in
    time, so the maximum is found by Newton's method on ``log pi`` instead (concave: a few
    steps, each halved until it improves ``l``). Finally the rates are scaled so that over the
    ``base`` days the ratio of members to expected members averages 1: there the index
    averages 100.
    """  # fmt: skip
    exposure = np.asarray(exposure, dtype=np.float64)
    day_members = np.asarray(day_members, dtype=np.float64)
    source_members = np.asarray(source_members, dtype=np.float64)
    total = exposure.sum()
    pooled = source_members.sum() / total if total > 0 else 0.0
    if pooled <= 0:
        return np.zeros(exposure.shape[1]), 0
    weight = source_members + source_prior * pooled
    active = (weight > 0) & (exposure.sum(axis=0) > 0)
    t = exposure[day_members > 0][:, active]
    o = day_members[day_members > 0]
    a = weight[active]

    def objective(u: FloatArray) -> float:
        pi = np.exp(u)
        return float(a @ u - o @ np.log(t @ pi) - source_prior * pi.sum())

    u = np.log(a / (exposure[:, active].sum(axis=0) + source_prior))  # theta = 1
    value = objective(u)
    steps = 0
    for steps in range(1, FIT_MAX_ITERATIONS + 1):  # noqa: B007 (reported after the loop)
        pi = np.exp(u)
        share = t * pi / (t @ pi)[:, None]  # each source's part of each day's expectation
        weighted = share.T @ o
        grad = a - weighted - source_prior * pi
        hessian = share.T @ (share * o[:, None]) - np.diag(weighted + source_prior * pi)
        # Without a prior the scale of pi is free (theta absorbs it): least squares takes the
        # step orthogonal to that direction.
        step = np.linalg.lstsq(-hessian, grad, rcond=None)[0]
        length = 1.0
        while True:
            candidate = objective(u + length * step)
            if candidate >= value or length < 1e-10:
                break
            length /= 2
        u = u + length * step
        value = max(value, candidate)
        if np.max(np.abs(length * step)) < FIT_TOLERANCE:
            break
    rates = np.zeros(exposure.shape[1])
    rates[active] = np.exp(u)
    # The level: the base days' average ratio of members to expected members is 1. An
    # average over days, not a ratio of sums, so that a source's coming or going (which
    # changes how much each day weighs in the sums) does not move the level.
    expected = exposure @ rates
    days = base & (expected > 0)
    if days.any():
        rates = rates * float(np.mean(day_members[days] / expected[days]))
    return rates, steps


def trailing_rate(members: pd.Series, expected: pd.Series, days: int) -> pd.Series:
    """``mu_t = (sum O + m0) / (sum E + m0)`` over the ``days`` days before t (t excluded).

    Both series are daily without gaps, zero on days without coverage; ``m0`` =
    :data:`TRAILING_PSEUDO` pulls a thin window toward the base level 1.
    """
    o = members.rolling(days, min_periods=1).sum().shift(1).fillna(0.0)
    e = expected.rolling(days, min_periods=1).sum().shift(1).fillna(0.0)
    return (o + TRAILING_PSEUDO) / (e + TRAILING_PSEUDO)


def prior_strength(members: FloatArray, prior_expected: FloatArray) -> float:
    """Empirical-Bayes strength ``a`` of the Gamma prior: the one that best explains the counts.

    With ``O ~ Poisson(theta E)`` and ``theta ~ Gamma(a, a / mu)``, a day's count follows a
    negative binomial with mean ``e = mu E`` and shape ``a`` (variance ``e + e^2 / a``); ``a``
    maximises that marginal likelihood over the covered days, within
    :data:`PRIOR_STRENGTH_BOUNDS` (a likelihood still rising at the upper bound means no
    overdispersion: every day is its trailing rate plus Poisson noise). Maximum likelihood,
    rather than matching the variance, because a few burst days would dominate a squared
    residual and wash every other day out.
    """
    o = np.asarray(members, dtype=np.float64)
    e = np.asarray(prior_expected, dtype=np.float64)
    keep = e > 0
    o, e = o[keep], e[keep]
    low, high = PRIOR_STRENGTH_BOUNDS
    if not len(e):
        return high

    def negative_log_likelihood(log_a: float) -> float:
        a = np.exp(log_a)
        return -float(np.sum(
            special.gammaln(o + a) - special.gammaln(a) + a * np.log(a / (a + e))
            + o * np.log(e / (a + e))
        ))  # fmt: skip

    best = optimize.minimize_scalar(
        negative_log_likelihood, bounds=(np.log(low), np.log(high)), method="bounded",
        options={"xatol": 1e-6},
    )  # fmt: skip
    return float(np.clip(np.exp(best.x), low, high))


def null_strength(members: FloatArray, prior_expected: FloatArray, rounds: int = 10) -> float:
    """Prior strength of ordinary days: :func:`prior_strength` refitted without the outliers.

    News waves are part of a narrative's history, so the strength fitted on every day makes
    the predictive tail heavy enough to explain them, and then no wave is surprising. As in
    outbreak detection (the Farrington algorithm down-weights past outbreaks when it fits
    its baseline), days whose count is improbable under the current fit (upper-tail
    ``p < TRIM_P``) are set aside and the strength refitted on the others, until the set
    stops changing. The surprise test uses this strength; the daily value keeps the one
    fitted on every day (its prior should describe all days, waves included).
    """
    o = np.asarray(members, dtype=np.float64)
    e = np.asarray(prior_expected, dtype=np.float64)
    strength = prior_strength(o, e)
    keep = np.ones(len(o), dtype=bool)
    for _ in range(rounds):
        p = stats.nbinom.sf(o - 1, strength, strength / (strength + e))
        new = p >= TRIM_P
        if np.array_equal(new, keep):
            break
        keep = new
        strength = prior_strength(o[keep], e[keep])
    return strength


def posterior(
    members: FloatArray, expected: FloatArray, prior_mean: FloatArray, strength: float,
    interval: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Posterior mean of ``theta_t`` and its central ``interval``: Gamma(a + O, a / mu + E)."""  # fmt: skip
    shape = strength + np.asarray(members, dtype=np.float64)
    rate = strength / np.asarray(prior_mean, dtype=np.float64) + np.asarray(expected, dtype=np.float64)
    tail = (1.0 - interval) / 2.0
    low = stats.gamma.ppf(tail, shape, scale=1.0 / rate)
    high = stats.gamma.ppf(1.0 - tail, shape, scale=1.0 / rate)
    return shape / rate, low, high


def count_surprise(
    members: FloatArray, prior_expected: FloatArray, strength: float
) -> tuple[FloatArray, FloatArray]:
    """One-sided p-value ``P(X >= O)`` and a signed surprise z of each day's member count.

    ``X`` follows the prior predictive, a negative binomial with mean ``e = mu E`` and shape
    ``a``: the count a day would have at its trailing rate, allowing for the usual day-to-day
    variation. z is the standard-normal quantile of the mid-p value ``P(X > O) + P(X = O)/2``
    (positive above the trailing rate, negative below), capped at +-:data:`Z_CAP`.
    """
    o = np.asarray(members, dtype=np.float64)
    e = np.asarray(prior_expected, dtype=np.float64)
    p = strength / (strength + e)
    p_value = stats.nbinom.sf(o - 1, strength, p)
    mid = stats.nbinom.sf(o, strength, p) + 0.5 * stats.nbinom.pmf(o, strength, p)
    z = np.clip(stats.norm.isf(mid), -Z_CAP, Z_CAP)
    return np.asarray(p_value, dtype=np.float64), np.asarray(z, dtype=np.float64)


def ratio_of_sums(members: pd.Series, expected: pd.Series, days: int, min_expected: float) -> pd.Series:
    """``100 * sum O / sum E`` over the trailing ``days`` (t included); NaN below ``min_expected``."""
    o = members.rolling(days, min_periods=1).sum()
    e = expected.rolling(days, min_periods=1).sum()
    return (100.0 * o / e).where((e >= min_expected) & (e > 0))


def rate_interval(members: FloatArray, expected: FloatArray, interval: float) -> tuple[FloatArray, FloatArray]:
    """Jeffreys interval of a Poisson rate ``O / E``: Gamma(O + 1/2, E) quantiles."""
    o = np.asarray(members, dtype=np.float64) + 0.5
    scale = 1.0 / np.asarray(expected, dtype=np.float64)
    tail = (1.0 - interval) / 2.0
    return stats.gamma.ppf(tail, o, scale=scale), stats.gamma.ppf(1.0 - tail, o, scale=scale)


def change_test(
    now: FloatArray, now_expected: FloatArray, before: FloatArray, before_expected: FloatArray
) -> tuple[FloatArray, float]:
    """Signed z of a change of rate between two periods, overdispersion allowed for.

    Given ``n = O1 + O0`` members, equal rates would make ``O1 ~ Binomial(n, q)`` with
    ``q = E1 / (E1 + E0)``; ``z = (O1 - n q) / sqrt(phi n q (1 - q))``. ``phi`` (at least 1)
    is the quasi-binomial dispersion of all the pairs given, news arriving in bursts,
    estimated robustly as the median squared Pearson residual over the median of a
    chi-square with one degree of freedom (0.455), so the movers themselves do not
    inflate it. Returns (z per pair, phi).
    """
    o1, e1 = np.asarray(now, dtype=np.float64), np.asarray(now_expected, dtype=np.float64)
    o0, e0 = np.asarray(before, dtype=np.float64), np.asarray(before_expected, dtype=np.float64)
    n = o1 + o0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = e1 / (e1 + e0)
        var = n * q * (1 - q)
        resid = (o1 - n * q) / np.sqrt(var)
    ok = np.isfinite(resid) & (var > 0)
    phi = max(1.0, float(np.median(resid[ok] ** 2)) / CHI2_1_MEDIAN) if ok.any() else 1.0
    return np.where(ok, resid / np.sqrt(phi), np.nan), phi
