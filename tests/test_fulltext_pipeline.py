"""Full text through the command line and the nightly job; title-only items stored and classified."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.feedserver import rss, send, serve
from tests.ingest.fulltext_helpers import PARAGRAPHS, article_page, feed_route, html_route
from tracker.base.db import open_db
from tracker.cli import cli
from tracker.pipeline import run_nightly


def _config(path: Path, feed_url: str, *, fulltext: bool = True) -> Path:
    path.write_text(
        "defaults:\n  fulltext: false\nfeeds:\n"
        f"  - {{name: news, url: '{feed_url}', fulltext: {str(fulltext).lower()}}}\n"
        "  - {name: other, url: 'http://127.0.0.1:9/none.xml'}\n", encoding="utf-8")
    return path


def test_fulltext_command_backfills_and_makes_articles_pending_again(tmp_path: Path) -> None:
    db_path = tmp_path / "t.db"
    routes = {f"/a/{i}": html_route(article_page(f"Story {i}")) for i in range(2)}
    with serve(routes) as server:
        routes["/feed"] = feed_route(server, ["/a/0", "/a/1"])
        config = _config(tmp_path / "feeds.yaml", server.url("/feed"))
        runner = CliRunner()
        ingested = runner.invoke(cli, ["--db", str(db_path), "ingest", "--feeds", str(config)])
        assert ingested.exit_code == 1, ingested.output  # 'other' is a dead URL: a recorded failure
        db = open_db(db_path)
        db.conn.execute("INSERT INTO enrichments (article_id, stage, version, enriched_at) "
                        "SELECT id, 'entities', 'v', 'now' FROM articles")
        db.conn.close()
        result = runner.invoke(cli, ["--db", str(db_path), "fulltext", "--backfill", "--feeds", str(config),
                                     "--json"])
        unknown = runner.invoke(cli, ["--db", str(db_path), "fulltext", "--feed", "nope", "--feeds", str(config)])
        refused = runner.invoke(cli, ["--db", str(db_path), "fulltext", "--feed", "other", "--feeds", str(config)])
        human = runner.invoke(cli, ["--db", str(db_path), "fulltext", "--feeds", str(config)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["stored"] == 2 and figures["statuses"] == {"ok": 2}
    db = open_db(db_path)
    assert db.conn.execute("SELECT COUNT(*) FROM enrichments").fetchone()[0] == 0
    texts = [t for (t,) in db.conn.execute("SELECT content_text FROM articles")]
    db.conn.close()
    assert all(PARAGRAPHS[1] in t for t in texts)
    assert unknown.exit_code == 2 and "not in" in unknown.output
    assert refused.exit_code == 2 and "fulltext: true" in refused.output
    assert human.exit_code == 0 and "Full text: 0 pages stored" in human.output


def test_fulltext_command_loads_an_items_archive(tmp_path: Path) -> None:
    archive = tmp_path / "x.items.jsonl"
    archive.write_text(json.dumps({"feed": "scraped", "title": "A long scraped story about rates",
                                   "link": "https://x.example/1", "summary": "\n\n".join(PARAGRAPHS * 2),
                                   "published_iso": "2026-03-01T00:00:00Z"}) + "\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(cli, ["--db", str(tmp_path / "t.db"), "fulltext", "--from-archive", str(archive)])
    second = runner.invoke(cli, ["--db", str(tmp_path / "t.db"), "fulltext", "--from-archive", str(archive)])
    assert first.exit_code == 0 and "full text stored for 1 articles" in first.output
    assert second.exit_code == 0 and "already loaded" in second.output


@pytest.mark.models
def test_nightly_run_fetches_pages_before_enrichment(tmp_path: Path) -> None:
    """Evidence comes from the page; a title-only item without a link is stored and scored too."""
    lead = ("Bitcoin exchange-traded funds drew record inflows as pension funds and banks added "
            "spot bitcoin ETF exposure after regulators approved new custody rules.")
    paragraphs = [lead, *PARAGRAPHS]
    routes = {"/etf": html_route(article_page("Weekly wrap", paragraphs))}
    with serve(routes) as server:
        feed = rss([{"guid": "urn:x:1", "title": "Weekly wrap", "link": server.url("/etf"),
                     "description": "What happened this week."},
                    {"title": "SEC approves first spot ether ETF options for trading"}])
        routes["/feed"] = lambda h: send(h, 200, feed, {"Content-Type": "application/rss+xml"})
        config = _config(tmp_path / "feeds.yaml", server.url("/feed"))
        from tracker.base.settings import Settings

        settings = Settings(db_path=tmp_path / "t.db", feeds_path=config, fulltext_min_delay=0.0)
        summary = run_nightly(settings)
    assert summary.fulltext is not None and summary.fulltext.stored == 1
    assert summary.enriched == 2
    db = open_db(settings.db_path)
    evidence = {title: json.loads(ev) for title, ev in db.conn.execute(
        "SELECT a.title, n.evidence FROM article_narratives n JOIN articles a ON a.id = n.article_id "
        "WHERE n.narrative_id = 'crypto_legitimacy'")}
    scored = db.conn.execute("SELECT COUNT(DISTINCT article_id) FROM article_narratives").fetchone()[0]
    no_link = db.conn.execute("SELECT url, summary FROM articles WHERE guid IS NULL").fetchone()
    db.conn.close()
    assert scored == 2 and no_link == (None, "")
    assert any("inflows" in e["sentence"] for e in evidence["Weekly wrap"])


@pytest.mark.models
def test_title_only_items_without_links_are_stored_and_classified(tmp_path: Path, shared_data: Path) -> None:
    """Most of the CryptoPanic export is a bare headline with no link: each is stored and scored."""
    source = shared_data / "cryptopanic-2025" / "daily" / "cryptopanic_cryptodaily"
    if not source.is_dir():
        pytest.skip("cryptopanic-2025 not in the shared data")
    folder = tmp_path / "daily" / "cryptopanic_cryptodaily"
    folder.mkdir(parents=True)
    for path in sorted(source.glob("*.xml"))[:6]:
        shutil.copy(path, folder / path.name)
    from tracker.base.settings import Settings

    settings = Settings(db_path=tmp_path / "t.db")
    summary = run_nightly(settings, from_dir=tmp_path / "daily")
    db = open_db(settings.db_path)
    total, no_link, title_only = db.conn.execute(
        "SELECT COUNT(*), SUM(url IS NULL), SUM(url IS NULL AND COALESCE(summary, '') = '') FROM articles "
        "WHERE duplicate_of IS NULL").fetchone()
    stages = dict(db.conn.execute("SELECT stage, COUNT(*) FROM enrichments GROUP BY stage").fetchall())
    scored = db.conn.execute("SELECT COUNT(DISTINCT article_id) FROM article_narratives").fetchone()[0]
    db.conn.close()
    assert summary.ingest.feeds_failed == 0 and total > 20 and title_only >= 0.9 * total and no_link >= 0.9 * total
    assert stages == {"entities": total, "narratives": total} and scored == total
