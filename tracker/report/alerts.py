"""Alerts: new significant index spikes, recorded once, with their top stories, as Atom.

A spike is a narrative-day the index flagged (``narrative_index.spike = 1``: a p-value
under the spike threshold with enough articles and sources). Each becomes one row of
``alerts`` the first time it is seen within the look-back window; every delivery attempt
is a row of ``alert_deliveries`` (see :mod:`tracker.report.deliver`).
"""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from tracker.report.data import clean_text, outlet_name, safe_url

ATOM_NS = "http://www.w3.org/2005/Atom"
#: The day's page in ``tracker serve`` (canned query of the member articles with evidence).
DEFAULT_DAY_URL = "{base_url}/tracker/narrative_articles?narrative={narrative}&day={day}"


@dataclass(frozen=True)
class Story:
    """One story behind a spike: its best member article and how many articles/outlets carry it."""

    title: str
    url: str | None
    source: str
    articles: int
    sources: int
    score: float


@dataclass(frozen=True)
class Alert:
    """A new significant spike of one narrative on one day."""

    narrative_id: str
    label: str
    day: str
    articles: int
    expected: float | None
    index_value: float | None
    index_low: float | None
    index_high: float | None
    p_value: float | None
    member_sources: int
    stories: tuple[Story, ...]
    link: str | None

    @property
    def title(self) -> str:
        """One line: narrative, day, articles against expected."""
        exp = f" against {self.expected:.1f} expected" if self.expected is not None else ""
        return f"{self.label}: spike on {self.day} ({self.articles} articles{exp})"

    @property
    def summary(self) -> str:
        """Plain text: the figures and the top stories, one per line."""
        lines = [self.title + "."]
        if self.index_value is not None:
            band = (f" (interval {self.index_low:.0f}-{self.index_high:.0f})"
                    if self.index_low is not None and self.index_high is not None else "")
            p = f"; p = {self.p_value:.2g}" if self.p_value is not None else ""
            lines.append(f"Index {self.index_value:.0f}{band}; {self.member_sources} sources{p}.")
        for s in self.stories:
            lines.append(f"- {s.title} ({s.source}; {_n(s.articles, 'article')}, {_n(s.sources, 'outlet')})"
                         + (f" {s.url}" if s.url else ""))
        if self.link:
            lines.append(f"All articles of the day: {self.link}")
        return "\n".join(lines)

    def payload(self) -> str:
        """The alert as JSON, stored so the feed and retries show what was first sent."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_payload(cls, text: str) -> Alert:
        """Rebuild an alert stored by :meth:`payload`."""
        raw: dict[str, Any] = json.loads(text)
        raw["stories"] = tuple(Story(**s) for s in raw.get("stories", []))
        return cls(**raw)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def day_link(template: str, base_url: str, narrative: str, day: str) -> str | None:
    """The day's page for a narrative, or None without a base URL."""
    if not base_url:
        return None
    return template.format(base_url=base_url.rstrip("/"), narrative=quote(narrative, safe=""),
                           day=quote(day, safe=""))


_SPIKES_SQL = """
SELECT ni.narrative_id, COALESCE(n.label, ni.narrative_id) AS label, ni.day, ni.articles,
  ni.expected_articles, ni.index_value, ni.index_low, ni.index_high, ni.p_value,
  ni.member_sources
FROM narrative_index ni JOIN narratives n ON n.id = ni.narrative_id
WHERE ni.spike = 1 AND ni.day >= date((SELECT MAX(day) FROM narrative_index), :lookback)
  AND NOT EXISTS (SELECT 1 FROM alerts al
                  WHERE al.narrative_id = ni.narrative_id AND al.day = ni.day)
ORDER BY ni.day, ni.narrative_id
"""

_MEMBERS_SQL = """
SELECT a.id, a.title, COALESCE(a.canonical_url, a.url) AS url, COALESCE(f.title, f.name) AS source,
  a.feed_id, an.score, sa.cluster_id
FROM article_narratives an
JOIN articles a ON a.id = an.article_id
JOIN feeds f ON f.id = a.feed_id
LEFT JOIN story_articles sa ON sa.article_id = a.id
WHERE an.narrative_id = ? AND an.is_member = 1 AND a.day = ? AND a.duplicate_of IS NULL
ORDER BY an.score DESC, a.id
"""


def top_stories(rows: Sequence[Sequence[Any]], top: int) -> tuple[Story, ...]:
    """Group a day's members (best first) by story cluster; each story once, biggest first."""
    groups: dict[Any, list[Sequence[Any]]] = {}
    for r in rows:
        key = ("c", r[6]) if r[6] is not None else ("a", r[0])
        groups.setdefault(key, []).append(r)
    ranked = sorted(groups.values(), key=lambda g: (-len({m[4] for m in g}), -len(g), -float(g[0][5])))
    return tuple(
        Story(title=clean_text(g[0][1] or "(untitled)", 200), url=safe_url(g[0][2]),
              source=outlet_name(g[0][3], safe_url(g[0][2])), articles=len(g), sources=len({m[4] for m in g}),
              score=round(float(g[0][5]), 3))
        for g in ranked[:top]
    )


