"""compute_index on hand-built articles: coverage, evidence minimums, source mix, spikes, stance, weeks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.index.frames import Art, build, days
from tracker.base.errors import ConfigError
from tracker.index.compute import MEMBER_COLUMNS, SOURCE_COLUMNS, SOURCE_MEMBER_COLUMNS, compute_index
from tracker.index.params import IndexParams

DAYS = days("2025-03-03", 28)  # four ISO weeks, Monday to Sunday


def steady(day: str, feed: int, total: int, members: int, narrative: str = "x") -> list[Art]:
    return [Art(day, feed, {narrative: None} if i < members else {}) for i in range(total)]


def test_only_covered_days_have_values_and_stale_items_do_not_start_the_index() -> None:
    # Stale items in a first snapshot: one on a day of its own, twelve sharing another day
    # (enough to cover it, but not the seven days in a row that start the index).
    arts = [Art("2013-06-01", 1, {"x": None}), *steady("2024-11-20", 1, 12, 2)]
    for i, d in enumerate(DAYS):
        arts += steady(d, 1, 4 if i == 15 else 30, 6)
    result = build(arts, ["x"], IndexParams(min_articles=10))
    assert (result.first_day, result.last_day) == (DAYS[0], DAYS[-1])
    rows = result.rows.set_index("day")
    assert len(rows) == 28
    thin = rows.loc[DAYS[15]]
    assert not thin["covered"]
    for column in ("share", "expected_articles", "index_value", "index_low", "smoothed_7d", "zscore"):
        assert pd.isna(thin[column]), column  # missing, never zero
    assert thin["articles"] == 4 and thin["total_articles"] == 4
    cov = result.coverage.set_index("day")
    assert cov.loc["2013-06-01", "articles"] == 1 and not cov.loc["2013-06-01", "covered"]
    assert cov.loc["2024-11-20", "covered"]  # covered, yet not the start
    assert cov.loc[DAYS[0], "sources"] == 1


def test_a_short_history_starts_at_its_first_covered_day() -> None:
    arts = [a for d in DAYS[:5] for a in steady(d, 1, 30, 6)]
    assert build(arts, ["x"]).first_day == DAYS[0]


def test_steady_coverage_gives_100_with_an_interval() -> None:
    arts = [a for d in DAYS for f in (1, 2) for a in steady(d, f, 40, 8 if f == 1 else 2)]
    result = build(arts, ["x"], IndexParams(source_prior=0))
    rows = result.rows
    assert rows["index_value"].to_numpy() == pytest.approx(100.0, rel=1e-6)
    assert (rows["index_low"] < rows["index_value"]).all() and (rows["index_value"] < rows["index_high"]).all()
    assert rows["share"].to_numpy() == pytest.approx(100 * 10 / 80)
    assert not rows["spike"].any()
    rates = result.rates.set_index("feed_id")["rate"]
    assert rates[1] / rates[2] == pytest.approx(4.0, rel=1e-6)


def test_a_day_resting_on_too_few_expected_members_has_no_value() -> None:
    """A rare narrative: counts and share are stored, never an index from one or two articles."""
    arts = []
    for i, d in enumerate(DAYS):
        arts += steady(d, 1, 100, 1 if i % 7 == 0 else 0, "rare")
        arts += steady(d, 2, 100, 0, "rare")
    arts += steady(DAYS[20], 3, 3, 3, "rare")  # a burst of three on a new source
    result = build(arts, ["rare"], IndexParams(min_expected=5))
    rows = result.rows
    assert rows["expected_articles"].max() < 5
    assert rows["index_value"].isna().all()
    assert rows.set_index("day").loc[DAYS[20], "articles"] == 3
    assert rows["share"].notna().all()
    # A looser minimum gives values, but evidence-weighted ones: nothing like a four-digit index.
    loose = build(arts, ["rare"], IndexParams(min_expected=0.1))
    assert loose.rows["index_value"].max() < 1000


def test_one_article_on_a_thin_day_moves_the_value_little() -> None:
    arts = [a for d in DAYS for a in steady(d, 1, 50, 10)]
    arts += steady(DAYS[14], 2, 2, 2)  # a new source's first day: 2 of 2 articles are members
    result = build(arts, ["x"], IndexParams(min_expected=1))
    value = result.rows.set_index("day").loc[DAYS[14], "index_value"]
    assert 95 < value < 130


def synthetic_sources(seed: int = 11) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Six sources with different usual rates and volumes coming and going, one common intensity."""
    rng = np.random.default_rng(seed)
    n_days = 240
    theta = np.exp(np.cumsum(rng.normal(0, 0.05, n_days)))
    theta *= np.where(rng.random(n_days) < 0.03, 2.5, 1.0)
    rates = np.array([0.40, 0.20, 0.10, 0.05, 0.03, 0.02])
    volume = np.array([30, 80, 60, 150, 40, 200])
    spans = [(0, 239), (0, 120), (60, 239), (100, 200), (0, 239), (150, 239)]
    exposure = np.zeros((n_days, 6))
    for s, (a, b) in enumerate(spans):
        exposure[a:b + 1, s] = rng.poisson(volume[s], b - a + 1)
    counts = rng.binomial(exposure.astype(int), np.clip(rates[None, :] * theta[:, None] / theta.mean(), 0, 1))
    day_keys = days("2025-01-01", n_days)
    sources = pd.DataFrame(
        [(d, s + 1, int(exposure[t, s]), int(exposure[t, s])) for t, d in enumerate(day_keys)
         for s in range(6) if exposure[t, s] > 0],
        columns=SOURCE_COLUMNS,
    )  # fmt: skip
    return sources, counts, exposure


