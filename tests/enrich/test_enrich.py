"""The enrichment pipeline: incremental, versioned, atomic per batch; and the CLI commands."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from tests.paths import REPO
from tracker.base.db import open_db
from tracker.base.settings import Settings, load_settings
from tracker.cli import cli
from tracker.enrich.entity_stage import EntityStage, save_entities
from tracker.enrich.gazetteer import load_gazetteer
from tracker.enrich.runner import Stage, article_text, count_pending, enrich_pending

REPO_GAZETTEER = REPO / "models" / "gazetteer.yaml"


def add_articles(db: sqlite_utils.Database, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert a feed (once) and articles with the given title/summary/content/duplicate_of."""
    conn = db.conn
    if conn.execute("SELECT COUNT(*) FROM feeds").fetchone()[0] == 0:
        conn.execute("INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'f', 'u', 'now')")
    ids = []
    for row in rows:
        n = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        cur = conn.execute(
            "INSERT INTO articles (feed_id, item_key, title, summary, content_text, day,"
            " fetched_at, content_hash, duplicate_of) VALUES (1, ?, ?, ?, ?, '2026-01-05',"
            " 'now', ?, ?)",
            (f"k{n}", row.get("title"), row.get("summary"), row.get("content_text"), f"h{n}",
             row.get("duplicate_of")),
        )
        ids.append(int(cur.lastrowid or 0))
    return ids


class CountingStage:
    """A fake stage: result = text length; writes nothing but the ledger, can fail on demand."""

    name = "fake"

    def __init__(self, version: str = "fake:1", fail_on_batch: int | None = None) -> None:
        self.version = version
        self.fail_on_batch = fail_on_batch
        self.seen: list[list[str]] = []
        self.prepared = 0

    def prepare(self, conn: sqlite3.Connection) -> None:
        self.prepared += 1

    def process(self, texts: Sequence[str]) -> list[int]:
        self.seen.append(list(texts))
        return [len(t) for t in texts]

    def save(self, conn: sqlite3.Connection, article_ids: Sequence[int],
             results: Sequence[Any]) -> dict[str, int]:
        conn.executemany("DELETE FROM claims WHERE article_id = ?", [(a,) for a in article_ids])
        conn.executemany(
            "INSERT INTO claims (article_id, kind, value, text, pipeline_version)"
            " VALUES (?, 'len', ?, 't', ?)",
            [(a, r, self.version) for a, r in zip(article_ids, results, strict=True)],
        )
        if self.fail_on_batch is not None and len(self.seen) == self.fail_on_batch:
            raise RuntimeError("boom")
        return {"claims": len(article_ids)}

    def describe(self, result: Any) -> dict[str, Any]:
        return {"length": result}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings whose db lives in tmp_path and whose models dir is the repository's."""
    values: dict[str, Any] = {"db_path": tmp_path / "t.db", "models_dir": REPO / "models"}
    return load_settings(env={}, **{**values, **overrides})


@pytest.mark.parametrize(
    ("title", "summary", "content", "expected"),
    [
        ("Title", "Summary", None, "Title\n\nSummary"),
        ("Title", "Summary", "Full content", "Title\n\nFull content"),
        ("Title", None, "  ", "Title"),
        (None, "Summary", None, "Summary"),
        (" Title ", "", "", "Title"),
        (None, None, None, ""),
    ],
)
def test_article_text(title: str | None, summary: str | None, content: str | None,
                      expected: str) -> None:
    assert article_text(title, summary, content) == expected


def test_pending_skips_duplicates_and_is_incremental(db: sqlite_utils.Database,
                                                     tmp_path: Path) -> None:
    first, _, _ = add_articles(db, [{"title": "a"}, {"title": "bb"}, {"title": "ccc"}])
    add_articles(db, [{"title": "dup", "duplicate_of": first}])
    stage = CountingStage()
    assert isinstance(stage, Stage)
    summary = enrich_pending(db, settings_for(tmp_path), stages=[stage], batch_size=2)
    assert summary.articles == 3
    assert summary.counts() == {"fake.articles": 3, "fake.claims": 3}
    assert stage.seen == [["a", "bb"], ["ccc"]]
    again = enrich_pending(db, settings_for(tmp_path), stages=[stage])
    assert again.articles == 0 and stage.prepared == 1  # nothing pending: no prepare either
    add_articles(db, [{"title": "new"}])
    enrich_pending(db, settings_for(tmp_path), stages=[stage])
    assert stage.seen[-1] == ["new"]