def find_new_alerts(conn: sqlite3.Connection, *, lookback_days: int = 3, top: int = 3,
                    base_url: str = "", day_url: str = DEFAULT_DAY_URL) -> list[Alert]:
    """Spikes within ``lookback_days`` of the latest index day that have no alert yet."""
    alerts = []
    for r in conn.execute(_SPIKES_SQL, {"lookback": f"-{int(lookback_days)} days"}).fetchall():
        members = conn.execute(_MEMBERS_SQL, (r[0], r[2])).fetchall()
        alerts.append(Alert(
            narrative_id=r[0], label=clean_text(r[1], 120), day=r[2], articles=int(r[3]),
            expected=r[4], index_value=r[5], index_low=r[6], index_high=r[7], p_value=r[8],
            member_sources=int(r[9] or 0), stories=top_stories(members, top),
            link=day_link(day_url, base_url, r[0], r[2]),
        ))
    return alerts


def record_alerts(conn: sqlite3.Connection, alerts: Sequence[Alert], now: str) -> list[int]:
    """Insert the alerts (once per narrative and day); the ids of those inserted now."""
    ids = []
    for a in alerts:
        cur = conn.execute(
            "INSERT OR IGNORE INTO alerts (narrative_id, day, title, summary, link, payload, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (a.narrative_id, a.day, a.title, a.summary, a.link, a.payload(), now),
        )
        if cur.rowcount:
            ids.append(int(cur.lastrowid or 0))
    return ids


def pending(conn: sqlite3.Connection, channel: str, target: str, *,
            max_failures: int = 3) -> list[tuple[int, Alert]]:
    """Alerts not yet sent to ``target`` on ``channel`` that have failed fewer than ``max_failures`` runs."""
    rows = conn.execute(
        "SELECT al.id, al.payload FROM alerts al WHERE NOT EXISTS ("
        "  SELECT 1 FROM alert_deliveries d WHERE d.alert_id = al.id AND d.channel = ? "
        "  AND d.target = ? AND d.status = 'sent') "
        "AND (SELECT COUNT(*) FROM alert_deliveries d WHERE d.alert_id = al.id AND d.channel = ? "
        "  AND d.target = ? AND d.status = 'failed') < ? ORDER BY al.id",
        (channel, target, channel, target, max_failures),
    ).fetchall()
    return [(int(i), Alert.from_payload(p)) for i, p in rows]


def record_delivery(conn: sqlite3.Connection, alert_id: int, channel: str, target: str, *,
                    ok: bool, attempts: int, error: str | None, now: str) -> None:
    """One delivery outcome (sent or failed, with the attempts it took)."""
    conn.execute(
        "INSERT INTO alert_deliveries (alert_id, channel, target, status, attempts, error, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (alert_id, channel, target, "sent" if ok else "failed", attempts,
         clean_text(error, 500) if error else None, now),
    )


#: The stored alerts as the feed shows them (newest first); :func:`atom_feed` renders them.
RECENT_SQL = ("SELECT id, narrative_id, day, title, summary, link, payload, created_at FROM alerts "
              "ORDER BY created_at DESC, id DESC LIMIT ?")


def recent_alerts(conn: sqlite3.Connection, limit: int = 50) -> list[tuple[Any, ...]]:
    """The newest stored alerts, rows of :data:`RECENT_SQL`."""
    return [tuple(r) for r in conn.execute(RECENT_SQL, (limit,)).fetchall()]


def _atom_time(stamp: str) -> str:
    s = stamp.replace(" ", "T")
    return s if s.endswith("Z") or "+" in s[10:] else s + "Z"


def atom_feed(rows: Sequence[Sequence[Any]], *, self_url: str | None = None,
              updated: str = "1970-01-01T00:00:00Z") -> str:
    """An Atom 1.0 document of stored alert rows (:data:`RECENT_SQL`); stable for the same rows."""
    ET.register_namespace("", ATOM_NS)

    def el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        e = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            e.text = text
        return e

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    el(feed, "id", "urn:narrative-tracker:alerts")
    el(feed, "title", "Narrative Tracker alerts")
    el(feed, "subtitle", "New significant spikes of the narrative index, with their top stories.")
    el(feed, "updated", _atom_time(rows[0][7]) if rows else updated)
    author = el(feed, "author")
    el(author, "name", "Narrative Tracker")
    if self_url:
        el(feed, "link", rel="self", href=self_url)
    for _id, narrative, day, title, summary, link, payload, created in rows:
        entry = el(feed, "entry")
        el(entry, "id", f"urn:narrative-tracker:alert:{quote(str(narrative), safe='')}:{day}")
        el(entry, "title", str(title))
        el(entry, "updated", _atom_time(str(created)))
        el(entry, "published", _atom_time(str(created)))
        el(entry, "category", term=str(narrative))
        if link and safe_url(link):
            el(entry, "link", rel="alternate", href=str(safe_url(link)))
        for story in json.loads(payload).get("stories", []):
            if story.get("url"):
                el(entry, "link", rel="related", href=story["url"], title=story["title"])
        el(entry, "content", str(summary), type="text")
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
