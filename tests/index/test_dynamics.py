"""Narrative dynamics on synthetic series: a known lead is found at its lags, no lead is found
at the stated rate, stationary transforms, corrections, robustness and virality."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from threadpoolctl import threadpool_limits

from tracker.index.dynamics import (
    DynamicsParams,
    adjust,
    analyse_pairs,
    pair_test,
    prepare,
    prepare_panel,
    robustness_summary,
    select_lag,
)
from tracker.index.virality import ViralityParams, episodes, half_life, spread, virality

DAYS = 730  # two years of daily series


def simulate(n: int, rng: np.random.Generator, lead: float = 0.0, lags: tuple[int, ...] = (3, 4, 5)) -> pd.DataFrame:
    """Two AR(1) series; ``follower`` takes ``lead`` times ``leader`` at each of ``lags``."""
    e = rng.normal(size=(n, 2))
    x, y = np.zeros(n), np.zeros(n)
    for t in range(1, n):
        x[t] = 0.5 * x[t - 1] + e[t, 0]
        y[t] = 0.3 * y[t - 1] + lead * sum(x[t - k] for k in lags if t >= k) + e[t, 1]
    return pd.DataFrame({"leader": x, "follower": y}, index=pd.date_range("2024-01-01", periods=n))


@pytest.fixture(autouse=True)
def one_thread():
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_select_lag_is_statsmodels_select_order() -> None:
    from statsmodels.tsa.api import VAR

    data = simulate(400, np.random.default_rng(3), lead=0.3).to_numpy()
    expected = max(1, VAR(data).select_order(10, trend="c").selected_orders["aic"])
    assert select_lag(data, 10, "aic") == expected


def test_a_known_lead_is_recovered_at_its_lags() -> None:
    """A lead at lags 3-5 on two years of daily data, 20 seeds: always found, at its lags."""
    ranges = []
    for seed in range(20):
        frame = simulate(DAYS, np.random.default_rng(seed), lead=0.25)
        row = pair_test(frame["follower"], frame["leader"], "daily", DynamicsParams())
        assert row["p_value"] < 1e-6 and row["direction"] > 0
        assert row["lag"] >= 5  # the criterion keeps every lag of the lead
        assert row["lag_low"] <= 3 and 5 <= row["lag_high"] <= 6  # never misses a true lag
        xcorr = {int(k): v for k, v in json.loads(row["xcorr"]).items()}
        assert 3 <= row["xcorr_best_lag"] <= 5 and xcorr[row["xcorr_best_lag"]] > 0.1
        ranges.append((row["lag_low"], row["lag_high"]))
    # A spurious extra lag passes the per-lag Bonferroni test in about 1 run in 30.
    assert ranges.count((3, 5)) >= 17, ranges


def test_the_reverse_direction_and_an_unrelated_series_show_no_lead() -> None:
    rng = np.random.default_rng(11)
    frame = simulate(DAYS, rng, lead=0.25).assign(other=rng.normal(size=DAYS).cumsum() / 10 + 5)
    params = DynamicsParams()
    prepared = prepare_panel(frame, "stance", "daily", params)
    assert prepared["other"].transform == "diff" and prepared["leader"].transform == "level"
    rows = analyse_pairs(prepared, "stance", "daily", params, labels={"leader": "AI doubt"}).set_index(
        ["leader", "follower"])
    assert rows.loc[("leader", "follower"), "significant"] == 1
    assert rows.loc[("leader", "follower"), "verdict"].startswith("AI doubt leads stance of follower by")
    assert rows["significant"].sum() == 1
    assert (rows["p_adjusted"] >= rows["p_value"]).all()
    assert "holm over 6 pairs" in rows.loc[("follower", "leader"), "verdict"]


def test_no_false_lead_beyond_the_stated_rate() -> None:
    """200 independent pairs: raw p < alpha about alpha of the time (99.9% binomial bounds)."""
    params = DynamicsParams(max_lag=5, alpha=0.05)
    sims = 200
    rejections = 0
    for seed in range(sims):
        frame = simulate(300, np.random.default_rng(1000 + seed))
        rejections += pair_test(frame["follower"], frame["leader"], "daily", params)["p_value"] < params.alpha
    low, high = stats.binom.ppf([0.0005, 0.9995], sims, params.alpha)
    assert low <= rejections <= high, rejections


def test_the_correction_holds_the_family_wise_rate() -> None:
    """Four unrelated series (12 ordered pairs): a corrected lead in at most ~alpha of runs."""
    params = DynamicsParams(max_lag=3, alpha=0.05)
    runs, hits = 60, 0
    for seed in range(runs):
        rng = np.random.default_rng(5000 + seed)
        panel = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd"),
                             index=pd.date_range("2024-01-01", periods=200))
        prepared = prepare_panel(panel, "stance", "daily", params, dict.fromkeys("abcd", "level"))
        hits += analyse_pairs(prepared, "stance", "daily", params)["significant"].any()
    assert hits <= stats.binom.ppf(0.999, runs, params.alpha)


def test_a_random_walk_is_differenced_and_intensity_logged() -> None:
    rng = np.random.default_rng(2)
    walk = pd.Series(np.exp(rng.normal(scale=0.1, size=500).cumsum()) * 100)
    prepared = prepare(walk, "intensity", 14, 0.05)
    assert prepared.transform == "log_diff"
    assert np.allclose(prepared.values.dropna().to_numpy(), np.diff(np.log(walk.to_numpy())))
    noise = pd.Series(np.exp(rng.normal(scale=0.2, size=500)) * 100)
    assert prepare(noise, "intensity", 14, 0.05).transform == "log"


def test_short_gaps_are_bridged_and_long_ones_split_the_series() -> None:
    series = pd.Series([np.nan, 1.0, np.nan, 3.0, 4.0, np.nan, np.nan, np.nan, np.nan, 9.0, np.nan])
    prepared = prepare(series, "stance", 2, 0.05, transform="level", max_gap=3)
    assert prepared.values.tolist()[1:5] == [1.0, 2.0, 3.0, 4.0]
    assert prepared.values.iloc[5:9].isna().all() and prepared.values.iloc[9] == 9.0  # 4 missing: a break
    assert prepared.imputed == pytest.approx(1 / 9)


def test_a_pair_is_tested_on_its_longest_unbroken_stretch() -> None:
    frame = simulate(400, np.random.default_rng(1), lead=0.3)
    frame.iloc[100:110, 0] = np.nan  # a 10-day hole in the leader
    params = DynamicsParams(max_lag=5)
    prepared = prepare_panel(frame, "stance", "daily", params, {"leader": "level", "follower": "level"})
    row = pair_test(prepared["follower"].values, prepared["leader"].values, "daily", params)
    assert row["n_obs"] == 290  # days 110..399, after the hole
    assert (row["pair_start"], row["pair_end"]) == (str(frame.index[110].date()), str(frame.index[399].date()))
    assert row["p_value"] < 1e-6


def test_too_short_pairs_say_so() -> None:
    frame = simulate(40, np.random.default_rng(1))
    row = pair_test(frame["follower"], frame["leader"], "daily", DynamicsParams())
    assert row["verdict"].startswith("too short: 40 days in common without a gap") and "p_value" not in row
    prepared = prepare_panel(frame, "stance", "daily", DynamicsParams(), {"leader": "level", "follower": "level"})
    rows = analyse_pairs(prepared, "stance", "daily", DynamicsParams())
    assert rows["verdict"].str.startswith("too short").all() and rows["p_adjusted"].isna().all()


def test_placebo_and_robustness_verdicts() -> None:
    frame = simulate(DAYS, np.random.default_rng(4), lead=0.25)
    params = DynamicsParams()
    prepared = prepare_panel(frame, "stance", "daily", params)
    main = analyse_pairs(prepared, "stance", "daily", params)
    lags = {(r["leader"], r["follower"]): int(r["lag"]) for r in main.to_dict("records")}
    placebo = analyse_pairs(prepared, "stance", "daily", params, variant="placebo", lags=lags, placebo_seed=1)
    lead = placebo.set_index(["leader", "follower"]).loc[("leader", "follower")]
    assert lead["p_value"] > 0.01 and lead["lag"] == lags[("leader", "follower")]
    # A made-up source whose removal kills the lead, and halves that keep it.
    fake = placebo.assign(variant="drop:7", p_value=0.4)
    halves = [main.assign(variant=v) for v in ("first_half", "second_half")]
    out = robustness_summary(main, pd.concat([placebo, fake, *halves]), params.alpha, {"7": "cryptowire"})
    verdict = out.set_index(["leader", "follower"]).loc[("leader", "follower"), "verdict"]
    assert "not robust to dropping cryptowire" in verdict
    assert "held in both halves" in verdict and "placebo not significant" in verdict
    held = json.loads(out.iloc[0]["robustness"])["held"]
    assert set(held) == {"placebo", "drop:7", "first_half", "second_half"}


def test_adjust_keeps_missing_values() -> None:
    out = adjust([0.01, math.nan, 0.04], "holm")
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.04)


# ------------------------------------------------------------------------- virality


def test_spread_counts_sources_within_each_window() -> None:
    day = pd.Timestamp("2025-01-10")
    members = pd.DataFrame({"day": [day, day + pd.Timedelta(days=2), day + pd.Timedelta(days=5)],
                            "feed_id": [1, 2, 3]})
    active = pd.DataFrame({"day": [day] * 4, "feed_id": [1, 2, 3, 4]})
    assert spread(members, active, [day], (1, 3, 7)) == {1: 0.25, 3: 0.5, 7: 0.75}


def test_episodes_start_after_quiet_spells_and_on_spikes() -> None:
    days = pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-20", "2025-01-21", "2025-02-15"])
    spikes = pd.to_datetime(["2025-01-03", "2025-02-01"])
    starts = episodes(pd.DatetimeIndex(days), pd.DatetimeIndex(spikes), 7)
    # 01-01 opens the series (no quiet spell before it); 01-03 is a spike; 01-20 and 02-15
    # restart after quiet spells; the 02-01 spike is its own episode.
    assert [d.strftime("%m-%d") for d in starts] == ["01-03", "01-20", "02-01", "02-15"]


def test_half_life_is_days_from_peak_to_half_the_excess() -> None:
    days = pd.date_range("2025-01-01", periods=60)
    values = np.full(60, 100.0)
    values[30:40] = [300, 400, 300, 260, 240, 200, 150, 120, 100, 100]  # peak 400 on day 31
    index = pd.Series(values, index=days)
    # Peak 400 on day 31 (excess 300 over the baseline 100); 240 <= 100 + 150 on day 34.
    assert half_life(index, [days[30]], ViralityParams()) == 3


def test_virality_rows_per_narrative() -> None:
    days = pd.date_range("2025-01-01", periods=40)
    index = pd.DataFrame({"day": days, "narrative_id": "ai", "index_value": 100.0,
                          "spike": [d == days[20] for d in days]})
    members = pd.DataFrame({"narrative_id": "ai", "day": [days[0], days[20], days[21]], "feed_id": [1, 1, 2],
                            "articles": 2})
    sources = pd.DataFrame({"day": days.repeat(2), "feed_id": [1, 2] * 40, "scored_articles": 10})
    rows = virality(index, members, sources, ["ai", "gold"], {"ai": "AI doubt"})
    ai, gold = rows.iloc[0], rows.iloc[1]
    assert ai["episodes"] == 1 and ai["spread_1d"] == 0.5 and ai["spread_3d"] == 1.0
    assert ai["verdict"].startswith("AI doubt: 1 episode; 50% of sources within 1 day")
    assert gold["episodes"] == 0 and "no episode" in gold["verdict"]
