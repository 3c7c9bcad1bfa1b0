"""tracker validate: the event calendar's schema, the event study on planted responses, the CLI."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlite_utils
from click.testing import CliRunner

from tests.index.test_index import DAYS, add_article, add_feed, on_disk
from tracker.base.errors import ConfigError
from tracker.base.settings import Settings
from tracker.cli import cli
from tracker.index.events import Calendar, Event, default_events_path, load_events
from tracker.index.store import build_index
from tracker.index.study import StudyParams, percentile_of, response_ratio, run_study
from tracker.index.validate import current_hit_rates, to_markdown, validate


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "events.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_calendar_is_valid() -> None:
    calendar = load_events(default_events_path(), ["ai_productivity", "crypto_legitimacy",
                                                   "fed_easing_liquidity", "ai_to_crypto_rotation"])  # fmt: skip
    assert len(calendar.events) == 121
    assert {e.narrative for e in calendar.events} == {
        "ai_productivity", "crypto_legitimacy", "fed_easing_liquidity", "ai_to_crypto_rotation", "none",
    }  # fmt: skip
    assert all(e.source or e.source_note for e in calendar.events)


def test_a_minimal_user_calendar_is_enough(tmp_path: Path) -> None:
    path = write(tmp_path, "events:\n  - {id: a, date: 2025-03-10, narrative: x}\n"
                           "  - {id: b, date: '2025-03-12', narrative: none}\n")
    calendar = load_events(path, ["x"])
    assert [e.date.isoformat() for e in calendar.events] == ["2025-03-10", "2025-03-12"]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("events:\n  - {id: a, date: 2025-03-10, narative: x}\n", r"events\[0\] \(id a\)\.narative: Extra inputs"),
        ("events:\n  - {id: a, date: 2025-13-10, narrative: x}\n", "not a real day"),
        ("events:\n  - {id: a, date: '2025-3-10', narrative: x}\n", r"events\[0\] \(id a\)\.date"),
        ("events:\n  - {id: a, date: 2025-03-10}\n", "narrative: Field required"),
        ("events:\n  - {id: a, date: 2025-03-10, narrative: x, expected_stance: 2}\n", "expected_stance"),
        ("events:\n  - {id: a, date: 2025-03-10, narrative: x}\n  - {id: a, date: 2025-03-11, narrative: x}\n",
         "appears twice"),
        ("events:\n  - {id: a, date: 2025-03-10, narrative: y}\n", "not defined; use one of"),
        ("events: []\n", "at least 1"),
        ("- just a list\n", "expected a mapping"),
        ("events: [unclosed\n", "Fix the YAML"),
    ],
)  # fmt: skip
def test_bad_calendars_are_config_errors_naming_the_entry(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_events(write(tmp_path, text), ["x"])


def test_a_missing_calendar_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_events(tmp_path / "nope.yaml")


def test_response_ratio_and_percentile() -> None:
    ratio = response_ratio(np.array([9.5]), np.array([5.0]), np.array([19.5]), np.array([20.0]))
    assert ratio[0] == pytest.approx((10 / 5) / (20 / 20))
    null = np.array([0.5, 1.0, 1.0, 2.0])
    assert percentile_of(1.0, null) == pytest.approx((1 + 0.5 * 2) / 4)


def planted_series(seed: int = 1) -> tuple[pd.DataFrame, Calendar]:
    """Two narratives over 400 days of Poisson noise; a's events triple its members for three days."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2025-01-01", periods=400).strftime("%Y-%m-%d")
    event_days = [days[i] for i in range(40, 380, 30)]
    rows = []
    for narrative in ("a", "b"):
        bump = np.ones(len(days))
        if narrative == "a":
            for d in event_days:
                i = list(days).index(d)
                bump[i:i + 3] = 3.0
        o = rng.poisson(8.0 * bump)
        rows += [(narrative, d, int(o[i]), 8.0, True) for i, d in enumerate(days)]
    daily = pd.DataFrame(rows, columns=["narrative_id", "day", "articles", "expected_articles", "covered"])
    calendar = Calendar(events=[Event(id=f"e{i}", date=d, narrative="a") for i, d in enumerate(event_days)]
                        + [Event(id="control", date=days[200], narrative="none")])  # fmt: skip
    return daily, calendar