def index_without(sources: pd.DataFrame, counts: np.ndarray, drop: int | None) -> pd.Series:
    """The index computed from all sources, or without source ``drop`` (1-based)."""
    keep = [s for s in range(counts.shape[1]) if s + 1 != drop]
    day_keys = days("2025-01-01", counts.shape[0])
    o = counts[:, keep].sum(axis=1)
    members = pd.DataFrame(
        [("x", d, int(o[t]), float(o[t]), 0.0, 0, int((counts[t, keep] > 0).sum()), "m")
         for t, d in enumerate(day_keys) if o[t] > 0],
        columns=MEMBER_COLUMNS,
    )  # fmt: skip
    per_source = pd.DataFrame([("x", s + 1, int(counts[:, s].sum())) for s in keep], columns=SOURCE_MEMBER_COLUMNS)
    src = sources[sources["feed_id"] != drop] if drop else sources
    result = compute_index(src, members, per_source, ["x"], IndexParams())
    return result.rows.set_index("day")["index_value"]


#: Stated tolerance: removing any one source changes the mean level over the days it was
#: present by less than this (relative).
LEAVE_ONE_OUT_TOLERANCE = 0.05


def test_removing_any_one_source_keeps_the_level() -> None:
    sources, counts, exposure = synthetic_sources()
    full = index_without(sources, counts, None)
    day_keys = np.array(days("2025-01-01", counts.shape[0]))
    share_all = counts.sum(axis=1) / exposure.sum(axis=1)
    worst_share = 0.0
    for s in range(counts.shape[1]):
        present = day_keys[exposure[:, s] > 0]
        without = index_without(sources, counts, s + 1)
        both = full.loc[present].notna() & without.loc[present].notna()
        change = without.loc[present][both].mean() / full.loc[present][both].mean() - 1
        assert abs(change) < LEAVE_ONE_OUT_TOLERANCE, (s + 1, change)
        keep = [k for k in range(counts.shape[1]) if k != s]
        share_wo = counts[:, keep].sum(axis=1) / exposure[:, keep].sum(axis=1)
        mask = exposure[:, s] > 0
        worst_share = max(worst_share, abs(share_wo[mask].mean() / share_all[mask].mean() - 1))
    # The plain pooled share, by contrast, moves with the mix: the test can fail.
    assert worst_share > 0.3


def test_spike_needs_significance_members_and_sources() -> None:
    burst_day = DAYS[21]
    # Sources 2 and 3 publish a little under their usual on the burst day.
    arts = [a for d in DAYS for f in (1, 2, 3) for a in steady(d, f, 40, 3 if d == burst_day and f > 1 else 4)]
    arts += steady(burst_day, 1, 20, 20)  # twenty extra members, all from source 1
    one_source = build(arts, ["x"])
    rows = one_source.rows.set_index("day")
    assert rows.loc[burst_day, "p_value"] < 1e-3
    assert rows.loc[burst_day, "member_sources"] == 3  # the others published about their usual
    assert not rows["spike"].any()  # ... so only one source rose: one outlet is not a wave
    assert rows.loc[burst_day, "rising_sources"] == 1
    loose = build(arts, ["x"], IndexParams(spike_min_sources=1))
    assert loose.rows.loc[loose.rows["spike"], "day"].tolist() == [burst_day]
    arts += steady(burst_day, 2, 6, 6)
    spread = build(arts, ["x"])
    assert spread.rows.loc[spread.rows["spike"], "day"].tolist() == [burst_day]
    assert spread.rows.set_index("day").loc[burst_day, "rising_sources"] == 2
    strict = build(arts, ["x"], IndexParams(spike_min_articles=100))
    assert not strict.rows["spike"].any()
    assert rows.loc[burst_day, "zscore"] > 3
    assert rows.loc[burst_day, "index_value"] > rows.loc[burst_day, "prior_index"]


