"""Story clusters: near-duplicate and same-event articles across outlets grouped into one story.

"1 event, 12 stories, 4 outlets": every non-duplicate article with a stored vector
(``article_embeddings``) belongs to exactly one cluster in ``story_articles`` (most are
singletons), so ``COUNT(DISTINCT cluster_id)`` counts stories where ``COUNT(*)`` counts
articles. An exact or title duplicate (``articles.duplicate_of``) joins its root's cluster
as a copy (``is_copy = 1``), so ``sources`` counts every outlet that ran the story.

How an article is assigned (:func:`assign_stories`, pure): articles are taken in time order
(day, published time, id); each joins the most similar open cluster when the cosine between
its vector and the cluster's centroid (the normalised sum of its members' vectors) reaches
``threshold`` (``same_source_threshold`` when the cluster already holds an article of the
same feed), else it starts a new cluster. A cluster is open to an article ``window_days``
either side of its days, and never grows to span more than ``max_span_days``, so a running
topic ("Bitcoin price today") cannot chain into a months-long cluster.

Why hand-written: the grouping must be incremental (new articles join stored clusters
without reclustering the history) and bounded in time; scikit-learn's agglomerative
clustering is neither and costs O(n^2) memory. This is a single pass of matrix products.

:func:`refresh_stories` is the store side: it assigns the articles not yet clustered (or
everything when the parameters or the embedding model changed, or ``full=True``) and
rewrites the touched clusters' figures in one transaction. A refresh gives the clusters of
a full rebuild when the new articles are not older than the stored ones (the nightly case);
an article arriving days late joins what is open around its day.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from tracker.base.db import transaction, utcnow

#: Bump when the assignment rule changes in a way the parameters do not capture.
STORIES_VERSION = 1


@dataclass(frozen=True)
class StoryParams:
    """What decides the clusters; stored with every build and part of the version."""

    #: Cosine to a cluster's centroid from which an article joins it (MiniLM article vectors;
    #: chosen by reading pairs of real articles at each similarity, see eval/stories/).
    threshold: float = 0.75
    #: The same, when the cluster already holds an article of the same feed: an outlet's own
    #: follow-ups and thematic series score 0.75-0.8 against each other without being one
    #: event, while its true repeats (updated headlines) score above 0.85 (eval/discover/).
    same_source_threshold: float = 0.85
    #: Days either side of a cluster's first and last day within which an article may join.
    window_days: int = 2
    #: A cluster never spans more days than this (first to last day).
    max_span_days: int = 4

    def version(self, model: str) -> str:
        """``stories:<n>+<model>+t<threshold>+w<window>+s<span>``: a change rebuilds all."""
        return (f"stories:{STORIES_VERSION}+{model}+t{self.threshold:g}+st{self.same_source_threshold:g}"
                f"+w{self.window_days}+s{self.max_span_days}")


@dataclass
class OpenCluster:
    """A cluster as the assignment pass sees it: days (ordinals), centroid sum, size."""

    key: int
    first: int
    last: int
    total: np.ndarray
    size: int
    feeds: set[int] = field(default_factory=set)
    new: bool = False
    touched: bool = False

    def admits(self, day: int, params: StoryParams) -> bool:
        """True if an article of ``day`` may join without stretching the cluster too far."""
        if day < self.first - params.window_days or day > self.last + params.window_days:
            return False
        return max(self.last, day) - min(self.first, day) <= params.max_span_days

    def closed_to(self, day: int, params: StoryParams) -> bool:
        """True if no article of ``day`` or later may join any more."""
        return day > self.last + params.window_days or day - self.first > params.max_span_days


@dataclass(frozen=True)
class Assignment:
    """One article's cluster (a key of an :class:`OpenCluster`) and its cosine when it joined."""

    article_id: int
    key: int
    similarity: float


