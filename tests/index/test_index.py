"""The daily narrative-intensity index: formulas on hand-built frames, then the store."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pytest
import sqlite_utils
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.base.errors import ConfigError
from tracker.base.settings import Settings
from tracker.index.compute import (
    IndexParams,
    NarrativeCount,
    compute_index,
    counts_frame,
    moving_average,
    pooled_share,
    rescale_to_base,
    scaled_average,
    source_scales,
    source_shares,
    spike_flags,
    totals_frame,
    trailing_zscore,
)
from tracker.index.store import REPRODUCE_SQL, build_index

NAN = float("nan")


def same(actual: Iterable[float], expected: Iterable[float]) -> bool:
    """Element-wise equality where NaN equals NaN (missing must stay missing)."""
    a, e = list(actual), list(expected)
    return len(a) == len(e) and all(
        (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
        for x, y in zip(a, e, strict=True)
    )


# ------------------------------------------------------------------- formula pieces


def wide(rows: list[list[float]]) -> pd.DataFrame:
    """Days x sources from one list per source (the way the formulas read on paper)."""
    return pd.DataFrame(np.array(rows, dtype=float).T)


def series(values: list[float]) -> pd.Series:
    return pd.Series(values, dtype=float)


def mask(values: list[bool]) -> pd.Series:
    return pd.Series(values, dtype=bool)


def test_share_is_count_over_total_and_missing_below_minimum() -> None:
    shares = source_shares(wide([[1, 0, 3, 0]]), wide([[4, 1, 6, 0]]), min_articles=2)
    assert same(shares[0], [0.25, NAN, 0.5, NAN])


def test_minimum_of_one_keeps_single_article_days() -> None:
    shares = source_shares(wide([[1, 0]]), wide([[1, 1]]), min_articles=1)
    assert same(shares[0], [1.0, 0.0])


def test_source_scale_is_sample_std_over_base_days_with_a_share() -> None:
    shares = wide([[0.1, 0.3, NAN, 0.2, 0.9]])
    scale = source_scales(shares, mask([True, True, True, True, False]))
    assert scale["n"][0] == 3
    assert scale["mean"][0] == pytest.approx(0.2)
    assert scale["std"][0] == pytest.approx(statistics.stdev([0.1, 0.3, 0.2]))


def test_source_scale_undefined_for_constant_or_single_day_series() -> None:
    shares = wide([[0.0, 0.0, 0.0], [0.2, NAN, NAN], [0.3, 0.3, 0.3]])
    scale = source_scales(shares, mask([True, True, True]))
    assert list(scale["n"]) == [3, 1, 3]
    assert scale["std"].isna().all()


def test_scaled_average_is_over_the_sources_present_each_day() -> None:
    shares = wide([[0.2, 0.4, NAN, 0.6], [0.1, NAN, NAN, 0.3]])
    scaled, mean = scaled_average(shares, series([0.2, 0.1]))
    assert same(scaled[0], [1.0, 2.0, NAN, 3.0])
    assert same(scaled[1], [1.0, NAN, NAN, 3.0])
    # Day 2 has one source (no dilution by the absent one); day 3 has none: missing.
    assert same(mean, [1.0, 2.0, NAN, 3.0])
    assert list(scaled.count(axis=1)) == [2, 1, 0, 2]


def test_source_without_scale_is_left_out_of_the_average() -> None:
    scaled, mean = scaled_average(wide([[0.2, 0.4], [0.0, 0.0]]), series([0.2, NAN]))
    assert same(mean, [1.0, 2.0])
    assert list(scaled.count(axis=1)) == [1, 1]


def test_rescale_makes_the_base_window_average_100() -> None:
    values, base_mean = rescale_to_base(
        series([1.0, 2.0, 3.0, NAN, 6.0]), mask([True, True, False, True, False])
    )
    assert base_mean == pytest.approx(1.5)
    assert same(values, [100 / 1.5, 200 / 1.5, 300 / 1.5, NAN, 600 / 1.5])


def test_rescale_with_no_base_coverage_is_missing_not_zero() -> None:
    values, base_mean = rescale_to_base(series([0.0, 0.0, 1.0]), mask([True, True, False]))
    assert base_mean == 0.0
    assert values.isna().all()


def test_pooled_share_sums_over_present_sources_only() -> None:
    counts = wide([[1, 2], [3, 1]])
    totals = wide([[4, 10], [6, 1]])
    present = wide([[1, 1], [1, 0]]).astype(bool)
    assert same(pooled_share(counts, totals, present), [100 * 4 / 10, 100 * 2 / 10])
    assert same(pooled_share(counts, totals, present & False), [NAN, NAN])


def test_moving_average_uses_available_days_and_is_missing_when_none() -> None:
    x = series([1.0, NAN, 3.0, 5.0, NAN, NAN, NAN, 7.0])
    assert same(moving_average(x, 3), [1.0, 1.0, 2.0, 4.0, 4.0, 5.0, NAN, 7.0])
    assert same(moving_average(x, 1), x)


def test_seven_day_average_on_a_full_week() -> None:
    x = series(list(np.arange(1.0, 11.0)))
    smoothed = moving_average(x, 7)
    assert smoothed[6] == pytest.approx(4.0)  # mean of 1..7
    assert smoothed[9] == pytest.approx(7.0)  # mean of 4..10
    assert smoothed[0] == 1.0


def test_zscore_against_trailing_window_excluding_today() -> None:
    x = series([1.0, 2.0, 3.0, NAN, 10.0, 2.0])
    z = trailing_zscore(x, window=4, min_periods=3)
    assert math.isnan(z[2])  # only two earlier days
    assert math.isnan(z[3])  # today missing
    assert z[4] == pytest.approx((10 - 2) / 1.0)  # window 1, 2, 3, (missing)
    prior = [2.0, 3.0, 10.0]
    assert z[5] == pytest.approx((2 - statistics.mean(prior)) / statistics.stdev(prior))


def test_spike_when_z_reaches_threshold() -> None:
    x = series([1.0, 2.0, 3.0, NAN, 10.0, 2.0])
    assert list(spike_flags(x, 4, 3, threshold=2.5)) == [False] * 4 + [True, False]
    assert not spike_flags(x, 4, 3, threshold=9.0).any()


def test_rise_from_a_flat_window_is_a_spike_with_undefined_z() -> None:
    x = series([0.0, 0.0, 0.0, 5.0, 0.0])
    assert math.isnan(trailing_zscore(x, 3, 3)[3])
    assert list(spike_flags(x, 3, 3, threshold=2.5)) == [False, False, False, True, False]


# ----------------------------------------------------------------- the whole frame

DAYS = ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04"]


class Built(NamedTuple):
    """A build's frames as lists of row tuples, NaN as None (as the store would hold them)."""

    rows: list[Any]
    source_rows: list[Any]
    scales: list[Any]
    bases: list[Any]
    first_day: str | None
    last_day: str | None