def test_net_stance_treats_unknown_stance_as_missing() -> None:
    arts = [a for d in DAYS for a in steady(d, 1, 20, 0)]
    arts += [Art(DAYS[3], 1, {"x": s}) for s in (0.5, None, 1.0, None, -0.5)]
    rows = build(arts, ["x"]).rows.set_index("day")
    assert rows.loc[DAYS[3], "stance_articles"] == 3
    assert rows.loc[DAYS[3], "net_stance"] == pytest.approx(1.0 / 3)  # (0.5 + 1 - 0.5) / 3, not / 5
    assert pd.isna(rows.loc[DAYS[4], "net_stance"])  # no member: no stance, not 0
    strict = build(arts, ["x"], IndexParams(stance_min_articles=4)).rows.set_index("day")
    assert pd.isna(strict.loc[DAYS[3], "net_stance"])
    week = build(arts, ["x"]).weekly.set_index("week_start").loc[DAYS[0]]
    assert week["net_stance"] == pytest.approx(1.0 / 3) and week["stance_articles"] == 3


def test_weekly_table_sums_days_and_flags_movers() -> None:
    arts = []
    for i, d in enumerate(DAYS):
        per_day = 12 if i >= 21 else 4  # the fourth week triples
        arts += [a for f in (1, 2) for a in steady(d, f, 40, per_day // 2)]
    result = build(arts, ["x"])
    weeks = result.weekly.set_index("week_start")
    assert list(weeks.index) == [DAYS[0], DAYS[7], DAYS[14], DAYS[21]]
    assert list(weeks["week"]) == ["2025-W10", "2025-W11", "2025-W12", "2025-W13"]
    assert weeks["articles"].tolist() == [28, 28, 28, 84]
    assert weeks["covered_days"].tolist() == [7, 7, 7, 7]
    assert weeks["member_sources"].tolist() == [2, 2, 2, 2]
    assert weeks["mover"].tolist() == [False, False, False, True]
    last = weeks.iloc[-1]
    assert last["change"] == pytest.approx(last["index_value"] - last["prev_index"])
    assert last["index_value"] / last["prev_index"] == pytest.approx(3.0, rel=1e-6)
    assert math.isnan(weeks.iloc[0]["prev_index"])


def test_model_versions_of_the_counted_members_are_listed() -> None:
    arts = [a for d in DAYS for a in steady(d, 1, 20, 2)]
    arts.append(Art(DAYS[2], 1, {"x": None}, version="m2"))
    rows = build(arts, ["x"]).rows.set_index("day")
    assert rows.loc[DAYS[2], "model_version"] == "m1,m2"
    assert rows.loc[DAYS[3], "model_version"] == "m1"


def test_every_narrative_gets_a_row_per_day_even_without_members() -> None:
    arts = [a for d in DAYS for a in steady(d, 1, 20, 3)]
    result = build(arts, ["x", "y"])
    assert len(result.rows) == 2 * 28
    y = result.rows[result.rows["narrative_id"] == "y"]
    assert (y["articles"] == 0).all() and y["index_value"].isna().all() and (y["share"] == 0).all()


def test_base_window_outside_the_data_is_a_clear_error() -> None:
    arts = [a for d in DAYS for a in steady(d, 1, 20, 3)]
    with pytest.raises(ConfigError, match="base window"):
        build(arts, ["x"], IndexParams(base_start="2030-01-01"))


def test_fixed_base_window_averages_100_there() -> None:
    arts = [a for i, d in enumerate(DAYS) for a in steady(d, 1, 40, 8 if i < 14 else 16)]
    result = build(arts, ["x"], IndexParams(base_start=DAYS[0], base_end=DAYS[13]))
    fit = result.fits.iloc[0]
    assert (fit["base_start"], fit["base_end"], fit["base_days"]) == (DAYS[0], DAYS[13], 14)
    assert fit["base_articles"] == pytest.approx(fit["base_expected"])
    rows = result.rows.set_index("day")
    assert rows.loc[DAYS[27], "articles"] / rows.loc[DAYS[27], "expected_articles"] == pytest.approx(2.0)
    assert rows.loc[DAYS[5], "index_value"] == pytest.approx(100.0)


def test_empty_input_builds_nothing() -> None:
    result = build([], ["x"])
    assert result.rows.empty and result.first_day is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 12), st.integers(0, 12)),
                min_size=8, max_size=30),
       st.floats(0.5, 20))  # fmt: skip
def test_no_value_rests_on_less_than_the_documented_minimum(
    draws: list[tuple[int, int, int, int]], min_expected: float
) -> None:
    arts = []
    for i, (t1, t2, c1, c2) in enumerate(draws):
        day = days("2025-06-02", len(draws))[i]
        arts += steady(day, 1, t1, min(c1, t1)) + steady(day, 2, t2, min(c2, t2))
    params = IndexParams(min_articles=10, min_expected=min_expected)
    rows = build(arts, ["x"], params).rows
    valued = rows[rows["index_value"].notna()]
    assert (valued["expected_articles"] >= min_expected).all()
    assert (valued["total_articles"] >= 10).all() and valued["covered"].all()
    assert (valued["index_low"] <= valued["index_value"]).all()
    assert (valued["index_value"] <= valued["index_high"]).all()
    assert rows.loc[~rows["covered"].astype(bool), ["share", "index_value", "zscore"]].isna().all().all()
