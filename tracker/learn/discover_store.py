"""Topic discovery, the store side: read a window's articles, vectors and mentions, run
:mod:`tracker.learn.discover`, write ``discover_runs``, ``discovered_topics``,
``topic_articles`` and ``topic_daily`` in one transaction; read topics back for the weekly
report ("Emerging stories") and for ``tracker discover --propose``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from tracker.base.db import transaction, utcnow
from tracker.base.errors import TrackerError
from tracker.learn.discover import (
    DiscoverParams,
    TopicRef,
    daily_counts,
    document_text,
    fit_topics,
    growth,
    link_topic,
    method_name,
    representatives,
    top_entities,
    topic_label,
    unit,
)
from tracker.learn.stories import vector_model

SCOPES = ("unclaimed", "all")
#: Unlinked NER labels worth showing as a topic's entities (linked gazetteer entities always are).
_ENTITY_LABELS = ("ORG", "PERSON", "GPE", "NORP", "PRODUCT", "EVENT", "LAW", "FAC", "LOC")

Progress = Callable[[str], None]


@dataclass
class RunSummary:
    """What one scope of ``tracker discover`` found."""

    run_id: int
    scope: str
    start_day: str
    end_day: str
    articles: int
    topics: int
    outliers: int
    seconds: float
    previous_run_id: int | None
    linked: int
    growth: dict[str, int] = field(default_factory=dict)
    top: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain figures for JSON output."""
        return asdict(self)


def resolve_window(conn: sqlite3.Connection, since: str | None, until: str | None,
                   weeks: int) -> tuple[str, str]:
    """(first day, last day): ``until`` or the latest article day; ``since`` or ``weeks`` back."""
    for name, value in (("--since", since), ("--until", until)):
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError as exc:
                raise TrackerError(f"{name} {value!r} is not a day. Fix: write it as YYYY-MM-DD.") from exc
    end = until or conn.execute(
        "SELECT MAX(a.day) FROM articles a JOIN article_embeddings e ON e.article_id = a.id"
    ).fetchone()[0]
    if end is None:
        raise TrackerError("No article has a stored vector yet. Fix: run `tracker enrich` "
                           "(the narratives stage stores one per article), then `tracker discover`.")
    start = since or (date.fromisoformat(end) - timedelta(days=7 * weeks - 1)).isoformat()
    if start > end:
        raise TrackerError(f"The window {start}..{end} is empty. Fix: give --since before --until.")
    return start, end


@dataclass
class Window:
    """The articles of one window: ids, days, feeds, titles, texts, vectors, stories."""

    ids: list[int]
    days: list[str]
    feeds: list[int]
    titles: list[str]
    urls: list[str | None]
    texts: list[str]
    vectors: np.ndarray
    stories: list[int | None]
    claimed: np.ndarray

    def subset(self, mask: np.ndarray) -> Window:
        """The articles where ``mask`` is true."""
        idx = np.flatnonzero(mask).tolist()
        return Window(
            [self.ids[i] for i in idx], [self.days[i] for i in idx], [self.feeds[i] for i in idx],
            [self.titles[i] for i in idx], [self.urls[i] for i in idx], [self.texts[i] for i in idx],
            self.vectors[idx], [self.stories[i] for i in idx], self.claimed[idx],
        )


def load_window(conn: sqlite3.Connection, start: str, end: str, model: str,
                params: DiscoverParams) -> Window:
    """Non-duplicate articles of the window with a ``model`` vector, in id order."""
    rows = conn.execute(
        """
        SELECT a.id, a.day, a.feed_id, a.title, coalesce(nullif(a.content_text, ''), a.summary), a.url,
          e.vector, s.cluster_id,
          EXISTS (SELECT 1 FROM article_narratives an WHERE an.article_id = a.id AND an.is_member = 1)
        FROM articles a
        JOIN article_embeddings e ON e.article_id = a.id AND e.model = ?
        LEFT JOIN story_articles s ON s.article_id = a.id
        WHERE a.day BETWEEN ? AND ? AND a.duplicate_of IS NULL
        ORDER BY a.id
        """,
        (model, start, end),
    ).fetchall()
    dim = len(rows[0][6]) // 4 if rows else 0
    vectors = (np.frombuffer(b"".join(r[6] for r in rows), dtype="<f4").reshape(len(rows), dim)
               if rows else np.zeros((0, 0), dtype=np.float32))
    return Window(
        ids=[r[0] for r in rows], days=[r[1] for r in rows], feeds=[r[2] for r in rows],
        titles=[r[3] or "" for r in rows], urls=[r[5] for r in rows],
        texts=[document_text(r[3], r[4], params.body_chars) for r in rows],
        vectors=vectors.astype(np.float32), stories=[r[7] for r in rows],
        claimed=np.array([bool(r[8]) for r in rows], dtype=bool),
    )