def _tuples(frame: pd.DataFrame) -> list[Any]:
    out = frame.astype(object)
    return list(out.where(out.notna(), None).itertuples(index=False))


def compute(
    totals: dict[tuple[str, int], int], counts: Iterable[NarrativeCount], narratives: list[str],
    params: IndexParams,
) -> Built:
    """compute_index on hand-written records."""
    result = compute_index(totals_frame(totals), counts_frame(counts), narratives, params)
    return Built(_tuples(result.rows), _tuples(result.source_rows), _tuples(result.scales),
                 _tuples(result.bases), result.first_day, result.last_day)


def hand_frame() -> tuple[dict[tuple[str, int], int], list[NarrativeCount]]:
    """Two sources over four days; day 2 is below the minimum everywhere, B skips day 3."""
    totals = {
        (DAYS[0], 1): 10, (DAYS[1], 1): 1, (DAYS[2], 1): 10, (DAYS[3], 1): 10,
        (DAYS[0], 2): 4, (DAYS[1], 2): 1, (DAYS[3], 2): 4,
    }  # fmt: skip
    counts = [
        NarrativeCount(DAYS[0], "x", 1, 1, 0.8, "m1"),
        NarrativeCount(DAYS[1], "x", 1, 1, 0.9, "m1"),
        NarrativeCount(DAYS[2], "x", 1, 3, 2.1, "m1"),
        NarrativeCount(DAYS[3], "x", 1, 2, 1.5, "m2"),
        NarrativeCount(DAYS[0], "x", 2, 1, 0.7, "m1"),
        NarrativeCount(DAYS[3], "x", 2, 2, 1.2, "m1"),
    ]
    return totals, counts


