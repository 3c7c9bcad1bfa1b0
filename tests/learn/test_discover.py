"""Topic discovery: growth, links, entities, headlines, proposals (unit) and a whole run on a
synthetic store (BERTopic for real), through the proposal pasted into narratives.yaml and scored."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlite_utils
import yaml
from click.testing import CliRunner

from tests.learn.synthetic import TOPICS, build_store, day
from tests.paths import MODELS
from tracker.base.db import open_db
from tracker.base.errors import TrackerError
from tracker.base.settings import load_settings
from tracker.cli import cli
from tracker.enrich.embeddings import FakeEmbedder
from tracker.enrich.narrative_stage import NarrativeStage
from tracker.enrich.narratives import load_narratives, parse_narratives
from tracker.enrich.runner import enrich_pending
from tracker.learn.discover import (
    DiscoverParams,
    TopicRef,
    fit_topics,
    growth,
    link_topic,
    representatives,
    top_entities,
    topic_label,
)
from tracker.learn.discover_store import run_discover
from tracker.learn.stories import refresh_stories
from tracker.learn.topics import build_entry, emerging_stories, propose, slug

P = DiscoverParams()


def _daily(**weeks: int) -> dict[str, int]:
    """Counts on the Wednesday of window weeks w1..w4 (2026-03-02..03-29)."""
    offsets = {"w1": 2, "w2": 9, "w3": 16, "w4": 23}
    return {day(offsets[w]): n for w, n in weeks.items()}


@pytest.mark.parametrize(("counts", "predecessor", "label"), [
    ({"w4": 12}, False, "new"),
    ({"w4": 12}, True, "rising"),
    ({"w1": 4, "w2": 4, "w3": 4, "w4": 10}, True, "rising"),
    ({"w1": 4, "w2": 4, "w3": 4, "w4": 10}, False, "rising"),  # 10/22 recent: not new
    ({"w1": 10, "w2": 10, "w3": 10, "w4": 3}, True, "fading"),
    ({"w1": 10, "w2": 10, "w3": 10, "w4": 9}, True, "steady"),
    ({"w1": 10, "w2": 10, "w3": 10}, True, "fading"),
])
def test_growth_labels(counts: dict[str, int], predecessor: bool, label: str) -> None:
    g = growth(_daily(**counts), day(0), day(27), P, predecessor)
    assert g.label == label
    assert g.recent == counts.get("w4", 0)


def test_growth_without_earlier_weeks_is_new_or_steady() -> None:
    assert growth({day(3): 5}, day(0), day(6), P, False) == growth({day(3): 5}, day(0), day(6), P, False)
    assert growth({day(3): 5}, day(0), day(6), P, False).label == "new"
    one_week = growth({day(3): 5}, day(0), day(6), P, True)
    assert (one_week.label, one_week.baseline_weekly) == ("steady", None)


def test_link_prefers_shared_articles_then_close_vectors() -> None:
    a, b = np.eye(3)[0], np.eye(3)[1]
    prev = [TopicRef(10, 10, frozenset({1, 2, 3, 4}), b), TopicRef(11, 7, frozenset({9}), a)]
    ref, score = link_topic({1, 2, 5}, a, prev, P)
    assert ref is not None and (ref.id, ref.thread_id, score) == (10, 10, round(2 / 3, 4))
    ref, score = link_topic({20, 21}, a * 0.99 + b * 0.01, prev, P)
    assert ref is not None and ref.id == 11 and score > 0.99
    assert link_topic({20}, np.eye(3)[2], prev, P) == (None, 0.0)


def test_top_entities_rank_distinctive_names_first() -> None:
    by_article = {i: {"fed", "gold"} if i < 10 else {"fed"} for i in range(100)}
    doc_freq = {"fed": 100, "gold": 10}
    names = {"fed": "Federal Reserve", "gold": "Gold"}
    out = top_entities(list(range(10)), by_article, doc_freq, 100, names)
    assert [e["name"] for e in out] == ["Gold"]  # the Fed is everywhere: lift 1
    assert out[0]["articles"] == 10 and out[0]["lift"] == 10.0


def test_representatives_are_central_and_distinct() -> None:
    vecs = np.array([[1, 0], [0.99, 0.14], [0.98, 0.2], [0.6, 0.8], [0, 1]], dtype=float)
    vecs = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    # Closest to the mean first: 2, 3, 1, 0, 4. Article 1 is the same story as 2; article 0
    # has the same title as 2 (case and spaces aside): both are skipped.
    assert representatives([1, 2, 3, 4, 5], vecs, ["B ", "a", "b", "C", "D"], [1, 2, 2, 3, 4]) == [2, 3, 4]
    assert representatives([1, 2, 3, 4, 5], vecs, ["A", "a", "b", "C", "D"], None, limit=2) == [2, 3]


def test_label_and_slug() -> None:
    terms = [("tariffs", 0.3), ("trade", 0.2), ("trade war", 0.1), ("china", 0.1), ("steel", 0.1)]
    assert topic_label(terms) == "tariffs, trade, china, steel"
    assert slug(["tariffs", "trade war"], set()) == "tariffs_trade_war"
    assert slug(["tariffs", "trade"], {"tariffs_trade"}) == "tariffs_trade_2"
    assert slug(["2025 shutdown"], set()) == "topic_2025_shutdown"


def test_proposed_entry_is_a_valid_narrative() -> None:
    entry = build_entry(["gold", "bullion", "record high", "ounce"], ["Gold"],
                        ["Gold hits a record &amp; climbs"], ["Silver slips"], {"gold_bullion"})
    assert entry["id"] == "gold_bullion_2"
    assert entry["positive_examples"] == ["Gold hits a record & climbs"]
    parsed = parse_narratives({"narratives": [entry]}, Path("proposal.yaml"))
    assert parsed.get("gold_bullion_2").lexicon.score("Bullion at a record high") == 1.0 + 1.0
    with pytest.raises(TrackerError):
        build_entry([], [], [], [], set())


# ---------------------------------------------------------------------- a whole run


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The synthetic store, enriched with a fake embedder, clustered, discovered three times."""
    path = tmp_path_factory.mktemp("discover") / "tracker.db"
    db = open_db(path)
    fake = FakeEmbedder(dim=64)
    by_topic = build_store(db, fake)
    # The narratives stage as `tracker enrich` runs it: vectors and memberships.
    db.conn.execute("DELETE FROM article_embeddings")
    enrich_pending(db, load_settings(db_path=path),
                   stages=[NarrativeStage(load_narratives(MODELS / "narratives.yaml"), None, fake)])
    # Entities: "Gold" in the gold articles, the Fed in every article.
    db.conn.execute("INSERT INTO entities (id, name, type) VALUES ('gold', 'Gold', 'commodity'), "
                    "('federal_reserve', 'Federal Reserve', 'central_bank')")
    rows = [(a, "gold", "Gold", "commodity") for a in by_topic["gold"]]
    rows += [(a, "federal_reserve", "Fed", "central_bank") for ids in by_topic.values() for a in ids]
    db.conn.executemany("INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\","
                        " pipeline_version) VALUES (?, ?, ?, ?, 0, 1, 'test')", rows)
    refresh_stories(db.conn)
    params = DiscoverParams()
    first = run_discover(db.conn, params, until=day(20), weeks=3, scopes=("all",))
    second = run_discover(db.conn, params, until=day(27), weeks=3)
    again = run_discover(db.conn, params, until=day(27), weeks=3, scopes=("all",))
    yield {"db": db, "path": path, "by_topic": by_topic, "runs": [first, second, again], "fake": fake}
    db.conn.close()