def day_ordinal(day: str) -> int:
    """``YYYY-MM-DD`` -> proleptic Gregorian ordinal (days are compared as integers)."""
    return date.fromisoformat(day).toordinal()


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def assign_stories(
    article_ids: Sequence[int],
    days: Sequence[int],
    vectors: np.ndarray,
    clusters: list[OpenCluster],
    params: StoryParams,
    next_key: int = 1,
    feeds: Sequence[int] | None = None,
) -> tuple[list[Assignment], list[OpenCluster]]:
    """Assign articles (already in time order) to clusters; ``clusters`` is updated in place.

    ``feeds`` (one per article) lets the stricter ``same_source_threshold`` apply when a
    cluster already holds an article of the same feed. Returns one :class:`Assignment` per
    article and the clusters (old and new). New clusters get keys from ``next_key`` upwards
    and ``new=True``; joined ones get ``touched=True``.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    out: list[Assignment] = []
    all_clusters = list(clusters)
    live = list(clusters)
    # Clusters open around the current day, as the first ``rows`` rows of a buffer of unit
    # centroids (grown by doubling: appending a row per new cluster would copy it each time).
    active: list[OpenCluster] = []
    matrix = np.zeros((64, dim), dtype=np.float32)
    rows = 0
    current_day: int | None = None
    for i, (aid, day) in enumerate(zip(article_ids, days, strict=True)):
        if day != current_day:
            current_day = day
            # Days come in ascending order: a cluster closed to this day stays closed.
            live = [c for c in live if not c.closed_to(day, params)]
            active = [c for c in live if c.admits(day, params)]
            rows = len(active)
            matrix = np.zeros((max(64, 2 * rows), dim), dtype=np.float32)
            for r, c in enumerate(active):
                matrix[r] = _unit(c.total)
        vec = vectors[i]
        feed = feeds[i] if feeds is not None else None
        best, best_sim = -1, -1.0
        if rows:
            sims = matrix[:rows] @ vec
            needed = np.array([params.same_source_threshold if feed in c.feeds else params.threshold
                               for c in active[:rows]], dtype=np.float32)
            passing = np.where(sims >= needed, sims, -2.0)
            # Ties go to the earliest cluster (lowest row), so runs are deterministic.
            best = int(np.argmax(passing))
            best_sim = float(passing[best])
        if best >= 0 and best_sim >= params.threshold and active[best].admits(day, params):
            cluster = active[best]
            cluster.total = cluster.total + vec
            cluster.size += 1
            cluster.first = min(cluster.first, day)
            cluster.last = max(cluster.last, day)
            cluster.touched = True
            if feed is not None:
                cluster.feeds.add(feed)
            matrix[best] = _unit(cluster.total)
            out.append(Assignment(aid, cluster.key, best_sim))
            continue
        cluster = OpenCluster(key=next_key, first=day, last=day, total=vec.astype(np.float64),
                              size=1, feeds={feed} if feed is not None else set(), new=True, touched=True)
        next_key += 1
        all_clusters.append(cluster)
        live.append(cluster)
        active.append(cluster)
        if rows == matrix.shape[0]:
            matrix = np.vstack([matrix, np.zeros_like(matrix)])
        matrix[rows] = vec
        rows += 1
        out.append(Assignment(aid, cluster.key, 1.0))
    return out, all_clusters


# ------------------------------------------------------------------------------ store


@dataclass
class StorySummary:
    """What one :func:`refresh_stories` did."""

    version: str
    full: bool
    articles_added: int = 0
    copies_added: int = 0
    clusters_new: int = 0
    clusters_touched: int = 0
    clusters_total: int = 0
    seconds: float = 0.0
    params: dict[str, object] = field(default_factory=dict)


def vector_model(conn: sqlite3.Connection) -> str | None:
    """The embedding model most article vectors were stored with (None without vectors)."""
    row = conn.execute(
        "SELECT model FROM article_embeddings GROUP BY model ORDER BY COUNT(*) DESC, model LIMIT 1"
    ).fetchone()
    return row[0] if row else None


def _stored_version(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT version FROM story_builds ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def _pending(conn: sqlite3.Connection, model: str) -> list[tuple[int, str, bytes, int]]:
    """Non-duplicate articles with a vector of ``model`` and no cluster, in time order."""
    return conn.execute(
        "SELECT a.id, a.day, e.vector, a.feed_id FROM articles a "
        "JOIN article_embeddings e ON e.article_id = a.id AND e.model = ? "
        "LEFT JOIN story_articles s ON s.article_id = a.id "
        "WHERE a.duplicate_of IS NULL AND s.article_id IS NULL "
        "ORDER BY a.day, coalesce(a.published_at, a.fetched_at), a.id",
        (model,),
    ).fetchall()


def _load_open(conn: sqlite3.Connection, first_day: int, last_day: int, params: StoryParams,
               model: str) -> list[OpenCluster]:
    """Stored clusters an article between ``first_day`` and ``last_day`` could join."""
    lo = date.fromordinal(first_day - params.max_span_days).isoformat()
    hi = date.fromordinal(last_day + params.window_days).isoformat()
    rows = conn.execute(
        "SELECT c.id, c.first_day, c.last_day, c.articles, v.dim, v.vector FROM story_clusters c "
        "JOIN story_centroids v ON v.cluster_id = c.id AND v.model = ? "
        "WHERE c.last_day >= ? AND c.first_day <= ? ORDER BY c.id",
        (model, lo, hi),
    )
    clusters = [
        OpenCluster(key=cid, first=day_ordinal(f), last=day_ordinal(la),
                    total=np.frombuffer(blob, dtype="<f4").astype(np.float64), size=n)
        for cid, f, la, n, _dim, blob in rows
    ]
    by_key = {c.key: c for c in clusters}
    keys = sorted(by_key)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for cid, feed in conn.execute(
            f"SELECT DISTINCT s.cluster_id, a.feed_id FROM story_articles s JOIN articles a ON a.id = s.article_id "
            f"WHERE s.is_copy = 0 AND s.cluster_id IN ({','.join('?' * len(chunk))})", chunk
        ):
            by_key[cid].feeds.add(feed)
    return clusters


def _clear(conn: sqlite3.Connection) -> None:
    for table in ("story_articles", "story_centroids", "story_clusters"):
        conn.execute(f"DELETE FROM {table}")


def _attach_copies(conn: sqlite3.Connection) -> tuple[int, set[int]]:
    """Put duplicates not yet clustered into their root's cluster; return (rows, clusters)."""
    rows = conn.execute(
        "SELECT a.id, s.cluster_id FROM articles a JOIN story_articles s ON s.article_id = a.duplicate_of "
        "LEFT JOIN story_articles me ON me.article_id = a.id "
        "WHERE a.duplicate_of IS NOT NULL AND me.article_id IS NULL"
    ).fetchall()
    conn.executemany(
        "INSERT INTO story_articles (article_id, cluster_id, similarity, is_copy) VALUES (?, ?, NULL, 1)",
        rows,
    )
    return len(rows), {cid for _, cid in rows}


