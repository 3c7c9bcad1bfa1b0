"""Datasette canned queries over discovered topics and story clusters (a hand-built store)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve.live import canned_rows
from tracker.base.db import open_db, transaction


def make_db(path: Path) -> None:
    """Two discover runs (the second continues the first), topics, articles and two stories."""
    db = open_db(path)
    conn = db.conn
    with transaction(conn):
        conn.executemany("INSERT INTO feeds (id, name, url, created_at) VALUES (?, ?, 'u', 'now')",
                         [(1, "wire"), (2, "daily"), (3, "weekly")])
        for i in range(1, 9):
            conn.execute(
                "INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash, url)"
                " VALUES (?, ?, ?, ?, ?, 'now', ?, ?)",
                (i, 1 + i % 3, f"k{i}", f"Headline {i}", f"2026-03-{10 + i:02d}", f"h{i}", f"https://e.org/{i}"),
            )
        conn.execute("INSERT INTO articles (id, feed_id, item_key, title, day, fetched_at, content_hash,"
                     " duplicate_of) VALUES (9, 1, 'k9', 'Headline 1', '2026-03-11', 'now', 'h9', 1)")
        for run, scope, end in ((1, "unclaimed", "2026-03-14"), (2, "unclaimed", "2026-03-18"),
                                (3, "all", "2026-03-18")):
            conn.execute(
                "INSERT INTO discover_runs (id, scope, start_day, end_day, articles, topics, outliers,"
                " embedding_model, method, params, created_at) VALUES (?, ?, '2026-03-01', ?, 8, 2, 0,"
                " 'm', 'discover:1', '{}', 'now')", (run, scope, end))
        topics = [
            # id, run, topic, label, articles, growth, continues, thread
            (1, 1, 0, "gold, bullion", 3, "new", None, 1),
            (2, 2, 0, "gold, bullion", 5, "rising", 1, 1),
            (3, 2, 1, "tariffs, trade", 3, "fading", None, 3),
            (4, 3, 0, "everything", 8, "steady", None, 4),
        ]
        for tid, run, n, label, size, growth, cont, thread in topics:
            conn.execute(
                "INSERT INTO discovered_topics (id, run_id, topic, label, articles, stories, sources, first_day,"
                " last_day, peak_day, recent_articles, growth, terms, entities, headlines, continues_topic_id,"
                " thread_id) VALUES (?, ?, ?, ?, ?, ?, 2, '2026-03-11', '2026-03-18', '2026-03-12', 2, ?, ?, ?,"
                " ?, ?, ?)",
                (tid, run, n, label, size, size - 1, growth,
                 json.dumps([{"term": w, "weight": 0.1} for w in label.split(", ")]),
                 json.dumps([{"id": "gold", "name": "Gold", "articles": 3, "lift": 4.0}]),
                 json.dumps([{"article_id": 1, "title": "Headline 1"}, {"article_id": 2, "title": "Headline 2"}]),
                 cont, thread))
        conn.executemany("INSERT INTO topic_articles (topic_id, article_id, probability) VALUES (2, ?, 0.9)",
                         [(i,) for i in (1, 2, 3, 4, 5)])
        conn.executemany(
            "INSERT INTO story_clusters (id, first_day, last_day, articles, copies, sources, representative_id,"
            " title, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'v', 'now')",
            [(1, "2026-03-11", "2026-03-12", 2, 1, 3, 1, "Headline 1"),
             (2, "2026-03-13", "2026-03-13", 1, 0, 1, 3, "Headline 3"),
             (3, "2026-03-14", "2026-03-16", 3, 0, 3, 4, "Headline 4")])
        conn.executemany("INSERT INTO story_articles (article_id, cluster_id, similarity, is_copy) VALUES (?, ?, ?, ?)",
                         [(1, 1, 1.0, 0), (2, 1, 0.8, 0), (9, 1, None, 1), (3, 2, 1.0, 0), (4, 3, 1.0, 0),
                          (5, 3, 0.9, 0), (6, 3, 0.85, 0)])
    conn.close()


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = tmp_path_factory.mktemp("serve-discover") / "tracker.db"
    make_db(path)
    with canned_rows(path) as get:
        yield get


def test_query_discovered_topics_latest(rows: Any) -> None:
    latest = rows("discovered_topics_latest", scope="")
    # The latest unclaimed run (2), rising before fading; its window and entities shown.
    assert [(r["topic_id"], r["growth"]) for r in latest] == [(2, "rising"), (3, "fading")]
    assert latest[0]["continues_topic_id"] == 1 and latest[0]["thread_id"] == 1
    assert latest[0]["entities"] == "Gold" and latest[0]["headlines"] == "Headline 1 | Headline 2"
    assert latest[0]["window"] == "2026-03-01..2026-03-18"
    assert [r["topic_id"] for r in rows("discovered_topics_latest", scope="all")] == [4]


def test_query_topic_articles_list(rows: Any) -> None:
    got = rows("topic_articles_list", topic="2")
    assert [r["article_id"] for r in got] == [5, 4, 3, 2, 1]
    assert [r["story"] for r in got] == [3, 3, 2, 1, 1]


def test_query_story_clusters_top(rows: Any) -> None:
    got = rows("story_clusters_top", start="", end="")
    # Default: the 7 days up to the latest story start (03-14); singletons left out.
    assert [(r["story"], r["sources"], r["articles"]) for r in got] == [(3, 3, 3), (1, 3, 2)]
    assert sorted(got[1]["outlets"].split(",")) == ["daily", "weekly", "wire"]  # the copy's outlet too
    assert [r["story"] for r in rows("story_clusters_top", start="2026-03-14", end="2026-03-20")] == [3]


def test_query_story_cluster_articles(rows: Any) -> None:
    got = rows("story_cluster_articles", story="1")
    assert [(r["article_id"], r["is_copy"]) for r in got] == [(1, 0), (9, 1), (2, 0)]