def test_index_on_a_hand_built_frame_matches_the_formulas() -> None:
    totals, counts = hand_frame()
    result = compute(totals, counts, ["x"], IndexParams(min_articles=2, z_min_periods=2))
    rows = {r.day: r for r in result.rows}
    assert list(rows) == DAYS

    # By hand: A shares .1 .3 .2 (sd .1), B shares .25 .5 (sd of the two).
    sd_a = statistics.stdev([0.1, 0.3, 0.2])
    sd_b = statistics.stdev([0.25, 0.5])
    y = [(0.1 / sd_a + 0.25 / sd_b) / 2, NAN, 0.3 / sd_a, (0.2 / sd_a + 0.5 / sd_b) / 2]
    base_mean = (y[0] + y[2] + y[3]) / 3
    expected_index = [100 * v / base_mean for v in y]
    assert same([r.scaled_mean or NAN for r in result.rows], y)
    assert same([r.index_value if r.index_value is not None else NAN for r in result.rows],
                expected_index)  # fmt: skip
    assert result.bases[0].base_mean == pytest.approx(base_mean)
    assert result.bases[0].base_days == 3

    assert rows[DAYS[0]].share == pytest.approx(100 * 2 / 14)
    assert rows[DAYS[2]].share == pytest.approx(30.0)
    assert rows[DAYS[3]].share == pytest.approx(100 * 4 / 14)
    assert rows[DAYS[0]].weighted_share == pytest.approx(100 * 1.5 / 14)
    assert rows[DAYS[3]].weighted_articles == pytest.approx(2.7)
    assert [r.sources for r in result.rows] == [2, 0, 1, 2]
    assert [r.articles for r in result.rows] == [2, 0, 3, 4]
    assert [r.total_articles for r in result.rows] == [14, 0, 10, 14]
    assert rows[DAYS[3]].model_version == "m1,m2"

    # Smoothing over available days; the missing day is carried by its neighbours.
    assert rows[DAYS[1]].smoothed_7d == pytest.approx(expected_index[0])
    assert rows[DAYS[3]].smoothed_7d == pytest.approx(100.0)  # all three base days
    prior = [expected_index[0], expected_index[2]]
    assert rows[DAYS[3]].zscore == pytest.approx(
        (expected_index[3] - statistics.mean(prior)) / statistics.stdev(prior)
    )

    scales = {s.feed_id: s for s in result.scales}
    assert scales[1].std_share == pytest.approx(sd_a)
    assert scales[2].std_share == pytest.approx(sd_b)
    assert scales[2].base_days == 2


def test_spike_needs_enough_member_articles() -> None:
    days = [f"2025-02-{d:02d}" for d in range(1, 11)]
    totals = {(d, 1): 20 for d in days}
    # Quiet at one article a day, then a jump to four: a spike only if 4 >= the minimum.
    counts = [NarrativeCount(d, "x", 1, 4 if d == days[-1] else 1 + i % 2, 1.0, "m")
              for i, d in enumerate(days)]  # fmt: skip
    loose = compute(totals, counts, ["x"], IndexParams(z_min_periods=5, spike_min_articles=4))
    strict = compute(totals, counts, ["x"], IndexParams(z_min_periods=5, spike_min_articles=5))
    assert [r.day for r in loose.rows if r.spike] == [days[-1]]
    assert loose.rows[-1].zscore is not None and loose.rows[-1].zscore > 2.5
    assert not any(r.spike for r in strict.rows)
    assert strict.rows[-1].zscore == loose.rows[-1].zscore


def test_missing_days_stay_missing() -> None:
    totals, counts = hand_frame()
    result = compute(totals, counts, ["x"], IndexParams(min_articles=2))
    day2 = next(r for r in result.rows if r.day == DAYS[1])
    assert day2.share is None and day2.index_value is None and day2.scaled_mean is None
    assert day2.zscore is None and not day2.spike
    # The below-minimum source-days keep their raw counts but no share.
    raw = [r for r in result.source_rows if r.day == DAYS[1]]
    assert {(r.feed_id, r.articles, r.total_articles, r.share) for r in raw} == {
        (1, 1, 1, None),
        (2, 0, 1, None),
    }