def test_version_bump_re_enriches_and_replaces(db: sqlite_utils.Database,
                                               tmp_path: Path) -> None:
    add_articles(db, [{"title": "a"}, {"title": "bb"}])
    enrich_pending(db, settings_for(tmp_path), stages=[CountingStage("fake:1")])
    assert count_pending(db.conn, "fake", "fake:2") == 2
    summary = enrich_pending(db, settings_for(tmp_path), stages=[CountingStage("fake:2")])
    assert summary.articles == 2
    rows = db.conn.execute("SELECT article_id, pipeline_version FROM claims").fetchall()
    assert sorted(rows) == [(1, "fake:2"), (2, "fake:2")]
    ledger = db.conn.execute("SELECT stage, version FROM enrichments").fetchall()
    assert ledger == [("fake", "fake:2"), ("fake", "fake:2")]


def test_limit(db: sqlite_utils.Database, tmp_path: Path) -> None:
    add_articles(db, [{"title": str(i)} for i in range(5)])
    summary = enrich_pending(db, settings_for(tmp_path), stages=[CountingStage()], limit=3,
                             batch_size=2)
    assert summary.articles == 3
    assert count_pending(db.conn, "fake", "fake:1") == 2


def test_a_failing_batch_leaves_no_partial_rows(db: sqlite_utils.Database,
                                                tmp_path: Path) -> None:
    add_articles(db, [{"title": str(i)} for i in range(4)])
    with pytest.raises(RuntimeError):
        enrich_pending(db, settings_for(tmp_path), stages=[CountingStage(fail_on_batch=2)],
                       batch_size=2)
    claims = db.conn.execute("SELECT article_id FROM claims ORDER BY 1").fetchall()
    ledger = db.conn.execute("SELECT article_id FROM enrichments ORDER BY 1").fetchall()
    assert claims == ledger == [(1,), (2,)]
    summary = enrich_pending(db, settings_for(tmp_path), stages=[CountingStage()])
    assert summary.articles == 2


@pytest.fixture(scope="module")
def entity_stage() -> EntityStage:
    """The real entities stage (spaCy loads once per process)."""
    return EntityStage(load_gazetteer(REPO_GAZETTEER))


@pytest.mark.models
def test_entities_stage_writes_mentions_claims_and_entities(
    db: sqlite_utils.Database, tmp_path: Path, entity_stage: EntityStage
) -> None:
    ids = add_articles(db, [
        {"title": "Kraken's $20 billion IPO", "summary": "Coinbase fell 3%."},
        {"title": "Nothing here", "summary": None},
        {"title": "A quiet day", "summary": "Goldman", "content_text": "BlackRock grew 5%."},
    ])
    summary = enrich_pending(db, settings_for(tmp_path), stages=[entity_stage])
    assert summary.stages["entities"].rows == {"mentions": 3, "claims": 3}
    conn = db.conn
    assert conn.execute("SELECT COUNT(*) FROM entities").fetchone()[0] == len(
        entity_stage.gazetteer
    )
    mentions = conn.execute(
        'SELECT article_id, entity_id, text, label, start, "end", sentence_index,'
        " pipeline_version FROM mentions ORDER BY id"
    ).fetchall()
    # The summary is ignored when content is present, so "Goldman" is not tagged.
    assert [(m[0], m[1], m[3], m[6]) for m in mentions] == [
        (ids[0], "kraken", "crypto_exchange", 0),
        (ids[0], "coinbase", "crypto_exchange", 1),
        (ids[2], "blackrock", "asset_manager", 1),
    ]
    texts = {r[0]: article_text(*r[1:]) for r in conn.execute(
        "SELECT id, title, summary, content_text FROM articles")}
    for article_id, _eid, text, _label, start, end, _s, version in mentions:
        assert texts[article_id][start:end] == text
        assert version == entity_stage.version
    claims = conn.execute(
        "SELECT article_id, entity_id, kind, value, unit FROM claims ORDER BY id").fetchall()
    assert claims == [
        (ids[0], "kraken", "money", 2e10, "USD"),
        (ids[0], "coinbase", "percent", 3.0, "%"),
        (ids[2], "blackrock", "percent", 5.0, "%"),
    ]
    assert count_pending(conn, "entities", entity_stage.version) == 0


