"""Read discovered topics back: "Emerging stories" for the weekly report, and a
``narratives.yaml`` entry proposed from a topic (``tracker discover --propose ID``).
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from tracker.base.errors import TrackerError
from tracker.learn.discover import unit


@dataclass
class EmergingStory:
    """A new or rising discovered topic, as the weekly report shows it."""

    topic_id: int
    run_id: int
    scope: str
    label: str
    growth: str
    articles: int
    stories: int | None
    sources: int
    recent_articles: int
    baseline_weekly: float | None
    first_day: str
    last_day: str
    terms: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    headlines: list[dict[str, Any]] = field(default_factory=list)
    continues_topic_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data (JSON-able)."""
        return asdict(self)


def emerging_stories(
    conn: sqlite3.Connection,
    week_start: str,
    week_end: str,
    *,
    scope: str = "unclaimed",
    limit: int = 5,
    min_recent: int = 5,
) -> list[EmergingStory]:
    """The new and rising topics of the latest discovery run ending in the week, biggest first.

    The run is the latest of ``scope`` whose window ends within ``week_start..week_end``
    (``tracker discover --until <week's last day>`` makes one); none gives an empty list.
    Topics with fewer than ``min_recent`` articles in their recent period are left out.
    """
    run = conn.execute(
        "SELECT id FROM discover_runs WHERE scope = ? AND end_day BETWEEN ? AND ? "
        "ORDER BY end_day DESC, id DESC LIMIT 1",
        (scope, week_start, week_end),
    ).fetchone()
    if run is None:
        return []
    rows = conn.execute(
        "SELECT id, run_id, label, growth, articles, stories, sources, recent_articles, baseline_weekly,"
        " first_day, last_day, terms, entities, headlines, continues_topic_id FROM discovered_topics"
        " WHERE run_id = ? AND growth IN ('new', 'rising') AND recent_articles >= ?"
        " ORDER BY coalesce(stories, articles) DESC, recent_articles DESC, id LIMIT ?",
        (run[0], min_recent, limit),
    ).fetchall()
    return [
        EmergingStory(
            topic_id=r[0], run_id=r[1], scope=scope, label=r[2], growth=r[3], articles=r[4], stories=r[5],
            sources=r[6], recent_articles=r[7], baseline_weekly=r[8], first_day=r[9], last_day=r[10],
            terms=[t["term"] for t in json.loads(r[11])],
            entities=[e["name"] for e in json.loads(r[12])],
            headlines=json.loads(r[13]), continues_topic_id=r[14],
        )
        for r in rows
    ]


# ------------------------------------------------------------------------------ --propose


def clean_sentence(text: str) -> str:
    """An example sentence from a headline: entities unescaped, whitespace collapsed."""
    return " ".join(html.unescape(text or "").split())


def slug(terms: Sequence[str], taken: set[str]) -> str:
    """A narrative id from the first terms (``tariffs_trade``), unique among ``taken``."""
    words: list[str] = []
    for term in terms:
        for word in re.findall(r"[a-z0-9]+", term.lower()):
            if word not in words:
                words.append(word)
        if len(words) >= 2:
            break
    base = "_".join(words[:3]) or "topic"
    if not base[0].isalpha():
        base = "topic_" + base
    base = base[:56]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate


def build_entry(
    terms: Sequence[str],
    entities: Sequence[str],
    examples: Sequence[str],
    negatives: Sequence[str],
    taken: set[str],
) -> dict[str, Any]:
    """The proposed narrative as data (the keys ``narratives.yaml`` reads)."""
    terms = [t for t in terms if t.strip()]
    if not terms:
        raise TrackerError("This topic has no terms to propose from. Fix: pick another topic id.")
    kept = terms[:4]
    label = ", ".join(t.capitalize() if i == 0 else t for i, t in enumerate(kept[:3]))
    naming = f", often naming {', '.join(entities[:4])}" if entities else ""
    description = f"News about {', '.join(terms[:6])}{naming}."
    phrases = [t for t in terms if " " in t] + [t for t in terms if " " not in t]
    lexicon = {t: (1.0 if i < 4 else 0.5) for i, t in enumerate(terms[:8])}
    entry: dict[str, Any] = {
        "id": slug(terms, taken),
        "label": label,
        "description": description,
        "seeds": phrases[:6],
        "positive_examples": [clean_sentence(s) for s in examples if clean_sentence(s)][:6],
    }
    negs = [clean_sentence(s) for s in negatives if clean_sentence(s)][:4]
    if negs:
        entry["negative_examples"] = negs
    entry["lexicon"] = lexicon
    return entry


