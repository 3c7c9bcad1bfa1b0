"""The nightly job end to end on the bundled sample feeds (real spaCy and MiniLM models)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tracker.base.db import open_db
from tracker.base.resources import sample_feeds
from tracker.base.settings import Settings
from tracker.cli import cli
from tracker.pipeline import run_nightly

SAMPLE_FEEDS = sample_feeds()

TABLES = ("articles", "mentions", "claims", "article_narratives", "narrative_index", "narrative_entity_daily")


def snapshot(db_path: Path) -> dict[str, list[tuple]]:
    db = open_db(db_path)
    try:
        return {table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}
    finally:
        db.conn.close()


@pytest.mark.models
def test_nightly_run_then_a_night_with_nothing_new(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "t.db", feeds_path=SAMPLE_FEEDS, report_dir=tmp_path / "reports")
    first = run_nightly(settings)
    # New spikes become alerts in the same run (recorded once; nothing to deliver by default).
    assert first.alerts is not None and not first.alerts.errors
    assert first.ingest.feeds_failed == 0 and first.ingest.articles_new > 300
    assert first.enriched == first.ingest.articles_new  # duplicates are not enriched
    assert first.days_indexed >= 21
    state = snapshot(settings.db_path)
    narratives = {row[1] for row in state["narrative_index"]}
    assert narratives >= {"ai_productivity", "crypto_legitimacy", "fed_easing_liquidity", "ai_to_crypto_rotation"}
    days = {row[0] for row in state["narrative_index"]}
    assert len(state["narrative_index"]) == len(days) * len(narratives)  # a row per narrative per day
    assert state["mentions"] and state["claims"] and state["narrative_entity_daily"]

    # Every feed answers 304: nothing is enriched or indexed again, and no stored row changes.
    second = run_nightly(settings, force=True)
    assert {o.status for o in second.ingest.outcomes} == {"not_modified"}
    assert (second.ingest.articles_new, second.enriched, second.days_indexed) == (0, 0, 0)
    assert "index" not in second.seconds
    assert second.alerts is not None and second.alerts.new == []
    assert snapshot(settings.db_path) == state


@pytest.mark.models
def test_run_command_prints_a_summary_and_exit_status(tmp_path: Path) -> None:
    (tmp_path / "one.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>One</title>'
        "<item><title>Regulator licenses a bitcoin custodian for banks</title><guid>1</guid>"
        "<link>http://one.example/1</link><pubDate>Mon, 16 Nov 2026 10:00:00 GMT</pubDate>"
        "<description>The state regulator granted a trust charter to a crypto custodian.</description></item>"
        "<item><title>City council approves new park budget</title><guid>2</guid>"
        "<link>http://one.example/2</link><pubDate>Mon, 16 Nov 2026 11:00:00 GMT</pubDate></item>"
        "</channel></rss>")
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - name: one\n    url: one.xml\n  - name: gone\n    url: gone.xml\n")
    # Two articles make a covered day only with a minimum of 1 (the default is 10).
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "t.db"), "run", "--feeds", str(config), "--json"],
                                env={"TRACKER_INDEX_MIN_ARTICLES": "1"})
    assert result.exit_code == 1, result.output  # one feed failed, the rest was processed
    figures = json.loads(result.output)
    assert (figures["feeds_ok"], figures["feeds_failed"], figures["articles_new"], figures["enriched"]) == (1, 1, 2, 2)
    assert figures["days_indexed"] == 1