def _topics(db: sqlite_utils.Database, run_id: int) -> dict[int, dict[str, Any]]:
    out = {}
    for row in db.conn.execute("SELECT id, label, articles, growth, terms, entities, headlines, "
                               "continues_topic_id, thread_id FROM discovered_topics WHERE run_id = ?", (run_id,)):
        members = {a for a, in db.conn.execute("SELECT article_id FROM topic_articles WHERE topic_id = ?",
                                               (row[0],))}
        out[row[0]] = {"label": row[1], "articles": row[2], "growth": row[3], "terms": json.loads(row[4]),
                       "entities": json.loads(row[5]), "headlines": json.loads(row[6]),
                       "continues": row[7], "thread": row[8], "members": members}
    return out


def _match(topics: dict[int, dict[str, Any]], ids: list[int]) -> dict[str, Any]:
    """The discovered topic holding most of these articles."""
    return max(topics.values(), key=lambda t: len(t["members"] & set(ids)))


def _in_window(db: sqlite_utils.Database, ids: list[int], start: str, end: str) -> set[int]:
    return {a for a in ids if start <= db.conn.execute("SELECT day FROM articles WHERE id = ?",
                                                        (a,)).fetchone()[0] <= end}


def test_each_synthetic_story_is_one_pure_topic(store: dict[str, Any]) -> None:
    db, by_topic = store["db"], store["by_topic"]
    second_all = next(r for r in store["runs"][1] if r.scope == "all")
    topics = _topics(db, second_all.run_id)
    for name in TOPICS:
        truth = _in_window(db, by_topic[name], day(7), day(27))
        if len(truth) < 20:
            continue
        topic = _match(topics, by_topic[name])
        shared = topic["members"] & truth
        assert len(shared) >= 0.7 * len(truth), name   # found most of the story
        assert len(shared) >= 0.9 * len(topic["members"]), name  # and little else
        words = " ".join(t["term"] for t in topic["terms"][:5])
        assert any(w in words for w in TOPICS[name][0]), (name, words)
    # Stored figures agree with each other.
    for tid, t in topics.items():
        daily = db.conn.execute("SELECT SUM(articles) FROM topic_daily WHERE topic_id = ?", (tid,)).fetchone()[0]
        assert daily == t["articles"] == len(t["members"])
        assert len({h["article_id"] for h in t["headlines"]}) == len(t["headlines"]) == 3