def test_a_day_with_no_articles_at_all_inside_the_range_is_a_missing_row() -> None:
    totals = {(DAYS[0], 1): 5, (DAYS[3], 1): 5}
    counts = [NarrativeCount(DAYS[0], "x", 1, 1, 1.0, "m"),
              NarrativeCount(DAYS[3], "x", 1, 2, 2.0, "m")]  # fmt: skip
    result = compute(totals, counts, ["x", "y"], IndexParams())
    assert [(r.narrative_id, r.day) for r in result.rows] == [
        (n, d) for n in ("x", "y") for d in DAYS
    ]
    assert [r.share for r in result.rows if r.narrative_id == "x"] == [20.0, None, None, 40.0]


def test_range_runs_between_first_and_last_day_any_source_reaches_the_minimum() -> None:
    totals = {("2024-12-01", 1): 1, (DAYS[0], 1): 3, (DAYS[2], 1): 3, ("2025-02-01", 1): 1}
    result = compute(totals, [], ["x"], IndexParams(min_articles=2))
    assert (result.first_day, result.last_day) == (DAYS[0], DAYS[2])
    assert len(result.rows) == 3
    # Stray source-days outside the range are still accounted for, without a share.
    assert {r.day for r in result.source_rows} == {d for d, _ in totals}


def test_scaling_makes_each_source_count_equally_whatever_its_volume() -> None:
    """Multiplying one source's shares by a constant does not move the index (EPU step 2)."""
    totals = {(d, f): 100 for d in DAYS for f in (1, 2)}
    base = [NarrativeCount(d, "x", 1, c, c, "m") for d, c in zip(DAYS, [2, 4, 6, 3], strict=True)]
    other = [NarrativeCount(d, "x", 2, c, c, "m") for d, c in zip(DAYS, [5, 1, 3, 3], strict=True)]
    loud = [NarrativeCount(d, "x", 2, 10 * c.articles, 1.0, "m") for d, c in zip(DAYS, other, strict=True)]
    quiet = compute(totals, base + other, ["x"], IndexParams())
    louder = compute(totals, base + loud, ["x"], IndexParams())
    assert same([r.index_value or 0 for r in quiet.rows], [r.index_value or 0 for r in louder.rows])
    assert not same([r.share or 0 for r in quiet.rows], [r.share or 0 for r in louder.rows])


def test_fixed_base_window_averages_100_over_that_window() -> None:
    totals, counts = hand_frame()
    params = IndexParams(min_articles=2, base_start=DAYS[2], base_end=DAYS[3])
    result = compute(totals, counts, ["x"], params)
    in_base = [r.index_value for r in result.rows if r.day >= DAYS[2]]
    assert statistics.mean(v for v in in_base if v is not None) == pytest.approx(100.0)
    assert (result.bases[0].base_start, result.bases[0].base_end) == (DAYS[2], DAYS[3])
    # Only A has two shares in the base window; B has one so it carries no scale.
    assert {s.feed_id: s.std_share is not None for s in result.scales} == {1: True, 2: False}


def test_base_window_outside_the_data_is_a_clear_error() -> None:
    totals, counts = hand_frame()
    with pytest.raises(ConfigError, match="base window"):
        compute(totals, counts, ["x"], IndexParams(base_start="2030-01-01"))


@pytest.mark.parametrize(
    "params",
    [
        IndexParams(min_articles=0),
        IndexParams(z_window=1),
        IndexParams(z_min_periods=40),
        IndexParams(smooth_days=0),
        IndexParams(base_start="2025-02-01", base_end="2025-01-01"),
        IndexParams(base_start="1/2/2025"),
        IndexParams(spike_min_articles=-1),
    ],
)
def test_unusable_parameters_raise_config_errors(params: IndexParams) -> None:
    with pytest.raises(ConfigError):
        params.validate()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.integers(0, 3)),
        min_size=3,
        max_size=20,
    )
)
def test_index_over_the_base_window_averages_100_or_is_missing(
    draws: list[tuple[int, int, int]],
) -> None:
    totals: dict[tuple[str, int], int] = {}
    counts: list[NarrativeCount] = []
    for i, (t1, t2, c) in enumerate(draws):
        day = f"2025-03-{i + 1:02d}"
        for feed, total in ((1, t1), (2, t2)):
            if total:
                totals[(day, feed)] = total
                counts.append(NarrativeCount(day, "x", feed, min(c, total), 0.5, "m"))
    result = compute(totals, counts, ["x"], IndexParams(min_articles=2))
    values = [r.index_value for r in result.rows if r.index_value is not None]
    if values:
        assert statistics.mean(values) == pytest.approx(100.0)
    for r in result.rows:
        assert (r.share is None) == (r.sources == 0)


