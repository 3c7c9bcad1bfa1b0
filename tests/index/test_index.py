"""The index in the store: counting, incremental builds, stored parameters, the CLI."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner

from tracker.base.db import open_db, transaction
from tracker.base.errors import ConfigError
from tracker.base.settings import Settings
from tracker.cli import cli
from tracker.index.store import REPRODUCE_SQL, build_index

DAYS = [f"2025-03-{d:02d}" for d in range(3, 31)]  # four ISO weeks


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
    stance: dict[str, float | None] | None = None,
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
            "model_version, stance) VALUES (?, ?, ?, ?, 'test', ?, ?)",
            (article_id, narrative, score, int(member), version, (stance or {}).get(narrative)),
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




@pytest.fixture
def store_db(db: sqlite_utils.Database) -> sqlite_utils.Database:
    """Three feeds over four weeks, about 12 articles a day each; a crypto wave in week 3 from
    two feeds; stances (some unknown); a stale 2013 item; a duplicate; unscored articles."""
    rng = random.Random(5)
    for n in ("ai", "crypto"):
        db.conn.execute("INSERT INTO narratives (id, label) VALUES (?, ?)", (n, n.title()))
    for e in ("nvidia", "coinbase"):
        db.conn.execute("INSERT INTO entities (id, name, type) VALUES (?, ?, 'company')", (e, e))
    for f in (1, 2, 3):
        add_feed(db, f)
    next_id = 1
    for i, day in enumerate(DAYS):
        for feed in (1, 2, 3):
            wave = i == 16 and feed in (1, 2)
            for _ in range(12 + (10 if wave else 0)):
                ai = rng.random() < 0.25
                crypto = wave or rng.random() < (0.3 if feed == 3 else 0.1)
                add_article(db, next_id, feed, day,
                            {"ai": (0.9 if ai else 0.1, ai), "crypto": (0.8 if crypto else 0.2, crypto)},
                            entities=["coinbase"] if crypto else ["nvidia"] if ai else [],
                            stance={"crypto": rng.choice([0.5, -0.5, None]) if crypto else None})  # fmt: skip
                next_id += 1
    add_article(db, 5000, 1, "2013-06-01", {"ai": (0.9, True), "crypto": (0.1, False)})  # stale item
    add_article(db, 5001, 1, DAYS[0], {"ai": (0.9, True), "crypto": (0.1, False)}, duplicate_of=1)
    for k in range(3):  # ingested, not enriched yet: in articles, not in scored articles
        add_article(db, 5002 + k, 2, DAYS[2], {})
    return db


def snapshot(db: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
    """Every stored index table without computed_at / set_at."""
    out = {}
    for name, order in (("narrative_index", "narrative_id, day"), ("source_daily", "day, feed_id"),
                        ("narrative_source_daily", "narrative_id, day, feed_id"),
                        ("narrative_source_rate", "narrative_id, feed_id"), ("coverage_daily", "day"),
                        ("narrative_index_fit", "narrative_id"), ("narrative_weekly", "narrative_id, week"),
                        ("narrative_entity_daily", "narrative_id, day, entity_id")):  # fmt: skip
        rows = list(db.query(f"SELECT * FROM {name} ORDER BY {order}"))
        for row in rows:
            row.pop("computed_at", None)
        out[name] = rows
    return out


def test_build_index_writes_a_row_per_narrative_per_covered_range(store_db: sqlite_utils.Database) -> None:
    summary = build_index(store_db, Settings())
    assert (summary.first_day, summary.last_day, summary.days) == (DAYS[0], DAYS[-1], 28)
    assert summary.rows == 56 and summary.narratives == 2 and summary.full
    assert summary.articles == 3 * 12 * 28 + 20 + 1 + 3  # stale item and unscored ones included
    assert summary.scored_articles == summary.articles - 3
    rows = {(r["narrative_id"], r["day"]): r for r in store_db.query("SELECT * FROM narrative_index")}
    # Counts agree with the articles: members of non-duplicates that day.
    for (narrative, day), row in rows.items():
        members = store_db.execute(
            "SELECT COUNT(*) FROM articles a JOIN article_narratives an ON an.article_id = a.id "
            "WHERE a.day = ? AND an.narrative_id = ? AND an.is_member = 1 AND a.duplicate_of IS NULL",
            (day, narrative),
        ).fetchone()[0]
        assert row["articles"] == members
        assert row["covered"] == 1
        assert row["share"] == pytest.approx(100 * members / row["total_articles"])
    assert rows[("ai", DAYS[2])]["total_articles"] == 36  # three unscored articles left out
    assert ("ai", "2013-06-01") not in rows  # a stale item does not start the index
    coverage = {r["day"]: r for r in store_db.query("SELECT * FROM coverage_daily")}
    assert coverage["2013-06-01"]["covered"] == 0 and coverage[DAYS[2]]["articles"] == 39
    # The crypto wave: two feeds rose, a spike with its interval above the prior.
    wave = rows[("crypto", DAYS[16])]
    assert wave["spike"] == 1 and wave["rising_sources"] >= 2 and wave["p_value"] < 0.001
    assert wave["index_low"] < wave["index_value"] < wave["index_high"]
    assert wave["index_value"] > wave["prior_index"]
    assert summary.spikes == sum(r["spike"] for r in rows.values())
    fit = {r["narrative_id"]: r for r in store_db.query("SELECT * FROM narrative_index_fit")}
    assert fit["crypto"]["first_day"] == DAYS[0] and fit["crypto"]["prior_strength"] > 0


def test_net_stance_in_the_store_skips_unknown_stance(store_db: sqlite_utils.Database) -> None:
    build_index(store_db, Settings())
    day = DAYS[16]
    known = store_db.execute(
        "SELECT COUNT(an.stance), AVG(an.stance), COUNT(*) FROM articles a "
        "JOIN article_narratives an ON an.article_id = a.id WHERE a.day = ? "
        "AND an.narrative_id = 'crypto' AND an.is_member = 1 AND a.duplicate_of IS NULL",
        (day,),
    ).fetchone()
    row = store_db.execute(
        "SELECT stance_articles, net_stance FROM narrative_index WHERE narrative_id = 'crypto' AND day = ?",
        (day,),
    ).fetchone()
    assert known[0] < known[2]  # some members have no stance ...
    assert row == (known[0], pytest.approx(known[1]))  # ... and are left out, not counted as 0


def test_stored_figures_reproduce_the_index(store_db: sqlite_utils.Database) -> None:
    build_index(store_db, Settings())
    stored = {
        (r["day"], r["narrative_id"]): (r["expected_articles"], r["index_value"])
        for r in store_db.query("SELECT * FROM narrative_index WHERE index_value IS NOT NULL")
    }
    again = {(d, n): (e, v) for d, n, e, v in store_db.execute(REPRODUCE_SQL).fetchall()}
    assert stored.keys() == again.keys() and len(stored) >= 28
    for key, (expected, value) in stored.items():
        assert again[key][0] == pytest.approx(expected, rel=1e-9)
        assert again[key][1] == pytest.approx(value, rel=1e-9)


def test_recompute_is_idempotent(store_db: sqlite_utils.Database) -> None:
    build_index(store_db, Settings())
    first = snapshot(store_db)
    build_index(store_db, Settings())
    assert first == snapshot(store_db)  # bit for bit


def test_since_after_late_articles_equals_a_full_recompute(store_db: sqlite_utils.Database) -> None:
    build_index(store_db, Settings())
    before = snapshot(store_db)
    # Late articles revise the last two days and add a new one.
    late = {"ai": (0.95, True), "crypto": (0.7, True)}
    for k in range(5):
        add_article(store_db, 6000 + k, 1, DAYS[-2], late, entities=["nvidia"], version="narr-v2",
                    stance={"crypto": 1.0})  # fmt: skip
    quiet = {"ai": (0.1, False), "crypto": (0.1, False)}
    for k in range(15):
        add_article(store_db, 6100 + k, 2, "2025-03-31", late if k < 4 else quiet)
    incremental = build_index(store_db, Settings(), since=DAYS[-2])
    assert not incremental.full and incremental.last_day == "2025-03-31"
    after_incremental = snapshot(store_db)
    assert after_incremental != before
    build_index(store_db, Settings())
    assert after_incremental == snapshot(store_db)  # bit for bit
    revised = store_db.execute(
        "SELECT model_version FROM narrative_index WHERE narrative_id = 'ai' AND day = ?", (DAYS[-2],)
    ).fetchone()
    assert revised == ("narr-v1,narr-v2",)


def test_since_falls_back_to_full_when_a_narrative_is_new(store_db: sqlite_utils.Database) -> None:
    build_index(store_db, Settings())
    store_db.conn.execute("INSERT INTO narratives (id, label) VALUES ('fed', 'Fed')")
    store_db.conn.execute(
        "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, model_version) "
        "VALUES (1, 'fed', 0.9, 1, 'test', 'v')"
    )
    summary = build_index(store_db, Settings(), since=DAYS[-1])
    assert summary.full
    articles = store_db.execute(
        "SELECT articles FROM narrative_index WHERE narrative_id = 'fed' AND day = ?", (DAYS[0],)
    ).fetchone()[0]
    assert articles == 1


def test_parameters_are_stored_and_reused_until_changed(store_db: sqlite_utils.Database) -> None:
    build_index(store_db, Settings(index_spike_p=0.01, index_base_start=DAYS[7]), env={})
    # A later build without options (tracker run, tracker index --since) keeps them.
    again = build_index(store_db, Settings(), since=DAYS[-1], env={})
    assert again.params["spike_p"] == 0.01 and again.params["base_start"] == DAYS[7]
    fit = store_db.execute("SELECT base_start, params FROM narrative_index_fit LIMIT 1").fetchone()
    assert fit[0] == DAYS[7] and '"spike_p": 0.01' in fit[1]
    # The environment overrides the stored value, and the option overrides both.
    env = build_index(store_db, Settings(), env={"TRACKER_INDEX_SPIKE_P": "0.002"})
    assert env.params["spike_p"] == 0.002
    cli_value = build_index(store_db, Settings(index_spike_p=0.0001), env={"TRACKER_INDEX_SPIKE_P": "0.002"})
    assert cli_value.params["spike_p"] == 0.0001
    assert build_index(store_db, Settings(), env={}).params["spike_p"] == 0.0001
    reset = build_index(store_db, Settings(), env={}, reset_params=True)
    assert reset.params["spike_p"] == 0.001 and reset.params["base_start"] is None


@pytest.mark.parametrize(
    ("env", "match"),
    [
        ({"TRACKER_INDEX_SPIKE_P": "abc"}, "must be a number"),
        ({"TRACKER_INDEX_SPIKE_P": "nan"}, "finite"),
        ({"TRACKER_INDEX_MIN_ARTICLES": "2.5"}, "whole number"),
        ({"TRACKER_INDEX_SPIKE_PEE": "0.1"}, "Unknown environment variable"),
        ({"TRACKER_INDEX_INTERVAL": "1.5"}, "between 0 and 1"),
    ],
)
def test_bad_environment_values_are_config_errors(
    store_db: sqlite_utils.Database, env: dict[str, str], match: str
) -> None:
    with pytest.raises(ConfigError, match=match):
        build_index(store_db, Settings(), env=env)


def test_empty_database_builds_nothing(db: sqlite_utils.Database) -> None:
    summary = build_index(db, Settings())
    assert summary.rows == 0 and summary.days == 0 and summary.first_day is None


def test_bad_since_is_a_config_error(store_db: sqlite_utils.Database) -> None:
    with pytest.raises(ConfigError, match="YYYY-MM-DD"):
        build_index(store_db, Settings(), since="yesterday")


def on_disk(db: sqlite_utils.Database, tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    disk = open_db(path)
    db.conn.commit()
    db.conn.backup(disk.conn)
    disk.conn.close()
    return path


def test_cli_index_command(store_db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = on_disk(store_db, tmp_path)
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(path), "index", "--spike-min-sources", "2"],
                           env={"TRACKER_INDEX_SPIKE_P": ""})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{DAYS[0]}..{DAYS[-1]}" in result.output and "1 spike." in result.output
    assert "3 of" in result.output and "tracker enrich" in result.output  # the unscored ones
    bad = runner.invoke(cli, ["--db", str(path), "index", "--since", "01/02/2025"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


@pytest.mark.parametrize(
    "args",
    [["--spike-p", "nan"], ["--spike-p", "inf"], ["--min-expected", "nan"], ["--interval", "1.5"],
     ["--spike-p", "0"], ["--prior-strength", "-1"], ["--prior-strength", "lots"], ["--min-articles", "0"],
     ["--source-prior", "-inf"]],
)  # fmt: skip
def test_cli_refuses_invalid_numbers(store_db: sqlite_utils.Database, tmp_path: Path, args: list[str]) -> None:
    path = on_disk(store_db, tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(path), "index", *args])
    assert result.exit_code == 2, result.output
    assert "Error" in result.output and "Traceback" not in result.output
    check = open_db(path)
    assert check.execute("SELECT COUNT(*) FROM index_settings").fetchone()[0] == 0  # nothing stored
    check.conn.close()


def test_cli_index_on_an_unenriched_database_says_to_enrich(db: sqlite_utils.Database, tmp_path: Path) -> None:
    add_feed(db, 1)
    for i, day in enumerate(DAYS):
        add_article(db, i + 1, 1, day, {})
    path = on_disk(db, tmp_path)
    result = CliRunner().invoke(cli, ["--db", str(path), "index"])
    assert result.exit_code == 2
    assert "tracker enrich" in result.output and "28 articles" in result.output


def test_sample_feeds_designed_rises_are_the_most_surprising_days(db_path: Path) -> None:
    """The sample feeds were written with an AI rise in W46 and a crypto wave in W47.

    Membership comes from the feeds' own ``intended_labels.csv`` (the author's intent), so
    this checks the index, not the classifier. At 16 articles a day no single day reaches
    the default p <= 0.001 (honestly: three weeks of sixteen articles is thin evidence), but
    each narrative's most surprising days are the designed ones, and a looser threshold
    flags them and nothing else.
    """
    from tracker.base.resources import sample_feeds
    from tracker.ingest.feeds import load_feeds_config
    from tracker.ingest.runner import ingest_feeds

    feeds = sample_feeds()
    settings = Settings(db_path=db_path)
    db = open_db(db_path)
    ingest_feeds(db, settings, load_feeds_config(feeds), force=True)
    with (feeds.parent / "intended_labels.csv").open(encoding="utf-8") as fh:
        intended = {(r["feed"], r["title"]): r["written_for"].split("+") for r in csv.DictReader(fh)}
    names = {"ai": "ai_productivity", "crypto": "crypto_legitimacy"}
    rows = db.execute(
        "SELECT a.id, f.name, a.title FROM articles a JOIN feeds f ON f.id = a.feed_id WHERE a.duplicate_of IS NULL"
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
    summary = build_index(db, settings, env={})
    assert (summary.first_day, summary.last_day, summary.missing_days) == ("2026-11-02", "2026-11-22", 0)
    top = dict(db.execute(
        "SELECT narrative_id, day FROM narrative_index n WHERE zscore = "
        "(SELECT MAX(zscore) FROM narrative_index m WHERE m.narrative_id = n.narrative_id)"
    ).fetchall())  # fmt: skip
    assert "2026-11-09" <= top["ai_productivity"] <= "2026-11-15"  # W46
    assert "2026-11-16" <= top["crypto_legitimacy"] <= "2026-11-22"  # W47
    build_index(db, settings, env={"TRACKER_INDEX_SPIKE_P": "0.05"})
    spikes = db.execute("SELECT narrative_id, day FROM narrative_index WHERE spike = 1").fetchall()
    ai_days = {d for n, d in spikes if n == "ai_productivity"}
    crypto_days = {d for n, d in spikes if n == "crypto_legitimacy"}
    assert ai_days and all("2026-11-09" <= d <= "2026-11-15" for d in ai_days)
    assert crypto_days and all("2026-11-16" <= d <= "2026-11-22" for d in crypto_days)
    db.conn.close()