def test_growth_and_links_across_weekly_runs(store: dict[str, Any]) -> None:
    db, by_topic = store["db"], store["by_topic"]
    first = next(r for r in store["runs"][0] if r.scope == "all")
    second = next(r for r in store["runs"][1] if r.scope == "all")
    assert second.previous_run_id == first.run_id
    old, new = _topics(db, first.run_id), _topics(db, second.run_id)
    drought = _match(new, by_topic["drought"])
    assert drought["growth"] == "new" and drought["continues"] is None
    for name in ("tariffs", "gold"):
        before, after = _match(old, by_topic[name]), _match(new, by_topic[name])
        assert after["continues"] in old and after["thread"] == before["thread"], name
        assert old[after["continues"]]["members"] & before["members"]
    assert _match(new, by_topic["shutdown"])["growth"] == "fading"  # the shutdown ended on day 13


def test_same_data_and_seed_give_the_same_topics(store: dict[str, Any]) -> None:
    db = store["db"]
    second = next(r for r in store["runs"][1] if r.scope == "all")
    again = store["runs"][2][0]
    a, b = _topics(db, second.run_id), _topics(db, again.run_id)
    assert sorted(map(sorted, (t["members"] for t in a.values()))) == \
        sorted(map(sorted, (t["members"] for t in b.values())))
    assert [t["terms"] for t in a.values()] == [t["terms"] for t in b.values()]


def test_unclaimed_scope_leaves_out_narrative_members(store: dict[str, Any]) -> None:
    db = store["db"]
    run = next(r for r in store["runs"][1] if r.scope == "unclaimed")
    claimed = {a for a, in db.conn.execute("SELECT article_id FROM article_narratives WHERE is_member = 1")}
    members = {a for a, in db.conn.execute(
        "SELECT ta.article_id FROM topic_articles ta JOIN discovered_topics t ON t.id = ta.topic_id "
        "WHERE t.run_id = ?", (run.run_id,))}
    assert members and not members & claimed
    params = json.loads(db.conn.execute("SELECT params FROM discover_runs WHERE id = ?",
                                        (run.run_id,)).fetchone()[0])
    assert params["seed"] == 42 and params["reducer"] == "umap"
    method = db.conn.execute("SELECT method, embedding_model FROM discover_runs WHERE id = ?",
                             (run.run_id,)).fetchone()
    assert method[0].startswith("discover:1+bertopic-") and method[1] == store["fake"].name


def test_entities_and_emerging_stories(store: dict[str, Any]) -> None:
    db, by_topic = store["db"], store["by_topic"]
    second = next(r for r in store["runs"][1] if r.scope == "all")
    gold = _match(_topics(db, second.run_id), by_topic["gold"])
    assert [e["name"] for e in gold["entities"]] == ["Gold"]
    emerging = emerging_stories(db.conn, day(21), day(27), scope="all")
    assert emerging and emerging[0].growth == "new"
    assert {"drought", "harvest", "wheat"} & set(" ".join(emerging[0].terms).split())
    assert emerging_stories(db.conn, "2025-01-06", "2025-01-12") == []