# ------------------------------------------------------------------------ the store


def add_feed(db: sqlite_utils.Database, feed_id: int) -> None:
    db.conn.execute(
        "INSERT INTO feeds (id, name, url, created_at) VALUES (?, ?, ?, '2025-01-01T00:00:00Z')",
        (feed_id, f"feed{feed_id}", f"https://example.com/{feed_id}.xml"),
    )


def add_article(
    db: sqlite_utils.Database,
    article_id: int,
    feed_id: int,
    day: str,
    narratives: dict[str, tuple[float, bool]],
    *,
    duplicate_of: int | None = None,
    entities: Iterable[str] = (),
    version: str = "narr-v1",
) -> None:
    db.conn.execute(
        "INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash, "
        "duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (article_id, feed_id, f"k{article_id}", f"Story {article_id}", day, day + "T12:00:00Z",
         f"h{article_id}", duplicate_of),
    )  # fmt: skip
    for narrative, (score, member) in narratives.items():
        db.conn.execute(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version) VALUES (?, ?, ?, ?, 'test', ?)",
            (article_id, narrative, score, int(member), version),
        )
    for i, entity in enumerate(entities):
        for _ in range(2):  # twice: an entity named twice still counts the article once
            db.conn.execute(
                "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
                "pipeline_version) VALUES (?, ?, ?, 'ORG', ?, ?, 't')",
                (article_id, entity, entity, i, i + 1),
            )


