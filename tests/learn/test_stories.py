"""Story clusters: assignment rule, incremental refresh equal to a rebuild, copies, versions."""

from __future__ import annotations

import numpy as np
import sqlite_utils

from tests.learn.synthetic import add_feeds, insert_article, store_vectors, unit_rows
from tracker.enrich.embeddings import FakeEmbedder
from tracker.learn.stories import StoryParams, assign_stories, day_ordinal, refresh_stories


def _vectors(centres: np.ndarray, which: list[int], noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return unit_rows(centres[which] + noise * rng.standard_normal((len(which), centres.shape[1])))


def test_articles_of_one_event_join_and_other_events_stay_apart() -> None:
    rng = np.random.default_rng(1)
    centres = unit_rows(rng.standard_normal((3, 32)))
    which = [0, 1, 0, 2, 1, 0, 2, 2]
    vectors = _vectors(centres, which, noise=0.05)
    days = [day_ordinal("2026-01-05")] * 4 + [day_ordinal("2026-01-06")] * 4
    out, clusters = assign_stories(list(range(1, 9)), days, vectors, [], StoryParams(threshold=0.8))
    keys = [a.key for a in out]
    # Same centre -> same cluster, different centres -> different clusters.
    for i in range(8):
        for j in range(8):
            assert (keys[i] == keys[j]) == (which[i] == which[j])
    assert len(clusters) == 3
    assert [c.size for c in clusters] == [3, 2, 3]
    assert all(a.similarity >= 0.8 for a in out)


def test_a_cluster_neither_reaches_beyond_its_window_nor_spans_too_many_days() -> None:
    vec = np.eye(4, dtype=np.float32)[[0]]
    params = StoryParams(threshold=0.9, window_days=2, max_span_days=4)
    start = day_ordinal("2026-01-01")
    # One identical article a day for eight days: days 0-4 form one cluster (span 4), the
    # rest a second; a gap longer than the window also starts a new cluster.
    days = [start + d for d in range(8)] + [start + 20]
    out, clusters = assign_stories(list(range(9)), days, np.repeat(vec, 9, axis=0), [], params)
    assert [a.key for a in out] == [1, 1, 1, 1, 1, 2, 2, 2, 3]
    assert (clusters[0].first, clusters[0].last) == (start, start + 4)


def test_assignment_is_deterministic() -> None:
    rng = np.random.default_rng(3)
    vectors = unit_rows(rng.standard_normal((200, 16)))
    days = sorted(day_ordinal("2026-02-01") + int(d) for d in rng.integers(0, 10, 200))
    a, _ = assign_stories(list(range(200)), days, vectors, [], StoryParams(threshold=0.5))
    b, _ = assign_stories(list(range(200)), days, vectors, [], StoryParams(threshold=0.5))
    assert a == b


def _store(db: sqlite_utils.Database) -> tuple[FakeEmbedder, dict[str, int], list[int]]:
    fake = FakeEmbedder(dim=64)
    feeds = add_feeds(db)
    rows = [
        ("wire", "Gold hits record high as bullion buyers pile in", "2026-03-02"),
        ("daily", "Gold hits a record high as bullion buyers pile in again", "2026-03-02"),
        ("weekly", "Senate passes funding bill to end shutdown", "2026-03-02"),
        ("wire", "Gold record high bullion buyers pile in", "2026-03-03"),
        ("daily", "Senate passes the funding bill, ending shutdown", "2026-03-03"),
        ("weekly", "Wheat harvest hit by drought", "2026-03-04"),
    ]
    ids = [insert_article(db, feeds[f], t, d) for f, t, d in rows]
    store_vectors(db, fake, ids, [r[1] for r in rows])
    return fake, feeds, ids


def _clusters(db: sqlite_utils.Database) -> list[tuple[int, ...]]:
    """Member sets (sorted ids), independent of cluster numbering."""
    groups: dict[int, list[int]] = {}
    for aid, cid in db.conn.execute("SELECT article_id, cluster_id FROM story_articles WHERE is_copy = 0"):
        groups.setdefault(cid, []).append(aid)
    return sorted(tuple(sorted(g)) for g in groups.values())


def test_refresh_groups_stories_and_counts_outlets(db: sqlite_utils.Database) -> None:
    _fake, _feeds, ids = _store(db)
    summary = refresh_stories(db.conn, StoryParams(threshold=0.7))
    assert summary.full and summary.articles_added == 6
    assert _clusters(db) == [(ids[0], ids[1], ids[3]), (ids[2], ids[4]), (ids[5],)]
    gold = db.conn.execute(
        "SELECT first_day, last_day, articles, sources, representative_id, title FROM story_clusters c "
        "JOIN story_articles s ON s.cluster_id = c.id WHERE s.article_id = ?", (ids[0],)).fetchone()
    assert gold == ("2026-03-02", "2026-03-03", 3, 2, ids[0], "Gold hits record high as bullion buyers pile in")
    # Every vector-bearing article is in exactly one cluster: stories = distinct clusters.
    assert db.conn.execute("SELECT COUNT(DISTINCT cluster_id) FROM story_articles").fetchone()[0] == 3
    # Nothing new: nothing changes.
    again = refresh_stories(db.conn, StoryParams(threshold=0.7))
    assert not again.full and again.articles_added == 0 and _clusters(db) == [
        (ids[0], ids[1], ids[3]), (ids[2], ids[4]), (ids[5],)]


def test_incremental_refresh_equals_a_full_rebuild(db: sqlite_utils.Database) -> None:
    fake, feeds, ids = _store(db)
    params = StoryParams(threshold=0.7)
    refresh_stories(db.conn, params)
    later = [
        ("weekly", "Gold record high: bullion buyers pile in", "2026-03-04"),
        ("wire", "Drought hits the wheat harvest", "2026-03-05"),
        ("daily", "Shutdown ends as Senate passes funding bill", "2026-03-09"),
    ]
    new = [insert_article(db, feeds[f], t, d) for f, t, d in later]
    store_vectors(db, fake, new, [r[1] for r in later])
    inc = refresh_stories(db.conn, params)
    assert not inc.full and inc.articles_added == 3
    incremental = _clusters(db)
    # The gold story grows to four outlets' articles; the shutdown story is a week later: new.
    assert (ids[0], ids[1], ids[3], new[0]) in incremental
    assert (new[2],) in incremental
    rebuilt = refresh_stories(db.conn, params, full=True)
    assert rebuilt.full
    assert _clusters(db) == incremental


def test_duplicates_join_their_roots_cluster_as_copies(db: sqlite_utils.Database) -> None:
    _fake, feeds, ids = _store(db)
    copy = insert_article(db, feeds["weekly"], "Gold hits record high as bullion buyers pile in", "2026-03-02",
                          duplicate_of=ids[0])
    summary = refresh_stories(db.conn, StoryParams(threshold=0.7))
    assert summary.copies_added == 1
    row = db.conn.execute("SELECT s.is_copy, c.articles, c.copies, c.sources FROM story_articles s "
                          "JOIN story_clusters c ON c.id = s.cluster_id WHERE s.article_id = ?", (copy,)).fetchone()
    assert row == (1, 3, 1, 3)


def test_new_parameters_rebuild_everything(db: sqlite_utils.Database) -> None:
    _store(db)
    loose = refresh_stories(db.conn, StoryParams(threshold=0.7))
    strict = refresh_stories(db.conn, StoryParams(threshold=0.99))
    assert strict.full and strict.version != loose.version
    assert strict.clusters_total == 6  # nothing is that similar: all singletons
    builds = db.conn.execute("SELECT version, full FROM story_builds ORDER BY id").fetchall()
    assert [b[1] for b in builds] == [1, 1]


def test_no_vectors_is_a_no_op(db: sqlite_utils.Database) -> None:
    summary = refresh_stories(db.conn)
    assert summary.articles_added == 0 and summary.clusters_total == 0


def test_an_outlets_own_follow_up_needs_the_stricter_threshold() -> None:
    a = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    b = np.array([0.8, 0.6, 0.0], dtype=np.float32)  # cosine 0.8 with a
    c = np.array([0.9, 0.0, np.sqrt(1 - 0.81)], dtype=np.float32)  # cosine 0.9 with a
    day = day_ordinal("2026-01-05")
    params = StoryParams(threshold=0.75, same_source_threshold=0.85)
    # b from another feed joins a's story; from a's own feed it starts its own.
    other, _ = assign_stories([1, 2], [day, day], np.stack([a, b]), [], params, feeds=[1, 2])
    same, _ = assign_stories([1, 2], [day, day], np.stack([a, b]), [], params, feeds=[1, 1])
    assert [x.key for x in other] == [1, 1] and [x.key for x in same] == [1, 2]
    # A near-repeat from the same feed still joins.
    repeat, _ = assign_stories([1, 3], [day, day], np.stack([a, c]), [], params, feeds=[1, 1])
    assert [x.key for x in repeat] == [1, 1]
