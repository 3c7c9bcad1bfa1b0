"""Feed health from the database (``tracker feeds check``): last success, failures, items a day, full text.

Read-only. The window ends at ``as_of`` (default: the latest fetch in the database, so an
archive replayed long ago reads as of its last snapshot) and spans ``days`` days.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from tracker.ingest.feeds import FeedConfig

#: Verdicts, worst first (the table is sorted so).
VERDICTS = ("dead", "failing", "silent", "never_fetched", "disabled", "ok")


@dataclass
class FeedHealth:
    """One feed's health over the window (every figure as of its end)."""

    name: str
    verdict: str
    enabled: bool
    fulltext: bool | None
    last_ok_at: str | None
    last_fetched_at: str | None
    last_status: str | None
    consecutive_failures: int
    fetches: int
    failures: int
    articles: int
    items_per_day: float
    pages_tried: int
    pages_stored: int
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able fields."""
        return asdict(self)


def latest_fetch(conn: sqlite3.Connection) -> str | None:
    """The start time of the newest fetch (the default "as of")."""
    row = conn.execute("SELECT MAX(started_at) FROM fetches").fetchone()
    return row[0] if row else None


def _shift(iso: str, days: int) -> str:
    stamp = datetime.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")
    return (stamp - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def feed_health(
    conn: sqlite3.Connection,
    *,
    days: int = 7,
    as_of: str | None = None,
    config: list[FeedConfig] | None = None,
) -> list[FeedHealth]:
    """Every feed in the database (and in ``config``, if given), worst first."""
    end = as_of or latest_fetch(conn) or datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")
    if len(end) == 10:  # a bare day means its end
        end += "T23:59:59Z"
    start = _shift(end, days)
    configured = {f.name: f for f in config or []}
    rows = conn.execute(
        """
        SELECT f.id, f.name, f.enabled,
          (SELECT MAX(started_at) FROM fetches x WHERE x.feed_id = f.id AND x.status != 'failed'
             AND x.started_at <= :end),
          (SELECT MAX(started_at) FROM fetches x WHERE x.feed_id = f.id AND x.started_at <= :end),
          (SELECT status FROM fetches x WHERE x.feed_id = f.id AND x.started_at <= :end
             ORDER BY x.started_at DESC, x.id DESC LIMIT 1),
          (SELECT error FROM fetches x WHERE x.feed_id = f.id AND x.status = 'failed' AND x.started_at <= :end
             ORDER BY x.started_at DESC, x.id DESC LIMIT 1),
          (SELECT COUNT(*) FROM fetches x WHERE x.feed_id = f.id AND x.started_at > :start
             AND x.started_at <= :end),
          (SELECT COUNT(*) FROM fetches x WHERE x.feed_id = f.id AND x.status = 'failed'
             AND x.started_at > :start AND x.started_at <= :end),
          (SELECT COUNT(*) FROM articles a WHERE a.feed_id = f.id AND a.duplicate_of IS NULL
             AND a.fetched_at > :start AND a.fetched_at <= :end),
          (SELECT COUNT(*) FROM page_fetches p JOIN articles a ON a.id = p.article_id
             WHERE a.feed_id = f.id AND p.started_at > :start AND p.started_at <= :end),
          (SELECT COUNT(*) FROM page_fetches p JOIN articles a ON a.id = p.article_id
             WHERE a.feed_id = f.id AND p.status = 'ok' AND p.started_at > :start AND p.started_at <= :end)
        FROM feeds f ORDER BY f.name
        """,
        {"start": start, "end": end},
    ).fetchall()
    out: list[FeedHealth] = []
    seen: set[str] = set()
    for (feed_id, name, enabled, last_ok, last_fetched, last_status, last_error, fetches, failures, articles,
         tried, stored) in rows:
        seen.add(name)
        streak = _failure_streak(conn, feed_id, end)
        cfg = configured.get(name)
        is_enabled = bool(enabled) if cfg is None else cfg.enabled
        if not is_enabled:
            verdict = "disabled"
        elif last_fetched is None:
            verdict = "never_fetched"
        elif last_ok is None:
            verdict = "dead"
        elif last_status == "failed":
            verdict = "failing"
        elif articles == 0:
            verdict = "silent"
        else:
            verdict = "ok"
        out.append(FeedHealth(
            name=name, verdict=verdict, enabled=is_enabled, fulltext=cfg.fulltext if cfg else None,
            last_ok_at=last_ok, last_fetched_at=last_fetched, last_status=last_status,
            consecutive_failures=streak, fetches=fetches, failures=failures, articles=articles,
            items_per_day=round(articles / days, 2), pages_tried=tried, pages_stored=stored,
            last_error=last_error if streak else None))
    for name, cfg in sorted(configured.items()):
        if name not in seen:
            out.append(FeedHealth(name=name, verdict="never_fetched" if cfg.enabled else "disabled",
                                  enabled=cfg.enabled, fulltext=cfg.fulltext, last_ok_at=None,
                                  last_fetched_at=None, last_status=None, consecutive_failures=0, fetches=0,
                                  failures=0, articles=0, items_per_day=0.0, pages_tried=0, pages_stored=0,
                                  last_error=None))
    out.sort(key=lambda h: (VERDICTS.index(h.verdict), h.name))
    return out


def _failure_streak(conn: sqlite3.Connection, feed_id: int, end: str) -> int:
    """Failed fetches up to ``end`` since the feed's last fetch that was not a failure."""
    row = conn.execute(
        "SELECT COUNT(*) FROM fetches WHERE feed_id = ? AND status = 'failed' AND started_at <= ? "
        "AND started_at >= COALESCE((SELECT MAX(started_at) FROM fetches WHERE feed_id = ? "
        "AND status != 'failed' AND started_at <= ?), '')",
        (feed_id, end, feed_id, end)).fetchone()
    return int(row[0])


def format_health(rows: list[FeedHealth], *, days: int, as_of: str | None) -> str:
    """A plain-text table, one feed a line, worst first, with a count per verdict."""
    header = (f"{'feed':32s} {'health':13s} {'last ok':20s} {'fails':>5s} {'streak':>6s} "
              f"{'items/day':>9s} {'pages ok':>9s}  last error")
    lines = [f"Feed health over the {days} days to {as_of or 'the latest fetch'}:", header]
    for h in rows:
        pages = f"{h.pages_stored}/{h.pages_tried}" if h.pages_tried else "-"
        lines.append(
            f"{h.name[:32]:32s} {h.verdict:13s} {(h.last_ok_at or '-'):20s} {h.failures:5d} "
            f"{h.consecutive_failures:6d} {h.items_per_day:9.1f} {pages:>9s}  {(h.last_error or '')[:60]}")
    counts: dict[str, int] = {}
    for h in rows:
        counts[h.verdict] = counts.get(h.verdict, 0) + 1
    lines.append("Total: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts) + ".")
    return "\n".join(lines)