def format_entry(entry: dict[str, Any], header: Sequence[str]) -> str:
    """YAML for one entry, indented to paste under ``narratives:``, after comment lines."""
    body = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100, default_flow_style=False)
    lines = [f"  # {h}" for h in header]
    lines += ["  " + line if line else line for line in body.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


def _titles_near(conn: sqlite3.Connection, topic_id: int, model: str, limit: int) -> list[str]:
    """Titles of the topic's articles closest to its mean vector, one per story and title."""
    rows = conn.execute(
        "SELECT a.title, e.vector, s.cluster_id FROM topic_articles ta JOIN articles a ON a.id = ta.article_id "
        "JOIN article_embeddings e ON e.article_id = a.id AND e.model = ? "
        "LEFT JOIN story_articles s ON s.article_id = a.id WHERE ta.topic_id = ? ORDER BY a.id",
        (model, topic_id),
    ).fetchall()
    if not rows:
        return []
    from tracker.learn.discover import representatives

    vecs = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])
    stories = [r[2] if r[2] is not None else -i for i, r in enumerate(rows)]
    picks = representatives([0] * len(rows), vecs, [r[0] or "" for r in rows], stories, limit=limit)
    return [rows[p][0] for p in picks if rows[p][0]]


def propose(conn: sqlite3.Connection, topic_id: int, taken: set[str]) -> str:
    """A reviewed-before-paste ``narratives.yaml`` entry for discovered topic ``topic_id``."""
    row = conn.execute(
        "SELECT t.id, t.run_id, t.label, t.articles, t.terms, t.entities, r.scope, r.start_day, r.end_day,"
        " r.embedding_model FROM discovered_topics t JOIN discover_runs r ON r.id = t.run_id WHERE t.id = ?",
        (topic_id,),
    ).fetchone()
    if row is None:
        raise TrackerError(f"No discovered topic {topic_id}. Fix: pick an id from the discovered_topics "
                           "table (`tracker discover` prints the largest ones).")
    tid, run_id, label, size, terms_json, entities_json, scope, start, end, model = row
    terms = [t["term"] for t in json.loads(terms_json)]
    entities = [e["name"] for e in json.loads(entities_json)]
    examples = _titles_near(conn, tid, model, 6)
    # Near misses: central articles of the run's two topics closest to this one.
    centroids = {}
    for other, in conn.execute("SELECT id FROM discovered_topics WHERE run_id = ?", (run_id,)).fetchall():
        vecs = [np.frombuffer(v, dtype="<f4") for v, in conn.execute(
            "SELECT e.vector FROM topic_articles ta JOIN article_embeddings e ON e.article_id = ta.article_id"
            " AND e.model = ? WHERE ta.topic_id = ?", (model, other))]
        if vecs:
            centroids[other] = unit(np.mean(vecs, axis=0))
    negatives: list[str] = []
    if tid in centroids:
        near = sorted((o for o in centroids if o != tid), key=lambda o: -float(centroids[o] @ centroids[tid]))
        for other in near[:2]:
            negatives += _titles_near(conn, other, model, 2)
    entry = build_entry(terms, entities, examples, negatives, taken)
    header = [
        f"Proposed from discovered topic {tid} ({label}): {size} articles, {scope} articles "
        f"{start}..{end}, run {run_id}.",
        "Review every line before pasting under `narratives:` in models/narratives.yaml:",
        "keep the examples that belong, rewrite them in your own words if you publish the file,",
        "add near-miss negative_examples and a labelling guide. The next `tracker enrich` scores it.",
    ]
    return format_entry(entry, header)


def narrative_ids(path: Path) -> set[str]:
    """Ids already used in a narratives file (so a proposal does not reuse one)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return set()
    entries = (data or {}).get("narratives", []) if isinstance(data, dict) else []
    return {str(n["id"]) for n in entries if isinstance(n, dict) and n.get("id")}