@pytest.mark.models
def test_gazetteer_change_re_enriches_without_duplicating_rows(
    db: sqlite_utils.Database, tmp_path: Path, entity_stage: EntityStage
) -> None:
    add_articles(db, [{"title": "Zorblax Capital Management bought bitcoin."}])
    models = tmp_path / "models"
    models.mkdir()
    shutil.copy(REPO_GAZETTEER, models / "gazetteer.yaml")
    first = EntityStage(load_gazetteer(models / "gazetteer.yaml"), entity_stage.tagger)
    enrich_pending(db, settings_for(tmp_path), stages=[first])
    before = db.conn.execute("SELECT entity_id, text FROM mentions ORDER BY start").fetchall()
    assert (None, "Zorblax Capital Management") in before
    data = yaml.safe_load((models / "gazetteer.yaml").read_text(encoding="utf-8"))
    data["entities"].append({"id": "zorblax", "name": "Zorblax Capital", "type": "asset_manager",
                             "aliases": ["Zorblax Capital Management"]})
    (models / "gazetteer.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    second = EntityStage(load_gazetteer(models / "gazetteer.yaml"))
    assert second.version != first.version
    summary = enrich_pending(db, settings_for(tmp_path, models_dir=models), stages=[second])
    assert summary.articles == 1
    after = db.conn.execute("SELECT entity_id, text FROM mentions ORDER BY start").fetchall()
    assert after == [("zorblax", "Zorblax Capital Management"), ("bitcoin", "bitcoin")]


@pytest.mark.models
def test_save_entities_upserts(db: sqlite_utils.Database, entity_stage: EntityStage) -> None:
    conn = db.conn
    conn.execute("INSERT INTO entities (id, name, type) VALUES ('bitcoin', 'old', 'x')")
    save_entities(conn, entity_stage.gazetteer)
    save_entities(conn, entity_stage.gazetteer)
    row = conn.execute("SELECT name, type, aliases FROM entities WHERE id = 'bitcoin'").fetchone()
    assert row[:2] == ("Bitcoin", "crypto_asset") and "BTC" in json.loads(row[2])


@pytest.mark.models
def test_cli_enrich_and_analyze(tmp_path: Path) -> None:
    db_path = tmp_path / "cli.db"
    db = open_db(db_path)
    add_articles(db, [{"title": "Goldman Sachs sees gold at $4,000", "summary": "Up 10-15%."}])
    db.conn.close()
    runner = CliRunner()
    result = runner.invoke(cli, ["--db", str(db_path), "enrich", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["articles"] == 1 and out["counts"]["entities.claims"] == 2
    result = runner.invoke(cli, ["--db", str(db_path), "enrich"])
    assert result.exit_code == 0 and "Enriched 0 articles" in result.output

    text_file = tmp_path / "note.txt"
    text_file.write_text("Nvidia could rally 20% says Cathie Wood.", encoding="utf-8")
    result = runner.invoke(cli, ["analyze", str(text_file), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [e["id"] for e in data["entities"]] == ["nvidia", "cathie_wood"]
    assert data["claims"][0]["low"] == 20.0 and data["claims"][0]["entity"] == "nvidia"
    assert set(data) >= {"entities", "claims", "versions"}
    result = runner.invoke(cli, ["analyze", "-"], input="BlackRock bought $1bn of ether.")
    assert result.exit_code == 0, result.output
    assert "blackrock" in result.output and "1 billion USD" in result.output


def test_cli_analyze_reports_a_bad_gazetteer(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "gazetteer.yaml").write_text("entities: [{id: x, name: X, type: nope}]\n")
    monkeypatch.setenv("TRACKER_MODELS", str(tmp_path))
    result = CliRunner().invoke(cli, ["analyze", "-"], input="text")
    assert result.exit_code == 2
    assert "'nope'" in result.output and "use one of" in result.output