def test_planted_responses_hit_and_their_placebo_does_not() -> None:
    daily, calendar = planted_series()
    study = run_study(daily, calendar, ["a", "b"], StudyParams(null_days=300))
    rates = {r.narrative: r for r in study.rates}
    assert rates["a"].ranked == 12 and rates["a"].hit_rate == 1.0
    assert rates["a"].placebo_ranked == 12 and rates["a"].placebo_rate is not None
    assert rates["a"].placebo_rate <= 0.34
    assert rates["a"].p_value is not None and rates["a"].p_value < 1e-3
    assert rates["b"].events == 0 and rates["b"].hit_rate is None
    assert study.matrix["a"]["a"] == 1.0 and study.matrix["none"]["a"] is not None
    # Reproducible: the null is seeded.
    again = run_study(daily, calendar, ["a", "b"], StudyParams(null_days=300))
    assert [r.percentile for r in again.results] == [r.percentile for r in study.results]


def test_events_without_coverage_are_listed_not_ranked() -> None:
    daily, calendar = planted_series()
    daily.loc[(daily["narrative_id"] == "a") & (daily["day"] < "2025-03-01"), "covered"] = False
    study = run_study(daily, calendar, ["a", "b"])
    first = next(r for r in study.results if r.event_id == "e0" and r.series == "a")
    assert not first.defined and first.ratio is None and not first.hit
    assert next(r for r in study.rates if r.narrative == "a").ranked == 11


@pytest.fixture
def indexed(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """Four weeks, two feeds; crypto rises around 2025-03-19."""
    rng = random.Random(3)
    for n in ("ai", "crypto"):
        db.conn.execute("INSERT INTO narratives (id, label) VALUES (?, ?)", (n, n))
    add_feed(db, 1)
    add_feed(db, 2)
    aid = 1
    for day in DAYS:
        for feed in (1, 2):
            for _ in range(15):
                rising = "2025-03-19" <= day <= "2025-03-20"
                crypto = rng.random() < (0.9 if rising else 0.15)
                add_article(db, aid, feed, day, {"ai": (0.5, rng.random() < 0.2), "crypto": (0.9, crypto)})
                aid += 1
    build_index(db, Settings(), env={})
    return db


def test_validate_on_the_store_lists_events_and_spikes(indexed: sqlite_utils.Database, tmp_path: Path) -> None:
    path = write(tmp_path, "events:\n  - {id: wave, date: 2025-03-19, narrative: crypto, title: A wave}\n"
                           "  - {id: calm, date: 2025-03-25, narrative: ai}\n")  # fmt: skip
    result = validate(indexed.conn, path, params=StudyParams(null_days=50, base_window=(-12, -4)))
    wave = next(r for r in result.study.results if r.event_id == "wave" and not r.placebo)
    assert wave.defined and wave.ratio is not None and wave.ratio > 2 and wave.hit
    assert any(s.narrative_id == "crypto" and s.day in ("2025-03-19", "2025-03-20") for s in result.spikes)
    spike = result.spikes[0]
    assert 0 < len(spike.headlines) <= 5 and spike.headlines[0].title.startswith("Story")
    md = to_markdown(result)
    assert "## Hit rates" in md and "| wave | 2025-03-19 | crypto |" in md and "### crypto 2025-03-19" in md
    rates = current_hit_rates(indexed.conn, path)
    assert {r.narrative for r in rates} == {"ai", "crypto"}


def test_cli_validate_writes_the_summary(indexed: sqlite_utils.Database, tmp_path: Path) -> None:
    db_path = on_disk(indexed, tmp_path)
    events = write(tmp_path, "events:\n  - {id: wave, date: 2025-03-19, narrative: crypto}\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "validate", "--events", str(events),
                                      "--out", str(out), "--null-days", "50"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "crypto:" in result.output and "spike" in result.output
    written = list(out.glob("validation-*.md"))
    assert len(written) == 1 and "# Index validation" in written[0].read_text(encoding="utf-8")
    bad = CliRunner().invoke(cli, ["--db", str(db_path), "validate", "--events", str(tmp_path / "none.yaml")])
    assert bad.exit_code == 2 and "not found" in bad.output


def test_cli_validate_without_an_index_says_what_to_run(db: sqlite_utils.Database, tmp_path: Path) -> None:
    db.conn.execute("INSERT INTO narratives (id, label) VALUES ('ai', 'ai')")
    db_path = on_disk(db, tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "validate", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "tracker index" in result.output