def load_entities(conn: sqlite3.Connection, start: str, end: str
                  ) -> tuple[dict[int, set[str]], dict[str, str]]:
    """Per article the entity keys it names (linked id, else ``~`` + lower-cased text), and names."""
    by_article: dict[int, set[str]] = {}
    surfaces: dict[str, Counter[str]] = {}
    names: dict[str, str] = {}
    marks = ",".join("?" * len(_ENTITY_LABELS))
    rows = conn.execute(
        f"""
        SELECT m.article_id, m.entity_id, e.name, m.text FROM mentions m
        JOIN articles a ON a.id = m.article_id
        LEFT JOIN entities e ON e.id = m.entity_id
        WHERE a.day BETWEEN ? AND ? AND a.duplicate_of IS NULL
          AND (m.entity_id IS NOT NULL OR m.label IN ({marks}))
        """,
        (start, end, *_ENTITY_LABELS),
    )
    for aid, eid, name, text in rows:
        if eid is not None:
            key = eid
            names[key] = name or eid
        else:
            surface = " ".join(text.split())
            key = "~" + surface.lower()
            surfaces.setdefault(key, Counter())[surface] += 1
        by_article.setdefault(aid, set()).add(key)
    for key, counter in surfaces.items():
        names[key] = counter.most_common(1)[0][0]
    return by_article, names


def previous_run(conn: sqlite3.Connection, scope: str, end_day: str) -> int | None:
    """The latest run of ``scope`` whose window ends before ``end_day``."""
    row = conn.execute(
        "SELECT id FROM discover_runs WHERE scope = ? AND end_day < ? ORDER BY end_day DESC, id DESC LIMIT 1",
        (scope, end_day),
    ).fetchone()
    return row[0] if row else None


def load_topic_refs(conn: sqlite3.Connection, run_id: int, model: str) -> list[TopicRef]:
    """The topics of a stored run with their article sets and mean vectors."""
    refs = []
    for tid, thread in conn.execute(
        "SELECT id, coalesce(thread_id, id) FROM discovered_topics WHERE run_id = ? ORDER BY topic", (run_id,)
    ).fetchall():
        rows = conn.execute(
            "SELECT ta.article_id, e.vector FROM topic_articles ta "
            "LEFT JOIN article_embeddings e ON e.article_id = ta.article_id AND e.model = ? "
            "WHERE ta.topic_id = ?",
            (model, tid),
        ).fetchall()
        vecs = [np.frombuffer(v, dtype="<f4") for _, v in rows if v is not None]
        centroid = unit(np.mean(vecs, axis=0)) if vecs else np.zeros(1)
        refs.append(TopicRef(tid, thread, frozenset(a for a, _ in rows), centroid))
    return refs


def narratives_version(conn: sqlite3.Connection, start: str, end: str) -> str | None:
    """The narrative model versions that decided which articles are claimed in the window."""
    rows = conn.execute(
        "SELECT DISTINCT an.model_version FROM articles a JOIN article_narratives an ON an.article_id = a.id "
        "WHERE a.day BETWEEN ? AND ? AND an.is_member = 1 ORDER BY 1",
        (start, end),
    ).fetchall()
    return ",".join(r[0] for r in rows) or None