def test_proposal_pasted_into_narratives_yaml_is_scored_by_the_next_enrich(
    store: dict[str, Any], tmp_path: Path
) -> None:
    db, by_topic = store["db"], store["by_topic"]
    second = next(r for r in store["runs"][1] if r.scope == "all")
    gold = next(tid for tid, t in _topics(db, second.run_id).items()
                if t is _match(_topics(db, second.run_id), by_topic["gold"]) or
                t["members"] == _match(_topics(db, second.run_id), by_topic["gold"])["members"])
    shipped = load_narratives(MODELS / "narratives.yaml")
    text = propose(db.conn, gold, set(shipped.ids))
    entry = yaml.safe_load(text)[0]
    assert entry["id"] not in shipped.ids and entry["positive_examples"]
    # Paste it under `narratives:` (the end of the file) and run the narratives stage again.
    models = tmp_path / "models"
    shutil.copytree(MODELS, models)
    with open(models / "narratives.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n" + text)
    pasted = load_narratives(models / "narratives.yaml")
    assert pasted.ids == [*shipped.ids, entry["id"]]
    enriched = enrich_pending(db, load_settings(db_path=store["path"], models_dir=models),
                              stages=[NarrativeStage(pasted, None, store["fake"])])
    assert enriched.articles == db.conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    scores = dict(db.conn.execute("SELECT article_id, score FROM article_narratives WHERE narrative_id = ?",
                                  (entry["id"],)).fetchall())
    gold_ids = set(by_topic["gold"])
    inside = np.mean([s for a, s in scores.items() if a in gold_ids])
    outside = np.mean([s for a, s in scores.items() if a not in gold_ids])
    assert inside > 0.5 > outside
    members = {a for a, in db.conn.execute(
        "SELECT article_id FROM article_narratives WHERE narrative_id = ? AND is_member = 1", (entry["id"],))}
    assert len(members & gold_ids) >= 0.8 * len(gold_ids) and len(members - gold_ids) <= 0.05 * len(members)


def test_cli_propose_and_errors(store: dict[str, Any]) -> None:
    runner = CliRunner()
    tid = store["db"].conn.execute("SELECT MIN(id) FROM discovered_topics").fetchone()[0]
    ok = runner.invoke(cli, ["--db", str(store["path"]), "discover", "--propose", str(tid)])
    assert ok.exit_code == 0, ok.output
    assert yaml.safe_load(ok.output)[0]["lexicon"]
    missing = runner.invoke(cli, ["--db", str(store["path"]), "discover", "--propose", "99999"])
    assert missing.exit_code == 2 and "No discovered topic 99999" in missing.output
    bad = runner.invoke(cli, ["--db", str(store["path"]), "discover", "--since", "2026-13-01"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_pca_reducer_runs_the_same_pipeline() -> None:
    rng = np.random.default_rng(0)
    gold = ["gold", "bullion", "record", "ounce", "vaults", "miners"]
    trade = ["tariffs", "trade", "duties", "imports", "customs", "levies"]
    texts = [" ".join(rng.choice(words, 4, replace=False)) for words in [gold] * 40 + [trade] * 40]
    fit = fit_topics(texts, FakeEmbedder(dim=32).encode(texts), DiscoverParams(reducer="pca", min_cluster_size=10))
    assert len(fit.terms) >= 2
    for topic, terms in fit.terms.items():
        members = np.flatnonzero(fit.labels == topic)
        side = gold if terms[0][0].split()[0] in gold else trade
        assert all(i < 40 for i in members) == (side is gold)  # each topic one vocabulary
        assert all(i >= 40 for i in members) == (side is trade)
    with pytest.raises(ValueError):
        fit_topics(texts, FakeEmbedder(dim=32).encode(texts), DiscoverParams(reducer="tsne", min_cluster_size=10))


def test_document_text_drops_a_section_label_and_markup() -> None:
    from tracker.learn.discover import document_text

    assert document_text("Gold&#8217;s rally", "Investors pile in\nMarkets") == "Gold rally. Investors pile in"
    assert document_text("Title", "<p>Two words</p>\nlast line here") == "Title. Two words \nlast line here"
    assert document_text("Title", None) == "Title. "
