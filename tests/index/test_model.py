"""The count model's formulas on small hand-built inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tracker.index.model import (
    PRIOR_STRENGTH_BOUNDS,
    TRAILING_PSEUDO,
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


def test_source_rates_recover_a_noise_free_two_way_model() -> None:
    """c = T * pi_s * theta_t exactly: the fit finds pi up to the base normalisation."""
    pi = np.array([0.4, 0.05, 0.1])
    theta = np.array([1.0, 2.0, 0.5, 1.0, 1.5])
    exposure = np.array([[10, 50, 0], [10, 50, 20], [0, 50, 20], [10, 0, 20], [10, 50, 20]], dtype=float)
    counts = exposure * pi[None, :] * theta[:, None]
    rates, iterations = fit_source_rates(
        exposure, counts.sum(axis=1), counts.sum(axis=0), np.ones(5, dtype=bool), source_prior=0.0
    )
    assert iterations < 1000
    # Ratios between sources are exact; the level makes the base days' average ratio 1.
    assert rates / rates[0] == pytest.approx(pi / pi[0], rel=1e-9)
    expected = exposure @ rates
    assert np.mean(counts.sum(axis=1) / expected) == pytest.approx(1.0, rel=1e-12)
    # Each day's members over its expected members give theta up to the same constant.
    ratio = counts.sum(axis=1) / expected
    assert ratio / ratio[0] == pytest.approx(theta / theta[0], rel=1e-9)


def test_source_prior_pulls_a_thin_source_toward_the_pooled_rate() -> None:
    exposure = np.array([[1000.0, 1.0], [1000.0, 0.0]])
    day_members = np.array([100.0, 100.0])
    source_members = np.array([199.0, 1.0])  # the thin source: 1 member of 1 article
    bare, _ = fit_source_rates(exposure, day_members, source_members, np.ones(2, dtype=bool), 0.0)
    pulled, _ = fit_source_rates(exposure, day_members, source_members, np.ones(2, dtype=bool), 50.0)
    assert bare[1] / bare[0] > 9  # 100% against 10%
    assert pulled[1] / pulled[0] < 1.5  # 1 article against 50 pseudo articles at the pooled rate


def test_a_narrative_without_members_has_zero_rates() -> None:
    rates, iterations = fit_source_rates(np.ones((3, 2)), np.zeros(3), np.zeros(2), np.ones(3, dtype=bool), 50.0)
    assert list(rates) == [0.0, 0.0] and iterations == 0


def test_trailing_rate_is_a_ratio_of_sums_before_the_day_with_pseudo_articles() -> None:
    members = pd.Series([2.0, 0.0, 6.0, 4.0])
    expected = pd.Series([2.0, 0.0, 2.0, 4.0])  # day 1 uncovered: zeros
    mu = trailing_rate(members, expected, days=2)
    k = TRAILING_PSEUDO
    assert list(mu) == pytest.approx([1.0, (2 + k) / (2 + k), (2 + 0 + k) / (2 + 0 + k), (0 + 6 + k) / (0 + 2 + k)])


def test_prior_strength_finds_the_overdispersion_of_negative_binomial_counts() -> None:
    rng = np.random.default_rng(3)
    e = rng.uniform(5, 50, 4000)
    a = 4.0
    theta = rng.gamma(a, 1 / a, len(e))
    o = rng.poisson(theta * e)
    assert prior_strength(o, e) == pytest.approx(a, rel=0.15)
    # Pure Poisson counts: no overdispersion, the prior's strength goes to its upper bound.
    assert prior_strength(rng.poisson(e), e) > 100
    assert prior_strength(np.array([]), np.array([])) == PRIOR_STRENGTH_BOUNDS[1]


def test_prior_strength_is_not_washed_out_by_a_few_bursts() -> None:
    rng = np.random.default_rng(4)
    e = np.full(1000, 20.0)
    o = rng.poisson(rng.gamma(10.0, 0.1, 1000) * e).astype(float)
    o[:5] = 400  # five bursts twenty times the usual
    assert prior_strength(o, e) > 3  # a moment estimate would drop below 1


def test_null_strength_describes_ordinary_days_without_the_waves() -> None:
    rng = np.random.default_rng(5)
    e = np.full(2000, 30.0)
    o = rng.poisson(rng.gamma(20.0, 1 / 20.0, len(e)) * e).astype(float)
    o[::100] *= 3  # a wave every hundred days
    everything = prior_strength(o, e)
    ordinary = null_strength(o, e)
    assert everything < 0.8 * ordinary  # the waves fatten the tail ...
    assert ordinary == pytest.approx(20.0, rel=0.3)  # ... ordinary days keep their own spread
    p, _ = count_surprise(o, e, ordinary)
    assert (p[::100] < 0.001).mean() > 0.8
    assert (p < 0.001).mean() < 0.02


def test_posterior_moves_in_proportion_to_the_evidence() -> None:
    mean, low, high = posterior(np.array([2.0, 200.0]), np.array([1.0, 100.0]), np.array([1.0, 1.0]), 5.0, 0.9)
    # Both days doubled their expectation; the thin day stays near the prior, the thick one near 2.
    assert mean[0] == pytest.approx((5 + 2) / (5 + 1))
    assert mean[1] == pytest.approx((5 + 200) / (5 + 100))
    assert mean[0] < 1.2 < 1.9 < mean[1]
    assert low[0] < mean[0] < high[0] and low[1] < mean[1] < high[1]
    assert high[1] - low[1] < high[0] - low[0]
    assert low[1] == pytest.approx(stats.gamma.ppf(0.05, 205, scale=1 / 105))


def test_count_surprise_is_the_negative_binomial_tail() -> None:
    o = np.array([0.0, 3.0, 10.0, 30.0])
    e = np.full(4, 3.0)
    p, z = count_surprise(o, e, 8.0)
    q = 8.0 / (8.0 + 3.0)
    assert p[0] == 1.0
    assert p[2] == pytest.approx(stats.nbinom.sf(9, 8.0, q))
    assert all(np.diff(p) < 0) and all(np.diff(z) > 0)
    assert z[0] < 0 < z[2]
    assert p[3] < 1e-6 and math.isfinite(z[3])


def test_ratio_of_sums_is_missing_below_the_minimum() -> None:
    o = pd.Series([1.0, 2.0, 3.0, 4.0])
    e = pd.Series([1.0, 1.0, 2.0, 2.0])
    r = ratio_of_sums(o, e, days=2, min_expected=3)
    assert r.isna().tolist() == [True, True, False, False]
    assert r[3] == pytest.approx(100 * 7 / 4)


def test_rate_interval_covers_the_rate() -> None:
    low, high = rate_interval(np.array([0.0, 10.0]), np.array([5.0, 5.0]), 0.9)
    assert low[0] == pytest.approx(stats.gamma.ppf(0.05, 0.5, scale=0.2))
    assert low[1] < 2.0 < high[1]


def test_change_test_standardises_with_the_quasi_binomial_dispersion() -> None:
    now = np.array([30.0, 10.0, 14.0, 8.0, 12.0])
    ones = np.full(5, 10.0)
    z, phi = change_test(now, ones, ones, ones)
    raw = (now - (now + 10) / 2) / np.sqrt((now + 10) * 0.25)
    assert phi == pytest.approx(max(1.0, float(np.median(raw**2)) / stats.chi2.median(1)))
    assert z == pytest.approx(raw / math.sqrt(phi))
    assert z[1] == pytest.approx(0.0)
    # Many bursty pairs raise phi and so lower every z; one mover among quiet pairs does not.
    _, quiet = change_test(np.array([30.0, 10, 10, 10, 10]), ones, ones, ones)
    assert quiet == 1.0