def discover_scope(
    conn: sqlite3.Connection,
    window: Window,
    scope: str,
    start: str,
    end: str,
    model: str,
    params: DiscoverParams,
    entities: tuple[dict[int, set[str]], dict[str, str]],
    progress: Progress | None = None,
) -> RunSummary:
    """Cluster one scope of a loaded window and store the run; returns its summary."""
    started = time.perf_counter()
    data = window.subset(~window.claimed) if scope == "unclaimed" else window
    say = progress or (lambda _msg: None)
    say(f"{scope}: clustering {len(data.ids):,} articles ({start}..{end})")
    fit = fit_topics(data.texts, data.vectors, params)
    by_article, names = entities
    doc_freq: Counter[str] = Counter()
    for aid in data.ids:
        doc_freq.update(by_article.get(aid, ()))
    prev_id = previous_run(conn, scope, end)
    prev_refs = load_topic_refs(conn, prev_id, model) if prev_id is not None else []
    has_stories = any(s is not None for s in data.stories)
    feed_names = dict(conn.execute("SELECT id, name FROM feeds").fetchall())
    topics = sorted(set(fit.labels.tolist()) - {-1})
    seconds = time.perf_counter() - started
    summary = RunSummary(0, scope, start, end, len(data.ids), len(topics),
                         int((fit.labels == -1).sum()), 0.0, prev_id, 0)
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO discover_runs (scope, start_day, end_day, articles, topics, outliers, embedding_model,"
            " method, params, narratives_version, previous_run_id, seconds, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (scope, start, end, summary.articles, summary.topics, summary.outliers, model, method_name(),
             json.dumps(params.to_json(), sort_keys=True), narratives_version(conn, start, end), prev_id,
             round(seconds, 2), utcnow()),
        )
        run_id = int(cur.lastrowid or 0)
        summary.run_id = run_id
        for topic in topics:
            idx = np.flatnonzero(fit.labels == topic).tolist()
            members = [data.ids[i] for i in idx]
            vecs = data.vectors[idx]
            days = [data.days[i] for i in idx]
            feeds = [data.feeds[i] for i in idx]
            stories = [data.stories[i] for i in idx] if has_stories else None
            daily = daily_counts(days, feeds, stories)
            centroid = unit(vecs.mean(axis=0))
            ref, link_score = link_topic(set(members), centroid, prev_refs, params)
            grow = growth({r["day"]: r["articles"] for r in daily}, start, end, params, ref is not None)
            picks = representatives(members, vecs, [data.titles[i] for i in idx], stories)
            headlines = [{"article_id": members[p], "title": data.titles[idx[p]], "day": days[p],
                          "source": feed_names.get(feeds[p]), "url": data.urls[idx[p]]} for p in picks]
            peak = max(daily, key=lambda r: (r["articles"], r["day"]))["day"]
            terms = fit.terms.get(topic, [])
            cur = conn.execute(
                "INSERT INTO discovered_topics (run_id, topic, label, articles, stories, sources, first_day,"
                " last_day, peak_day, recent_articles, baseline_weekly, growth, terms, entities, headlines,"
                " continues_topic_id, link_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, topic, topic_label(terms) or f"topic {topic}", len(members),
                 len(set(stories)) if stories is not None else None, len(set(feeds)), min(days), max(days),
                 peak, grow.recent,
                 round(grow.baseline_weekly, 2) if grow.baseline_weekly is not None else None, grow.label,
                 json.dumps([{"term": t, "weight": w} for t, w in terms], ensure_ascii=False),
                 json.dumps(top_entities(members, by_article, doc_freq, len(data.ids), names),
                            ensure_ascii=False),
                 json.dumps(headlines, ensure_ascii=False),
                 ref.id if ref else None, link_score if ref else None),
            )
            topic_id = int(cur.lastrowid or 0)
            conn.execute("UPDATE discovered_topics SET thread_id = ? WHERE id = ?",
                         (ref.thread_id if ref else topic_id, topic_id))
            conn.executemany(
                "INSERT INTO topic_articles (topic_id, article_id, probability) VALUES (?, ?, ?)",
                [(topic_id, data.ids[i], round(float(fit.probabilities[i]), 4)) for i in idx],
            )
            conn.executemany(
                "INSERT INTO topic_daily (topic_id, day, articles, stories, sources) VALUES (?, ?, ?, ?, ?)",
                [(topic_id, r["day"], r["articles"], r["stories"], r["sources"]) for r in daily],
            )
            summary.linked += ref is not None
            summary.growth[grow.label] = summary.growth.get(grow.label, 0) + 1
            if len(summary.top) < 15:
                summary.top.append({"id": topic_id, "label": topic_label(terms), "articles": len(members),
                                    "growth": grow.label})
        summary.seconds = round(time.perf_counter() - started, 2)
        conn.execute("UPDATE discover_runs SET seconds = ? WHERE id = ?", (summary.seconds, run_id))
    say(f"{scope}: {summary.topics} topics, {summary.outliers:,} outliers, {summary.seconds:.0f}s")
    return summary


def run_discover(
    conn: sqlite3.Connection,
    params: DiscoverParams | None = None,
    *,
    since: str | None = None,
    until: str | None = None,
    weeks: int = 4,
    scopes: tuple[str, ...] = SCOPES,
    model: str | None = None,
    progress: Progress | None = None,
) -> list[RunSummary]:
    """Discover topics in the window for each scope (unclaimed articles, all articles) and store them."""
    params = params or DiscoverParams()
    for scope in scopes:
        if scope not in SCOPES:
            raise TrackerError(f"Unknown scope {scope!r}. Fix: use one of {', '.join(SCOPES)}.")
    model = model or vector_model(conn)
    if model is None:
        raise TrackerError("No article vectors stored. Fix: run `tracker enrich` first "
                           "(the narratives stage stores one vector per article).")
    start, end = resolve_window(conn, since, until, weeks)
    window = load_window(conn, start, end, model, params)
    entities = load_entities(conn, start, end)
    return [discover_scope(conn, window, scope, start, end, model, params, entities, progress)
            for scope in scopes]