@pytest.fixture
def small_db(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """Two feeds over 2025-01-01..05: the 3rd is below the minimum, one duplicate article."""
    for n in ("ai", "crypto"):
        db.conn.execute("INSERT INTO narratives (id, label) VALUES (?, ?)", (n, n.title()))
    for e in ("nvidia", "coinbase"):
        db.conn.execute("INSERT INTO entities (id, name, type) VALUES (?, ?, 'company')", (e, e))
    add_feed(db, 1)
    add_feed(db, 2)
    ai, crypto = "ai", "crypto"
    none: dict[str, tuple[float, bool]] = {}
    plan: list[tuple[int, str, dict[str, tuple[float, bool]], list[str]]] = [
        (1, "2025-01-01", {ai: (0.9, True), crypto: (0.1, False)}, ["nvidia"]),
        (1, "2025-01-01", {ai: (0.2, False), crypto: (0.8, True)}, ["coinbase", "nvidia"]),
        (1, "2025-01-01", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (2, "2025-01-01", {ai: (0.7, True), crypto: (0.2, False)}, ["nvidia"]),
        (2, "2025-01-01", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (1, "2025-01-02", {ai: (0.6, True), crypto: (0.1, False)}, ["nvidia"]),
        (1, "2025-01-02", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (2, "2025-01-02", {ai: (0.8, True), crypto: (0.9, True)}, ["coinbase"]),
        (2, "2025-01-02", {ai: (0.9, True), crypto: (0.1, False)}, []),
        (2, "2025-01-02", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (1, "2025-01-03", {ai: (0.9, True), crypto: (0.1, False)}, ["nvidia"]),
        (2, "2025-01-03", {ai: (0.9, True), crypto: (0.1, False)}, []),
        (1, "2025-01-04", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (1, "2025-01-04", {ai: (0.1, False), crypto: (0.7, True)}, ["coinbase"]),
        (2, "2025-01-04", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (2, "2025-01-04", {ai: (0.5, True), crypto: (0.1, False)}, []),
        (1, "2025-01-05", {ai: (0.9, True), crypto: (0.1, False)}, ["nvidia"]),
        (1, "2025-01-05", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (1, "2025-01-05", {ai: (0.1, False), crypto: (0.1, False)}, []),
        (1, "2025-01-05", none, []),  # ingested but never classified: counts in T only
    ]
    for i, (feed, day, narr, ents) in enumerate(plan, start=1):
        add_article(db, i, feed, day, narr, entities=ents)
    # A duplicate of article 1: member of ai, names nvidia; must not count anywhere.
    add_article(db, 100, 1, "2025-01-01", {ai: (0.9, True)}, duplicate_of=1, entities=["nvidia"])
    return db


def table(db: sqlite_utils.Database, name: str, order: str) -> list[dict[str, Any]]:
    rows = list(db.query(f"SELECT * FROM {name} ORDER BY {order}"))
    for row in rows:
        row.pop("computed_at", None)
    return rows


def snapshot(db: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
    return {
        "narrative_index": table(db, "narrative_index", "narrative_id, day"),
        "narrative_source_daily": table(db, "narrative_source_daily", "narrative_id, day, feed_id"),
        "narrative_source_scale": table(db, "narrative_source_scale", "narrative_id, feed_id"),
        "narrative_index_base": table(db, "narrative_index_base", "narrative_id"),
        "narrative_entity_daily": table(db, "narrative_entity_daily", "narrative_id, day, entity_id"),
    }


def assert_same_tables(a: dict[str, list[dict[str, Any]]], b: dict[str, list[dict[str, Any]]]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert len(a[name]) == len(b[name]), name
        for ra, rb in zip(a[name], b[name], strict=True):
            assert ra.keys() == rb.keys()
            for key in ra:
                if isinstance(ra[key], float) and isinstance(rb[key], float):
                    assert ra[key] == pytest.approx(rb[key], rel=1e-12), (name, key, ra)
                else:
                    assert ra[key] == rb[key], (name, key, ra)


def test_build_index_writes_a_row_per_narrative_per_day(small_db: sqlite_utils.Database) -> None:
    summary = build_index(small_db, Settings())
    assert (summary.first_day, summary.last_day, summary.days) == ("2025-01-01", "2025-01-05", 5)
    assert summary.rows == 10 and summary.narratives == 2 and summary.full
    rows = {(r["narrative_id"], r["day"]): r for r in small_db.query("SELECT * FROM narrative_index")}
    assert len(rows) == 10
    first = rows[("ai", "2025-01-01")]
    # Duplicate excluded: feed 1 has 1 of 3, feed 2 has 1 of 2.
    assert (first["articles"], first["total_articles"], first["sources"]) == (2, 5, 2)
    assert first["share"] == pytest.approx(40.0)
    assert first["weighted_articles"] == pytest.approx(1.6)
    assert first["model_version"] == "narr-v1"
    # 2025-01-03: one article per feed, below the minimum of 2: missing, not zero.
    third = rows[("ai", "2025-01-03")]
    assert third["share"] is None and third["index_value"] is None and third["sources"] == 0
    # The unclassified article counts in the denominator of its day.
    fifth = rows[("ai", "2025-01-05")]
    assert (fifth["articles"], fifth["total_articles"]) == (1, 4)
    assert fifth["share"] == pytest.approx(25.0)
    scored = small_db.execute(
        "SELECT scored_articles FROM narrative_source_daily "
        "WHERE day = '2025-01-05' AND narrative_id = 'ai' AND feed_id = 1"
    ).fetchone()[0]
    assert scored == 3
    values = [r["index_value"] for r in rows.values() if r["narrative_id"] == "ai"]
    assert statistics.mean(v for v in values if v is not None) == pytest.approx(100.0)


def test_stored_intermediates_reproduce_the_index(small_db: sqlite_utils.Database) -> None:
    build_index(small_db, Settings())
    stored = {
        (r["day"], r["narrative_id"]): r["index_value"]
        for r in small_db.query("SELECT * FROM narrative_index WHERE index_value IS NOT NULL")
    }
    again = {(d, n): v for d, n, v in small_db.execute(REPRODUCE_SQL).fetchall()}
    assert stored.keys() == again.keys() and len(stored) >= 6
    for key, value in stored.items():
        assert again[key] == pytest.approx(value)


def test_entity_daily_counts_distinct_member_articles(small_db: sqlite_utils.Database) -> None:
    build_index(small_db, Settings())
    got = {
        (r["day"], r["narrative_id"], r["entity_id"]): r["articles"]
        for r in small_db.query("SELECT * FROM narrative_entity_daily")
    }
    assert got == {
        ("2025-01-01", "ai", "nvidia"): 2,  # articles 1 and 4; duplicate 100 and non-member 2 out
        ("2025-01-01", "crypto", "coinbase"): 1,
        ("2025-01-01", "crypto", "nvidia"): 1,
        ("2025-01-02", "ai", "nvidia"): 1,
        ("2025-01-02", "ai", "coinbase"): 1,
        ("2025-01-02", "crypto", "coinbase"): 1,
        ("2025-01-03", "ai", "nvidia"): 1,
        ("2025-01-04", "crypto", "coinbase"): 1,
        ("2025-01-05", "ai", "nvidia"): 1,
    }


def test_full_recount_applies_only_the_differences_to_entity_counts(
    small_db: sqlite_utils.Database,
) -> None:
    build_index(small_db, Settings())
    # Article 14 leaves crypto (its coinbase row must go), article 13 names nvidia and
    # joins ai (a new row), article 4 is now a duplicate (nvidia on day 1 drops to 1).
    small_db.conn.execute(
        "UPDATE article_narratives SET is_member = 0 WHERE article_id = 14 AND narrative_id = 'crypto'"
    )
    small_db.conn.execute(
        "UPDATE article_narratives SET is_member = 1 WHERE article_id = 13 AND narrative_id = 'ai'"
    )
    small_db.conn.execute(
        "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", pipeline_version) "
        "VALUES (13, 'nvidia', 'Nvidia', 'ORG', 0, 6, 't')"
    )
    small_db.conn.execute("UPDATE articles SET duplicate_of = 1 WHERE id = 4")
    summary = build_index(small_db, Settings())
    got = {
        (r["day"], r["narrative_id"], r["entity_id"]): r["articles"]
        for r in small_db.query("SELECT * FROM narrative_entity_daily")
    }
    assert got[("2025-01-01", "ai", "nvidia")] == 1
    assert got[("2025-01-04", "ai", "nvidia")] == 1
    assert ("2025-01-04", "crypto", "coinbase") not in got
    assert summary.entity_rows == len(got) == 9


def test_recompute_is_idempotent(small_db: sqlite_utils.Database) -> None:
    build_index(small_db, Settings())
    first = snapshot(small_db)
    build_index(small_db, Settings())
    assert_same_tables(first, snapshot(small_db))
    assert first == snapshot(small_db)  # bit for bit, not just close


def test_incremental_after_late_articles_equals_full_recompute(
    small_db: sqlite_utils.Database,
) -> None:
    build_index(small_db, Settings())
    before = snapshot(small_db)
    # Late articles revise the last two days and add a new one.
    add_article(small_db, 50, 2, "2025-01-04", {"ai": (0.95, True), "crypto": (0.1, False)},
                entities=["nvidia"], version="narr-v2")  # fmt: skip
    add_article(small_db, 51, 1, "2025-01-05", {"ai": (0.1, False), "crypto": (0.8, True)})
    add_article(small_db, 52, 1, "2025-01-06", {"ai": (0.9, True), "crypto": (0.1, False)})
    add_article(small_db, 53, 1, "2025-01-06", {"ai": (0.1, False), "crypto": (0.1, False)})
    incremental = build_index(small_db, Settings(), since="2025-01-04")
    assert not incremental.full and incremental.last_day == "2025-01-06"
    after_incremental = snapshot(small_db)
    assert after_incremental != before
    build_index(small_db, Settings())
    assert_same_tables(after_incremental, snapshot(small_db))
    revised = small_db.execute(
        "SELECT articles, model_version FROM narrative_index WHERE narrative_id = 'ai' "
        "AND day = '2025-01-04'"
    ).fetchone()
    assert revised == (2, "narr-v1,narr-v2")


def test_since_falls_back_to_full_when_a_narrative_has_no_stored_counts(
    small_db: sqlite_utils.Database,
) -> None:
    build_index(small_db, Settings())
    small_db.conn.execute("INSERT INTO narratives (id, label) VALUES ('fed', 'Fed')")
    add_article(small_db, 60, 1, "2025-01-01", {"fed": (0.9, True)})
    summary = build_index(small_db, Settings(), since="2025-01-05")
    assert summary.full
    share = small_db.execute(
        "SELECT share FROM narrative_index WHERE narrative_id = 'fed' AND day = '2025-01-01'"
    ).fetchone()[0]
    assert share == pytest.approx(100 * 1 / 6)


def test_settings_change_the_minimum(small_db: sqlite_utils.Database) -> None:
    build_index(small_db, Settings(index_min_articles=1))
    third = small_db.execute(
        "SELECT share, sources FROM narrative_index WHERE narrative_id = 'ai' AND day = '2025-01-03'"
    ).fetchone()
    assert third == (100.0, 2)
    params = small_db.execute("SELECT min_articles FROM narrative_index_base").fetchall()
    assert params == [(1,), (1,)]


def test_empty_database_builds_nothing(db: sqlite_utils.Database) -> None:
    summary = build_index(db, Settings())
    assert summary.rows == 0 and summary.days == 0 and summary.first_day is None


def test_bad_since_is_a_config_error(small_db: sqlite_utils.Database) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        build_index(small_db, Settings(), since="yesterday")


def test_cli_index_command(small_db: sqlite_utils.Database, tmp_path: Path) -> None:
    from tracker.base.db import open_db
    from tracker.cli import cli

    path = tmp_path / "t.db"
    disk = open_db(path)
    small_db.conn.backup(disk.conn)
    disk.conn.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(path), "index", "--min-articles", "1"])
    assert result.exit_code == 0, result.output
    assert "2025-01-01..2025-01-05" in result.output
    check = open_db(path)
    assert check.execute("SELECT COUNT(*) FROM narrative_index").fetchone()[0] == 10
    check.conn.close()
    bad = runner.invoke(cli, ["--db", str(path), "index", "--since", "01/02/2025"])
    assert bad.exit_code == 2
    assert "YYYY-MM-DD" in bad.output


def test_default_settings_flag_the_bundled_sample_spikes(db_path: Path) -> None:
    """The sample feeds were written with an AI rise in W46 and a crypto spike in W47.

    Membership comes from the feeds' own ``intended_labels.csv`` (the author's intent),
    so this checks the index defaults, not the classifier.
    """
    import csv

    from tracker.base.db import open_db, transaction
    from tracker.base.resources import sample_feeds

    SAMPLE_FEEDS = sample_feeds()
    from tracker.ingest.feeds import load_feeds_config
    from tracker.ingest.runner import ingest_feeds

    settings = Settings(db_path=db_path)
    db = open_db(db_path)
    ingest_feeds(db, settings, load_feeds_config(SAMPLE_FEEDS), force=True)
    with (SAMPLE_FEEDS.parent / "intended_labels.csv").open(encoding="utf-8") as fh:
        intended = {(r["feed"], r["title"]): r["written_for"].split("+") for r in csv.DictReader(fh)}
    names = {"ai": "ai_productivity", "crypto": "crypto_legitimacy"}
    rows = db.execute(
        "SELECT a.id, f.name, a.title FROM articles a JOIN feeds f ON f.id = a.feed_id "
        "WHERE a.duplicate_of IS NULL"
    ).fetchall()
    with transaction(db.conn):
        for narrative in names.values():
            db.conn.execute("INSERT INTO narratives (id, label) VALUES (?, ?)", (narrative, narrative))
        for article_id, feed, title in rows:
            labels = intended.get((feed, title), [])
            for short, narrative in names.items():
                db.conn.execute(
                    "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, "
                    "method, model_version) VALUES (?, ?, ?, ?, 'intended', 'intended')",
                    (article_id, narrative, 0.9 if short in labels else 0.1, int(short in labels)),
                )
    summary = build_index(db, settings)
    assert (summary.first_day, summary.last_day, summary.missing_days) == (
        "2026-11-02", "2026-11-22", 0,
    )  # fmt: skip
    spikes = db.execute(
        "SELECT narrative_id, day FROM narrative_index WHERE spike = 1 ORDER BY 1, 2"
    ).fetchall()
    ai_days = {d for n, d in spikes if n == "ai_productivity"}
    crypto_days = {d for n, d in spikes if n == "crypto_legitimacy"}
    assert ai_days and all("2026-11-09" <= d <= "2026-11-15" for d in ai_days)  # W46
    assert crypto_days and all("2026-11-16" <= d <= "2026-11-22" for d in crypto_days)  # W47
    db.conn.close()