def _update_figures(conn: sqlite3.Connection, cluster_ids: set[int], version: str) -> None:
    """Recount days, articles, copies, sources and the representative of these clusters."""
    now = utcnow()
    ids = sorted(cluster_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(
            f"""
            UPDATE story_clusters SET
              first_day = (SELECT MIN(a.day) FROM story_articles s JOIN articles a ON a.id = s.article_id
                           WHERE s.cluster_id = story_clusters.id AND s.is_copy = 0),
              last_day = (SELECT MAX(a.day) FROM story_articles s JOIN articles a ON a.id = s.article_id
                          WHERE s.cluster_id = story_clusters.id AND s.is_copy = 0),
              articles = (SELECT COUNT(*) FROM story_articles s
                          WHERE s.cluster_id = story_clusters.id AND s.is_copy = 0),
              copies = (SELECT COUNT(*) FROM story_articles s
                        WHERE s.cluster_id = story_clusters.id AND s.is_copy = 1),
              sources = (SELECT COUNT(DISTINCT a.feed_id) FROM story_articles s
                         JOIN articles a ON a.id = s.article_id WHERE s.cluster_id = story_clusters.id),
              representative_id = (SELECT a.id FROM story_articles s JOIN articles a ON a.id = s.article_id
                                   WHERE s.cluster_id = story_clusters.id AND s.is_copy = 0
                                   ORDER BY a.day, coalesce(a.published_at, a.fetched_at), a.id LIMIT 1),
              version = ?, updated_at = ?
            WHERE id IN ({marks})
            """,
            [version, now, *chunk],
        )
        conn.execute(
            f"UPDATE story_clusters SET title = (SELECT title FROM articles WHERE id = representative_id) "
            f"WHERE id IN ({marks})",
            chunk,
        )


def refresh_stories(
    conn: sqlite3.Connection,
    params: StoryParams | None = None,
    *,
    model: str | None = None,
    full: bool = False,
) -> StorySummary:
    """Cluster the articles not yet in a story (all of them after a version change), in one transaction."""
    params = params or StoryParams()
    started = time.perf_counter()
    model = model or vector_model(conn)
    if model is None:
        return StorySummary(version=params.version("none"), full=full, params=asdict(params))
    version = params.version(model)
    with transaction(conn):
        full = full or _stored_version(conn) != version
        if full:
            _clear(conn)
        pending = _pending(conn, model)
        summary = StorySummary(version=version, full=full, params=asdict(params))
        touched: set[int] = set()
        if pending:
            ids = [r[0] for r in pending]
            days = [day_ordinal(r[1]) for r in pending]
            vectors = np.stack([np.frombuffer(r[2], dtype="<f4") for r in pending])
            clusters = [] if full else _load_open(conn, min(days), max(days), params, model)
            row = conn.execute("SELECT COALESCE(MAX(id), 0) FROM story_clusters").fetchone()
            assignments, clusters = assign_stories(ids, days, vectors, clusters, params,
                                                   next_key=int(row[0]) + 1, feeds=[r[3] for r in pending])
            now = utcnow()
            new = [c for c in clusters if c.new]
            conn.executemany(
                "INSERT INTO story_clusters (id, first_day, last_day, articles, sources, version, updated_at) "
                "VALUES (?, ?, ?, 0, 0, ?, ?)",
                [(c.key, date.fromordinal(c.first).isoformat(), date.fromordinal(c.last).isoformat(),
                  version, now) for c in new],
            )
            conn.executemany(
                "INSERT INTO story_articles (article_id, cluster_id, similarity, is_copy) VALUES (?, ?, ?, 0)",
                [(a.article_id, a.key, round(a.similarity, 4)) for a in assignments],
            )
            changed = [c for c in clusters if c.touched]
            conn.executemany(
                "INSERT OR REPLACE INTO story_centroids (cluster_id, model, dim, vector) VALUES (?, ?, ?, ?)",
                [(c.key, model, int(c.total.shape[0]), np.asarray(c.total, dtype="<f4").tobytes())
                 for c in changed],
            )
            touched = {c.key for c in changed}
            summary.articles_added = len(assignments)
            summary.clusters_new = len(new)
        copies, copy_clusters = _attach_copies(conn)
        touched |= copy_clusters
        summary.copies_added = copies
        summary.clusters_touched = len(touched)
        _update_figures(conn, touched, version)
        summary.clusters_total = conn.execute("SELECT COUNT(*) FROM story_clusters").fetchone()[0]
        summary.seconds = time.perf_counter() - started
        conn.execute(
            "INSERT INTO story_builds (version, params, full, articles_added, clusters, seconds, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (version, json.dumps(asdict(params), sort_keys=True), int(full), summary.articles_added,
             summary.clusters_total, round(summary.seconds, 3), utcnow()),
        )
    return summary
