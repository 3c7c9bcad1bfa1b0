"""`tracker feeds check`: each feed's health from the database, dead URLs included."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from click.testing import CliRunner

from tests.feedserver import rss, send, serve
from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.cli import cli
from tracker.ingest.feeds import load_feeds_config
from tracker.ingest.health import feed_health, format_health
from tracker.ingest.runner import ingest_feeds


def _feed(n: int) -> bytes:
    return rss([{"guid": f"urn:x:{n}-{i}", "title": f"Distinct headline {n} {i} about markets today",
                 "link": f"http://example.test/{n}/{i}", "pubDate": "Mon, 02 Nov 2026 10:00:00 GMT"}
                for i in range(3)])


def test_feeds_check_lists_health_with_dead_and_failing_feeds(tmp_path: Path) -> None:
    calls = {"flaky": 0}

    def healthy(h: BaseHTTPRequestHandler) -> None:
        send(h, 200, _feed(calls.setdefault("healthy", 0)), {"Content-Type": "application/rss+xml"})
        calls["healthy"] += 1

    def flaky(h: BaseHTTPRequestHandler) -> None:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            send(h, 200, _feed(100), {"Content-Type": "application/rss+xml"})
        else:
            send(h, 503, b"down", {"Content-Type": "text/plain"})

    with serve({"/healthy": healthy, "/flaky": flaky}) as server:
        config = tmp_path / "feeds.yaml"
        config.write_text(
            "feeds:\n"
            f"  - {{name: healthy, url: '{server.url('/healthy')}', fulltext: true}}\n"
            f"  - {{name: flaky, url: '{server.url('/flaky')}'}}\n"
            f"  - {{name: moved, url: '{server.url('/gone')}'}}\n"
            f"  - {{name: never, url: '{server.url('/never')}', enabled: true}}\n"
            f"  - {{name: parked, url: '{server.url('/parked')}', enabled: false}}\n", encoding="utf-8")
        feeds = load_feeds_config(config)
        settings = Settings(db_path=tmp_path / "t.db", feeds_path=config)
        db = open_db(settings.db_path)
        live = [f for f in feeds if f.name != "never"]
        for _ in range(3):
            ingest_feeds(db, settings, live, force=True)
        rows = {h.name: h for h in feed_health(db.conn, days=7, config=feeds)}
        db.conn.close()
        result = CliRunner().invoke(cli, ["--db", str(settings.db_path), "feeds", "check", "--feeds", str(config)])
        as_json = CliRunner().invoke(cli, ["--db", str(settings.db_path), "feeds", "check", "--feeds", str(config),
                                           "--json"])
    assert rows["healthy"].verdict == "ok" and rows["healthy"].failures == 0
    assert rows["healthy"].articles == 9 and rows["healthy"].items_per_day == round(9 / 7, 2)
    assert rows["healthy"].fulltext is True and rows["flaky"].fulltext is False
    assert rows["flaky"].verdict == "failing" and rows["flaky"].consecutive_failures == 2
    assert rows["flaky"].last_ok_at is not None and "503" in (rows["flaky"].last_error or "")
    assert rows["moved"].verdict == "dead" and rows["moved"].failures == 3 and rows["moved"].last_ok_at is None
    assert "404" in (rows["moved"].last_error or "")
    assert rows["never"].verdict == "never_fetched" and rows["parked"].verdict == "disabled"
    # Worst first, and a dead or failing feed makes the command exit 1.
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[2].startswith("moved") and lines[3].startswith("flaky")
    assert "1 dead, 1 failing" in lines[-1]
    assert {r["name"]: r["verdict"] for r in json.loads(as_json.output)}["healthy"] == "ok"
    assert "items/day" in format_health(list(rows.values()), days=7, as_of=None)


def test_feeds_check_without_a_database_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "feeds", "check"])
    assert result.exit_code == 2 and "tracker ingest" in result.output
