"""Weekly report: figures from a hand-built store, sections, escaping, charts, the CLI."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import struct
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import markdown
import numpy as np
import pytest
import sqlite_utils
from click.testing import CliRunner

from tracker.base.db import open_db
from tracker.base.settings import load_settings
from tracker.cli import cli
from tracker.report.data import ReportData, centrality, format_amount, safe_url
from tracker.report.gather import gather_report
from tracker.report.lead import summary_lines
from tracker.report.render import md_escape, render_html, render_markdown, render_queries
from tracker.report.weeks import ReportError, Week, default_week, parse_week
from tracker.report.write import write_report

WEEK = parse_week("2026-W47")  # Mon 2026-11-16 .. Sun 2026-11-22
SCRIPT_TITLE = '<script>alert("x")</script> Coinbase IPO **priced** | [click](javascript:alert(1))'
IMG_TITLE = "# Exchange licence & <img src=x onerror=alert(1)>"
EVIL_ENTITY = "<i>Evil</i> Corp"
CLAIM_TEXT = "Coinbase raised $4.5bn <em>now</em>"
FED_LABEL = "Fed easing & <liquidity>"


class Store:
    """Builds a store with known contents by raw inserts (no pipeline involved)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.feeds: dict[str, int] = {}
        self.items = 0

    def feed(self, name: str, title: str, enabled: int = 1) -> int:
        cur = self.conn.execute(
            "INSERT INTO feeds (name, title, url, enabled, created_at) VALUES (?, ?, ?, ?, ?)",
            (name, title, f"https://{name}.example/rss", enabled, "2026-11-01T00:00:00Z"),
        )
        self.feeds[name] = int(cur.lastrowid or 0)
        return self.feeds[name]

    def article(
        self, feed: str, day: str, title: str, url: str | None = None, duplicate_of: int | None = None
    ) -> int:
        self.items += 1
        cur = self.conn.execute(
            "INSERT INTO articles (feed_id, item_key, url, title, day, fetched_at, content_hash, "
            "duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.feeds[feed],
                f"k{self.items}",
                url or f"https://{feed}.example/{self.items}",
                title,
                day,
                f"{day}T12:00:00Z",
                f"h{self.items}",
                duplicate_of,
            ),
        )
        return int(cur.lastrowid or 0)

    def member(
        self, article: int, narrative: str, score: float, is_member: int = 1, evidence: str = "[]"
    ) -> None:
        self.conn.execute(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version, evidence) VALUES (?, ?, ?, ?, 'test', 'test-v1', ?)",
            (article, narrative, score, is_member, evidence),
        )

    def vector(self, article: int, values: list[float], model: str = "test-emb") -> None:
        blob = struct.pack(f"<{len(values)}f", *values)
        self.conn.execute(
            "INSERT INTO article_embeddings (article_id, model, dim, vector) VALUES (?, ?, ?, ?)",
            (article, model, len(values), blob),
        )

    def index(self, narrative: str, day: str, value: float | None, articles: int = 1, spike: int = 0) -> None:
        self.conn.execute(
            "INSERT INTO narrative_index (day, narrative_id, articles, weighted_articles, "
            "total_articles, sources, share, index_value, smoothed_7d, zscore, spike, computed_at, "
            "model_version) VALUES (?, ?, ?, ?, 7, 2, ?, ?, ?, ?, ?, '2026-11-23T01:00:00Z', "
            "'test-v1')",
            (day, narrative, articles, float(articles), value, value, value,
             3.5 if spike else 0.1, spike),
        )

    def weekly(self, narrative: str, week: str, start: str, value: float, low: float, high: float,
               prev: float | None, p: float | None, mover: int, articles: int, expected: float,
               stance: float | None = None, stance_articles: int = 0) -> None:
        end = (date.fromisoformat(start) + timedelta(days=6)).isoformat()
        self.conn.execute(
            "INSERT INTO narrative_weekly (week, narrative_id, week_start, week_end, covered_days, "
            "articles, total_articles, member_sources, expected_articles, index_value, index_low, "
            "index_high, prev_index, change, change_p, mover, net_stance, stance_articles, "
            "computed_at) VALUES (?, ?, ?, ?, 7, ?, 35, 2, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'now')",
            (week, narrative, start, end, articles, expected, value, low, high, prev,
             None if prev is None else value - prev, p, mover, stance, stance_articles),
        )

    def entity_day(self, narrative: str, entity: str, day: str, articles: int) -> None:
        self.conn.execute(
            "INSERT INTO narrative_entity_daily (day, narrative_id, entity_id, articles) "
            "VALUES (?, ?, ?, ?)",
            (day, narrative, entity, articles),
        )

    def claim(
        self, article: int, entity: str | None, kind: str, text: str, value: float | None = None,
        low: float | None = None, high: float | None = None, unit: str | None = None,
        subject: str | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO claims (article_id, entity_id, subject, kind, value, low, high, unit, "
            "text, pipeline_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'test')",
            (article, entity, subject, kind, value, low, high, unit, text),
        )

    def fetch(self, feed: str, started_at: str, status: str, kind: str | None = None,
              error: str | None = None) -> None:
        self.conn.execute(
            "INSERT INTO fetches (feed_id, started_at, status, error_kind, error) "
            "VALUES (?, ?, ?, ?, ?)",
            (self.feeds[feed], started_at, status, kind, error),
        )


def days(start: str, n: int) -> list[str]:
    d0 = date.fromisoformat(start)
    return [(d0 + timedelta(days=i)).isoformat() for i in range(n)]


def build_store(conn: sqlite3.Connection) -> dict[str, int]:
    """Three weeks of data (2026-W45..W47) with known figures; returns article ids by name."""
    s = Store(conn)
    for name, title in (("alpha", "Alpha News"), ("beta", "Beta Wire"), ("gamma", "Gamma Daily")):
        s.feed(name, title)
    s.feed("delta", "Delta Disabled", enabled=0)
    conn.executemany(
        "INSERT INTO narratives (id, label, description) VALUES (?, ?, ?)",
        [
            ("ai", "AI productivity", "AI investment and its returns."),
            ("crypto", "Crypto legitimacy", "Institutional adoption of crypto."),
            ("fed", FED_LABEL, None),
        ],
    )
    conn.executemany(
        "INSERT INTO entities (id, name, type) VALUES (?, ?, ?)",
        [
            ("coinbase", "Coinbase", "exchange"),
            ("sec", "SEC", "regulator"),
            ("blackrock", "BlackRock", "asset_manager"),
            ("evil", EVIL_ENTITY, "company"),
        ],
    )
    ids: dict[str, int] = {}
    # Special articles of W47 (they count towards the daily volumes below).
    ids["a1"] = s.article("alpha", "2026-11-18", SCRIPT_TITLE, "https://news.example/a?x=1&y=(2)")
    ids["a2"] = s.article("beta", "2026-11-18", IMG_TITLE, "javascript:alert(1)")
    ids["a3"] = s.article("alpha", "2026-11-19", "Stablecoin settlement grows")
    ids["a4"] = s.article("alpha", "2026-11-17", "AI capex questioned")
    ids["a5"] = s.article("beta", "2026-11-21", "Productivity gains elusive")
    ids["a6"] = s.article("beta", "2026-11-20", "AI money rotates into bitcoin")
    ids["a7"] = s.article("alpha", "2026-11-16", "Rates on hold")
    ids["plain"] = s.article("alpha", "2026-11-20", "BlackRock fund flows")
    ids["dup"] = s.article("beta", "2026-11-18", "Coinbase IPO priced (copy)", duplicate_of=ids["a1"])
    ids["w46"] = s.article("alpha", "2026-11-10", "Last week's item")
    # Fill to the known volumes: W45/W46 7 a day (alpha 3, beta 2, gamma 2);
    # W47 Mon-Sat 5 a day (alpha 3, beta 2), Sunday none; gamma silent in W47.
    have: dict[tuple[str, str], int] = {}
    for (feed_id, day) in conn.execute(
        "SELECT f.name, a.day FROM articles a JOIN feeds f ON f.id = a.feed_id "
        "WHERE a.duplicate_of IS NULL"
    ):
        have[(feed_id, day)] = have.get((feed_id, day), 0) + 1
    for day in days("2026-11-02", 20):
        quota = {"alpha": 3, "beta": 2, "gamma": 2 if day < "2026-11-16" else 0}
        for feed, n in quota.items():
            for _ in range(n - have.get((feed, day), 0)):
                s.article(feed, day, f"Filler {feed} {day}")

    s.member(ids["a1"], "crypto", 0.6)
    s.member(ids["a2"], "crypto", 0.5, evidence=json.dumps(
        [{"sentence": "A <b>licence</b> was granted", "score": 0.9},
         {"sentence": "weaker", "score": 0.2}]))
    s.member(ids["a3"], "crypto", 0.9)
    s.member(ids["a6"], "crypto", 0.55)
    s.member(ids["a6"], "ai", 0.6)
    s.member(ids["a4"], "ai", 0.8, evidence=json.dumps([{"sentence": "AI capex questioned", "score": 1}]))
    s.member(ids["a5"], "ai", 0.95)
    s.member(ids["a7"], "fed", 0.3, is_member=0)
    s.member(ids["dup"], "crypto", 0.99)
    s.member(ids["w46"], "crypto", 0.99)
    # Centrality: a2 is nearest the centroid of a1, a2, a3 although a3 has the top score.
    s.vector(ids["a1"], [1.0, 0.0, 0.0])
    s.vector(ids["a2"], [0.9, 0.1, 0.0])
    s.vector(ids["a3"], [0.0, 1.0, 0.0])

    crypto_w47 = [100, 100, 300, 250, 100, 100, 100]
    for i, day in enumerate(days("2026-11-02", 21)):
        week_no = i // 7
        crypto = 100.0 if week_no < 2 else float(crypto_w47[i - 14])
        spike = 1 if week_no == 2 and crypto_w47[i - 14] > 200 else 0
        s.index("crypto", day, crypto, articles=2 if week_no == 2 else 1, spike=spike)
        s.index("ai", day, (80.0, 160.0, 120.0)[week_no], articles=1)
        fed = None if day in ("2026-11-21", "2026-11-22") else 90.0
        s.index("fed", day, fed, articles=0 if fed is None else 1)

    # The index's weekly rows: crypto's rise is significant, AI's fall is not; fed has none.
    s.weekly("crypto", "2026-W46", "2026-11-09", 100.0, 80.0, 125.0, 100.0, 0.9, 0, 7, 7.0, 0.1, 2)
    s.weekly("crypto", "2026-W47", "2026-11-16", 150.0, 120.0, 185.0, 100.0, 0.002, 1, 14, 9.3, 0.4, 3)
    s.weekly("ai", "2026-W47", "2026-11-16", 120.0, 90.0, 150.0, 160.0, 0.2, 0, 3, 2.5)
    # a1 and a2 (two outlets, 2026-11-18) are one story; the others stand alone.
    conn.execute("INSERT INTO story_clusters (id, first_day, last_day, articles, sources, "
                 "representative_id, title, version, updated_at) VALUES "
                 "(1, '2026-11-18', '2026-11-18', 2, 2, ?, 't', 'v', 'now')", (ids["a1"],))
    conn.executemany("INSERT INTO story_articles (article_id, cluster_id) VALUES (?, 1)",
                     [(ids["a1"],), (ids["a2"],)])

    for day, n in (("2026-11-18", 3), ("2026-11-19", 2), ("2026-11-10", 1)):
        s.entity_day("crypto", "coinbase", day, n)
    for day, n in (("2026-11-18", 2), ("2026-11-11", 4)):
        s.entity_day("crypto", "sec", day, n)
    s.entity_day("crypto", "blackrock", "2026-11-20", 3)
    s.entity_day("crypto", "evil", "2026-11-21", 1)
    s.entity_day("crypto", "coinbase", "2026-10-01", 50)  # outside both weeks

    s.claim(ids["a1"], "coinbase", "money", CLAIM_TEXT, value=4.5e9, unit="USD")
    s.claim(ids["a1"], "coinbase", "money", "$4.5 billion", value=4.5e9, unit="USD")  # same figure
    s.claim(ids["a5"], None, "percent", "10-15% | gains", low=10, high=15, unit="%",
            subject="productivity")
    s.claim(ids["plain"], "blackrock", "money", "$1.2 trillion", value=1.2e12, unit="USD")
    s.claim(ids["dup"], "coinbase", "money", "duplicate claim", value=1.0, unit="USD")
    s.claim(ids["w46"], "sec", "money", "last week claim", value=2.0, unit="USD")

    s.fetch("beta", "2026-11-18T06:00:00Z", "failed", "timeout", "read timed out")
    s.fetch("beta", "2026-11-19T06:00:00Z", "failed", "http", "<b>HTTP 503</b>")
    s.fetch("beta", "2026-11-20T06:00:00Z", "ok")
    s.fetch("beta", "2026-11-21T06:00:00Z", "partial", "malformed", "recovered 3 items")
    s.fetch("alpha", "2026-11-17T06:00:00Z", "partial", "malformed", "only partial: not listed")
    s.fetch("alpha", "2026-11-15T23:59:59Z", "failed", "http", "before the week")
    s.fetch("alpha", "2026-11-23T00:00:00Z", "failed", "http", "after the week")
    s.fetch("alpha", "2026-11-20T06:00:00Z", "ok")
    return ids


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[sqlite_utils.Database, dict[str, int], Path]]:
    path = tmp_path / "tracker.db"
    database = open_db(path)
    ids = build_store(database.conn)
    yield database, ids, path
    database.conn.close()


EVENTS = """events:
  - id: listing_2026_11_18
    date: 2026-11-18
    narrative: crypto
    kind: listing
    title: "A made-up exchange listing"
    expected_stance: 1
"""


@pytest.fixture
def data(store: tuple[sqlite_utils.Database, dict[str, int], Path]) -> ReportData:
    events = store[2].parent / "events.yaml"
    events.write_text(EVENTS, encoding="utf-8")
    return gather_report(store[0].conn, WEEK, generated_at="2026-11-23T08:00:00Z",
                         events_path=events)


# --------------------------------------------------------------------------- weeks


def test_parse_week_and_windows() -> None:
    wk = parse_week("2026-w47")
    assert (wk.label, wk.start, wk.end) == ("2026-W47", date(2026, 11, 16), date(2026, 11, 22))
    assert (wk.prev_start, wk.prev_end) == (date(2026, 11, 9), date(2026, 11, 15))
    assert wk.quarter_start == date(2026, 8, 17)
    assert parse_week("2020W53").start == date(2020, 12, 28)
    for bad in ("2026-47", "2026-W54", "2025-W53", "W47", "2026-W00", ""):
        with pytest.raises(ReportError, match="YYYY-Www"):
            parse_week(bad)


def test_default_week_is_last_complete_iso_week() -> None:
    assert default_week(date(2026, 11, 25)).label == "2026-W47"  # a Wednesday of W48
    assert default_week(date(2026, 11, 23)).label == "2026-W47"  # the Monday of W48
    assert default_week(date(2026, 11, 22)).label == "2026-W46"  # Sunday: W47 not complete
    assert default_week(date(2027, 1, 1)).label == "2026-W52"


# --------------------------------------------------------------------------- figures


def test_headline_figures(data: ReportData) -> None:
    assert (data.week_articles, data.week_feeds) == (30, 2)
    assert (data.first_day, data.last_day) == ("2026-11-02", "2026-11-21")
    by_id = {n.id: n for n in data.narratives}
    assert [n.id for n in data.narratives] == ["crypto", "fed", "ai"]  # by change vs last week
    c = by_id["crypto"]
    assert c.week_mean == pytest.approx(150.0) and c.prev_mean == pytest.approx(100.0)
    assert c.change_prev == pytest.approx(50.0) and c.pct_prev == pytest.approx(50.0)
    assert c.quarter_mean == pytest.approx(100.0) and c.pct_quarter == pytest.approx(50.0)
    assert (c.articles, c.prev_articles, c.direction) == (14, 7, "rose")
    assert c.spike_days == ("2026-11-18", "2026-11-19")
    assert c.max_zscore == pytest.approx(3.5)
    a = by_id["ai"]
    assert (a.week_mean, a.prev_mean, a.quarter_mean) == pytest.approx((120.0, 160.0, 120.0))
    assert a.pct_prev == pytest.approx(-25.0) and a.direction == "fell"
    f = by_id["fed"]
    # Missing days are skipped, not counted as zero.
    assert (f.week_mean, f.week_days, f.direction) == (pytest.approx(90.0), 5, "unchanged")


def test_entities_and_risers(data: ReportData) -> None:
    c = next(n for n in data.narratives if n.id == "crypto")
    assert [(e.entity_id, e.week_articles, e.prev_articles) for e in c.top_entities] == [
        ("coinbase", 5, 1), ("blackrock", 3, 0), ("sec", 2, 4), ("evil", 1, 0),
    ]
    assert [(e.entity_id, e.change) for e in c.risers] == [
        ("coinbase", 4), ("blackrock", 3), ("evil", 1),
    ]
    assert next(n for n in data.narratives if n.id == "ai").top_entities == ()


def test_representatives_by_centrality_then_score(
    data: ReportData, store: tuple[sqlite_utils.Database, dict[str, int], Path]
) -> None:
    ids = store[1]
    by_id = {n.id: n for n in data.narratives}
    crypto = by_id["crypto"]
    assert crypto.ranked_by == "centrality" and crypto.members == 4
    # a1 is more central than a3 but shares a2's story cluster: one example per story.
    assert [r.article_id for r in crypto.representatives] == [ids["a2"], ids["a3"], ids["a6"]]
    assert crypto.representatives[0].centrality == pytest.approx(0.922, abs=1e-3)
    assert crypto.representatives[0].evidence == "A <b>licence</b> was granted"
    assert crypto.representatives[0].url is None  # javascript: link dropped
    assert crypto.representatives[2].centrality is None  # no vector: after those with one
    ai = by_id["ai"]
    assert crypto.representatives[1].evidence is None  # no evidence stored
    assert ai.ranked_by == "score"
    assert [r.article_id for r in ai.representatives] == [ids["a5"], ids["a4"], ids["a6"]]
    assert ai.representatives[1].evidence is None  # the evidence is the headline itself
    assert data.embedding_model == "test-emb"


def test_stories_weekly_figures_and_validation(
    data: ReportData, store: tuple[sqlite_utils.Database, dict[str, int], Path]
) -> None:
    ids = store[1]
    crypto = next(n for n in data.narratives if n.id == "crypto")
    # The a1+a2 cluster spans two outlets: the biggest story, shown by its best-scoring member.
    assert [(s.article_id, s.articles, s.sources, s.cluster_id) for s in crypto.stories] == [
        (ids["a1"], 2, 2, 1), (ids["a3"], 1, 1, None), (ids["a6"], 1, 1, None)]
    w = crypto.weekly
    assert w is not None and (w.index_value, w.index_low, w.index_high, w.mover) == (150.0, 120.0, 185.0, True)
    assert (w.direction, w.net_stance, w.prev_net_stance) == ("rose", 0.4, 0.1)
    ai = next(n for n in data.narratives if n.id == "ai")
    assert ai.weekly is not None and ai.weekly.direction == "steady"  # p = 0.2: not a fall
    assert next(n for n in data.narratives if n.id == "fed").weekly is None
    assert [d.day for d in data.coverage_days] == []  # no coverage rows stored in this store
    rates = {r.narrative: r for r in data.hit_rates}
    assert set(rates) == {"ai", "crypto", "fed"} and rates["crypto"].events == 1
    assert data.validation_note is None and data.emerging == ()


def test_claims_cross_links_and_quality(
    data: ReportData, store: tuple[sqlite_utils.Database, dict[str, int], Path]
) -> None:
    ids = store[1]
    # The duplicate's and last week's claims are left out, and so is the figure in an
    # article of no narrative ("plain": BlackRock's $1.2 trillion).
    assert data.claims_total == 2
    assert [(c.article.article_id, c.entity, c.amount) for c in data.claims] == [
        (ids["a1"], "Coinbase", "USD 4.5bn"),
        (ids["a5"], None, "10-15%"),
    ]
    assert (data.claims[0].narratives, data.claims[0].mentions) == ("crypto", 2)
    assert data.claims[0].text == CLAIM_TEXT
    assert [(x.narrative_a, x.narrative_b, x.articles) for x in data.cross_links] == [
        ("ai", "crypto", 1)
    ]
    assert [e.article_id for e in data.cross_links[0].examples] == [ids["a6"]]
    assert [
        (f.name, f.fetches, f.failed, f.partial, f.last_error_kind) for f in data.failed_feeds
    ] == [("beta", 4, 2, 1, "http")]
    assert [(f.name, f.week_articles, f.last_article_day) for f in data.silent_feeds] == [
        ("gamma", 0, "2026-11-15")
    ]
    vol = {d.day: d for d in data.daily_volume}
    assert [vol[d].articles for d in days("2026-11-16", 7)] == [5, 5, 5, 5, 5, 5, 0]
    # Same weekday in W46 and W45 (7 a day); the two weeks before have no data yet.
    assert (vol["2026-11-22"].baseline, vol["2026-11-22"].baseline_weeks) == (7.0, 2)
    assert [d.day for d in data.daily_volume if d.low] == ["2026-11-22"]
    assert [m.model_version for m in data.model_versions] == ["test-v1"]


def _appendix(md: str) -> list[tuple[str, str, str]]:
    """(name, `.param set` lines, SQL) for each query printed in the Markdown appendix."""
    return re.findall(
        r"^### (\w+)\n\n.*?\n\n(?:```\n(.*?)\n```\n\n)?```sql\n(.*?)\n```", md, re.S | re.M
    )


def _shell_value(arg: str) -> object:
    """Undo the sqlite3 shell quoting of a `.param set` value, then read the SQL literal."""
    if arg.startswith('"'):
        arg = re.sub(r'\\(.)', r"\1", arg[1:-1])
    if arg == "NULL":
        return None
    if arg.startswith("'"):
        return arg[1:-1].replace("''", "'")
    return float(arg) if "." in arg else int(arg)


def test_low_volume_compares_the_same_weekday(db: sqlite_utils.Database) -> None:
    """Weekends are quiet every week: only an unusually quiet weekday is flagged."""
    s = Store(db.conn)
    s.feed("alpha", "Alpha")
    for day in days("2026-10-19", 35):  # W43..W47
        weekend = date.fromisoformat(day).weekday() >= 5
        n = 2 if weekend else 10
        if day == "2026-11-18":  # a Wednesday of the report week
            n = 3
        for _ in range(n):
            s.article("alpha", day, f"Item {day}")
    data = gather_report(db.conn, WEEK)
    vol = {d.day: d for d in data.daily_volume}
    assert [d.day for d in data.daily_volume if d.low] == ["2026-11-18"]
    assert (vol["2026-11-21"].articles, vol["2026-11-21"].baseline) == (2, 2.0)
    assert (vol["2026-11-18"].baseline, vol["2026-11-18"].baseline_weeks) == (10.0, 4)


def test_appendix_queries_reproduce_the_figures(
    data: ReportData, store: tuple[sqlite_utils.Database, dict[str, int], Path]
) -> None:
    """Run the SQL and `.param set` lines exactly as printed in the queries file."""
    md = render_markdown(data)
    assert "```sql" not in md  # the SQL lives in the linked queries file
    queries_md = render_queries(data, markdown=True)
    conn = store[0].conn
    blocks = _appendix(queries_md)
    assert {b[0] for b in blocks} == {q.name for q in data.queries}
    # Every query named in the report is in the queries file.
    assert set(re.findall(r"queries\.md#(\w+)\)", md)) <= {b[0] for b in blocks}
    results = {}
    for name, param_text, sql in blocks:
        params = {}
        for line in param_text.splitlines():
            m = re.fullmatch(r"\.param set :(\w+) (.*)", line)
            assert m, line
            params[m.group(1)] = _shell_value(m.group(2))
        cur = conn.execute(sql, params)
        cols = [d[0] for d in cur.description]
        results[name] = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        assert len(results[name]) == next(q.rows for q in data.queries if q.name == name)
    crypto = next(r for r in results["narrative_weekly"] if r["narrative_id"] == "crypto")
    assert (f"| Crypto legitimacy | {crypto['index_value']:,.0f} | {crypto['index_low']:,.0f}-"
            f"{crypto['index_high']:,.0f} | {crypto['prev_index']:,.0f} | {crypto['change_p']:,.3f} | rose |") in md
    assert results["coverage"][0]["week_articles"] == 30


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 shell is not installed")
def test_appendix_runs_in_the_sqlite3_shell(
    data: ReportData, store: tuple[sqlite_utils.Database, dict[str, int], Path]
) -> None:
    """Paste each appendix entry into the real `sqlite3` shell: same rows as the report saw."""
    for name, param_text, sql in _appendix(render_queries(data, markdown=True)):
        script = f"{param_text}\n.mode json\n{sql};\n"
        proc = subprocess.run(["sqlite3", str(store[2])], input=script.encode(),
                              capture_output=True, timeout=30, check=True)
        assert not proc.stderr, proc.stderr
        # Embedding blobs come out as raw bytes; only the row count matters for them.
        out = proc.stdout.decode("utf-8", errors="replace")
        rows = json.loads(out, strict=False) if out.strip() else []
        assert len(rows) == next(q.rows for q in data.queries if q.name == name), name
        if name == "narrative_week":
            means = {r["narrative_id"]: r["week_mean"] for r in rows}
            assert means == pytest.approx({"crypto": 150.0, "ai": 120.0, "fed": 90.0})


def test_param_lines_quote_for_the_shell() -> None:
    from tracker.report.render import _param_lines

    lines = _param_lines({"s": "it's \"q\" \\", "n": None, "x": 0.5, "i": 3}).splitlines()
    assert [_shell_value(x.split(" ", 3)[3]) for x in lines] == ['it\'s "q" \\', None, 0.5, 3]


def test_summary_sentences(data: ReportData) -> None:
    lines = summary_lines(data)
    assert lines[0].startswith("Week 2026-W47 (16 Nov to 22 Nov 2026): 30 distinct articles from 2")
    # Only the significant change is called a rise, with its interval, p and counts.
    assert lines[1] == (
        "Crypto legitimacy rose: weekly index 150 (90% interval 120-185) against 100 the week "
        "before (p = 0.002, significant at 0.01); 14 member articles in 2 sources against 9.3 "
        "expected at the base rate. Spike days: 2026-11-18, 2026-11-19. Net stance +0.40 over 3 "
        "articles with a stance, last week +0.10."
    )
    assert lines[2].startswith("Stories behind it: " + SCRIPT_TITLE)
    assert "(Alpha News, 2026-11-18; 2 articles in 2 outlets)" in lines[2]
    assert lines[3].startswith("Entities: Coinbase (5 member articles, 1 the week before)")
    # AI's fall has p = 0.2: no "fell", it is listed as steady with its interval.
    assert not any("AI productivity fell" in x for x in lines)
    assert ("AI productivity: no significant change, weekly index 120 (90% interval 90-150) against "
            "160 the week before (p = 0.2); 3 member articles in 2 sources.") in lines
    assert any(FED_LABEL in x and "No weekly figures" in x for x in lines)
    assert any("1 feed(s) with failed fetches, 1 silent feed(s), 1 low-volume day(s)" in x for x in lines)


def test_spike_without_significant_week_is_not_called_a_rise(data: ReportData) -> None:
    from dataclasses import replace

    crypto = next(n for n in data.narratives if n.id == "crypto")
    assert crypto.weekly is not None
    calm = replace(data, narratives=tuple(
        replace(n, weekly=replace(crypto.weekly, mover=False, change_p=0.3)) if n.id == "crypto" else n
        for n in data.narratives))
    lines = summary_lines(calm)
    assert not any(" rose:" in x for x in lines)
    assert ("Crypto legitimacy spiked on 2026-11-18, 2026-11-19 (days far above the expected count), "
            "but the week as a whole is not a significant change: weekly index 150 (90% interval "
            "120-185) against 100 the week before (p = 0.3, threshold 0.01); 14 member articles in "
            "2 sources. Net stance +0.40 over 3 articles with a stance, last week +0.10.") in lines
    assert "No narrative moved significantly this week." in lines


def test_week_without_data_says_so(store: tuple[sqlite_utils.Database, dict[str, int], Path]) -> None:
    data = gather_report(store[0].conn, parse_week("2026-W49"))
    assert not data.has_data and data.narratives == ()
    md = render_markdown(data)
    assert "No data for week 2026-W49 (30 Nov to 06 Dec 2026)" in md
    assert "(data covers 2026-11-02..2026-11-21)" in md
    assert "## Narratives" not in md and "## Coverage and feed health" in md
    html = render_html(data)
    assert 'id="no-data"' in html and "No data for week 2026-W49" in html


def test_empty_store(db: sqlite_utils.Database) -> None:
    data = gather_report(db.conn, WEEK)
    assert "(data covers no articles yet)" in render_markdown(data)
    assert all(not d.low for d in data.daily_volume)


def test_articles_without_index_ask_for_tracker_index(db: sqlite_utils.Database) -> None:
    s = Store(db.conn)
    s.feed("alpha", "Alpha")
    s.article("alpha", "2026-11-17", "Something")
    db.conn.execute("INSERT INTO narratives (id, label) VALUES ('ai', 'AI')")
    data = gather_report(db.conn, WEEK)
    assert data.has_data and not data.has_index
    assert any("run tracker index" in x for x in render_markdown(data).splitlines())


# --------------------------------------------------------------------------- escaping


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _collect(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    c.close()
    return c


def _assert_inert(html: str, allowed_tags: set[str]) -> str:
    c = _collect(html)
    for tag, attrs in c.tags:
        assert tag in allowed_tags, f"unexpected <{tag}>"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            if name in ("href", "src"):
                assert value is not None
                assert re.match(r"https?://|#|report-[\w-]+-charts/|report-[\w-]+-queries\.(md|html)#?", value), value
    return " ".join(" ".join(c.text).split())


MD_TAGS = {"h1", "h2", "h3", "p", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th",
           "td", "a", "img", "strong", "code", "pre", "blockquote"}


@pytest.mark.parametrize("extensions", [[], ["tables"]])
def test_markdown_renders_on_its_own_and_text_is_inert(data: ReportData, extensions: list[str]) -> None:
    md = render_markdown(data, {"crypto": "report-2026-W47-charts/crypto.svg"})
    html = markdown.markdown(md, extensions=extensions)
    text = _assert_inert(html, MD_TAGS)
    for payload in (SCRIPT_TITLE, IMG_TITLE, EVIL_ENTITY, CLAIM_TEXT, FED_LABEL,
                    "A <b>licence</b> was granted", "<b>HTTP 503</b>"):
        assert payload in text, payload
    if extensions:
        # A pipe in a title or claim must not add a column: every claims row has 6 cells.
        claims_table = html.split("Figures cited in narrative articles")[1].split("</table>")[0]
        rows = re.findall(r"<tr>(.*?)</tr>", claims_table, re.S)
        assert len(rows) == 3 and all(r.count("<td") == 6 for r in rows[1:])
        assert '<a href="https://news.example/a?x=1&amp;y=%282%29">' in claims_table
    assert '<img alt="Daily index of Crypto legitimacy" src="report-2026-W47-charts/crypto.svg"' in html


def test_markdown_is_inert_under_commonmark_too(data: ReportData) -> None:
    """GitHub renders CommonMark + GFM tables, with raw HTML allowed: nothing may get through."""
    markdown_it = pytest.importorskip("markdown_it")
    md = render_markdown(data, {"crypto": "report-2026-W47-charts/crypto.svg"})
    html = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(md)
    text = _assert_inert(html, MD_TAGS | {"s"})
    for payload in (SCRIPT_TITLE, IMG_TITLE, EVIL_ENTITY, CLAIM_TEXT, FED_LABEL):
        assert payload in text, payload
    claims_table = html.split("Figures cited in narrative articles")[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", claims_table, re.S)
    assert len(rows) == 3 and all(r.count("<td") == 6 for r in rows[1:])


def test_html_escapes_article_text_and_has_no_external_assets(data: ReportData) -> None:
    html = render_html(data)
    allowed = MD_TAGS | {"html", "head", "meta", "title", "style", "body", "nav", "section",
                         "article", "h4", "span", "div", "svg", "rect", "line", "text",
                         "polyline", "circle", "g", "path", "figure"}
    text = _assert_inert(html, allowed)
    for payload in (SCRIPT_TITLE, IMG_TITLE, EVIL_ENTITY, CLAIM_TEXT, FED_LABEL):
        assert payload in text, payload
    assert "<script" not in html.lower()
    assert "Content-Security-Policy" in html
    # One chart per narrative, wide and narrow; spikes drawn from the gathered series.
    assert html.count("<svg ") == 6 and html.count('class="mark-symbol role-mark spikes_marks"') == 6
    assert not re.search(r"""(src|href)=["']?(//|https?:)[^"']*\.(css|js|png|svg|woff)""", html)
    assert 'href="javascript' not in html


def _renderers() -> list[Callable[[str], str]]:
    out: list[Callable[[str], str]] = [lambda md: markdown.markdown(md, extensions=["tables"])]
    try:
        import markdown_it
    except ImportError:
        return out
    out.append(markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"]).render)
    return out


def test_md_escape_and_safe_url() -> None:
    for raw in ("# h", "- item", "+ x", "1. one", "3) three", "> quote", "=== x", "~~~ code",
                "<b>x</b>", "*a* _b_ `c` [d](e) | f", "a\n\n# b", "&amp; AT&T", "\\*",
                "<!-- c -->", "<http://x.example>", "![i](http://x.example/i.png)", "~~s~~", "a ~~b~~ c"):
        for render in _renderers():
            html = render("Lead: x\n\n" + md_escape(raw))
            out = _collect(html)
            assert [t for t, _ in out.tags] == ["p", "p"], (raw, html)
            assert "".join(out.text).split("Lead: x")[1].strip() == " ".join(raw.split())
    assert md_escape("3.3% and 2026. 1.5x") == "3.3% and 2026. 1.5x"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,hi") is None
    assert safe_url("https://x.example/a\nb") is None
    assert safe_url('https://x.example/a b"c)') == "https://x.example/a%20b%22c%29"


def test_format_amount() -> None:
    assert format_amount("money", 4.5e9, None, None, "USD") == "USD 4.5bn"
    assert format_amount("money", None, 3e8, 3e8, "EUR") == "EUR 300m-300m"
    assert format_amount("percent", None, 0.5, 0.6, None) == "0.5-0.6%"
    assert format_amount("percent", 12.5, None, None, "%") == "12.5%"
    assert format_amount("money", None, None, None, "USD") == "n/a"


def test_centrality() -> None:
    vecs = [np.array([1.0, 0, 0]), np.array([0.9, 0.1, 0]), np.array([0, 1.0, 0])]
    c = centrality(vecs)
    assert c[1] > c[0] > c[2]
    assert c[1] == pytest.approx(0.922, abs=1e-3)
    assert centrality([np.zeros(3), np.array([0, 2.0, 0])]) == pytest.approx([0.0, 1.0])
    assert centrality([]) == []


# --------------------------------------------------------------------------- writing and CLI


def test_write_report_files(store: tuple[sqlite_utils.Database, dict[str, int], Path],
                            tmp_path: Path) -> None:
    out = tmp_path / "reports"
    res = write_report(store[0], load_settings(env={}), week="2026-W47", out_dir=out)
    assert res.markdown_path == out / "report-2026-W47.md"
    assert res.html_path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in res.chart_paths) == ["ai.svg", "crypto.svg", "fed.svg"]
    md = res.markdown_path.read_text(encoding="utf-8")
    for p in res.chart_paths:
        ET.parse(p)
        assert f"]({p.parent.name}/{p.name})" in md  # relative link from the Markdown
    assert res.has_data and res.summary[1].startswith("Crypto legitimacy rose: weekly index 150")
    assert [p.name for p in res.query_paths] == ["report-2026-W47-queries.md", "report-2026-W47-queries.html"]
    assert "](report-2026-W47-queries.md#narrative_weekly)" in md and "```sql" not in md
    assert not list(out.glob(".*.tmp"))


def test_report_shows_how_the_stories_move_together(
        store: tuple[sqlite_utils.Database, dict[str, int], Path], tmp_path: Path) -> None:
    """After `tracker dynamics`, both formats carry the section and the lag chart is a file."""
    conn = store[0].conn
    out = tmp_path / "reports"
    before = write_report(store[0], load_settings(env={}), week="2026-W47", out_dir=out)
    assert "How the stories move together" not in before.markdown_path.read_text(encoding="utf-8")
    xcorr = json.dumps({str(k): 0.05 * k for k in range(-3, 4)})
    with conn:
        conn.execute(
            "INSERT INTO narrative_dynamics (analysis, series, frequency, variant, leader, follower, "
            "significant, p_value, p_adjusted, verdict, xcorr, n_obs, params, first_day, last_day, computed_at) "
            "VALUES ('granger', 'intensity', 'daily', 'all', 'fed', 'crypto', 1, 0.001, 0.004, "
            "'Fed <easing> leads Crypto by 2 days', ?, 300, '{}', '2026-01-01', '2026-11-22', 'now')",
            (xcorr,))
    res = write_report(store[0], load_settings(env={}), week="2026-W47", out_dir=out)
    md = res.markdown_path.read_text(encoding="utf-8")
    html = res.html_path.read_text(encoding="utf-8")
    assert "## How the stories move together" in md and "Fed <easing> leads Crypto by 2 days" in md
    chart = [p for p in res.chart_paths if p.name == "dynamics-lags.svg"]
    assert chart and f"]({chart[0].parent.name}/dynamics-lags.svg)" in md
    ET.parse(chart[0])
    assert 'id="dynamics"' in html and "Fed &lt;easing&gt; leads Crypto by 2 days" in html


def test_default_week_used_when_none(store: tuple[sqlite_utils.Database, dict[str, int], Path],
                                     tmp_path: Path) -> None:
    res = write_report(store[0], load_settings(env={}), week=None, out_dir=tmp_path,
                       today=date(2026, 12, 9))
    assert res.week == "2026-W49" and not res.has_data
    assert res.chart_paths == ()


def test_cli_report(store: tuple[sqlite_utils.Database, dict[str, int], Path], tmp_path: Path) -> None:
    db_path = store[2]
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(cli, ["--db", str(db_path), "report", "--week", "2026-W47", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "report-2026-W47.html" in result.output
    assert "Crypto legitimacy rose: weekly index 150" in result.output
    assert (out / "report-2026-W47.md").is_file()
    bad = runner.invoke(cli, ["--db", str(db_path), "report", "--week", "2026-47", "--out", str(out)])
    assert bad.exit_code == 2 and "YYYY-Www" in bad.output
    missing = runner.invoke(cli, ["--db", str(tmp_path / "nope.db"), "report", "--out", str(out)])
    assert missing.exit_code == 2 and "tracker run" in missing.output
    assert not (tmp_path / "nope.db").exists()


def test_pdf_without_browser_says_how_to_fix(
    store: tuple[sqlite_utils.Database, dict[str, int], Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tracker.report.write.find_browser", lambda: None)
    with pytest.raises(ReportError, match="apt-get install chromium"):
        write_report(store[0], load_settings(env={}), week="2026-W47", out_dir=tmp_path, pdf=True)
    assert (tmp_path / "report-2026-W47.html").is_file()  # the other formats are still written
    assert not (tmp_path / "report-2026-W47.pdf").exists()


def test_week_dataclass_days() -> None:
    assert [d.isoformat() for d in Week(2026, 47).days()] == days("2026-11-16", 7)


def test_an_unfinished_week_is_marked_partial_not_padded_with_future_days(
    store: tuple[sqlite_utils.Database, dict[str, int], Path],
) -> None:
    conn = store[0].conn
    tuesday = date(2026, 11, 17)
    data = gather_report(conn, WEEK, today=tuesday)
    assert not data.complete and data.through == "2026-11-17"
    # Only the days so far: no future days listed as zero; today is in progress, never low.
    assert [(d.day, d.in_progress, d.low) for d in data.daily_volume] == [
        ("2026-11-16", False, False), ("2026-11-17", True, False)]
    # Silence is judged over the 3 days up to today (gamma last wrote on the 15th), not
    # over days that have not happened yet.
    assert data.silent_feeds == ()
    lines = summary_lines(data)
    assert lines[0].startswith("Week 2026-W47 is not over") and "2 of 7 days" in lines[0]
    html = render_html(data, charts={})
    assert 'id="partial-week"' in html and "in progress" in html
    assert "is not over" in render_markdown(data)
    # The same week once it is over: all seven days, gamma silent.
    done = gather_report(conn, WEEK, today=date(2026, 11, 23))
    assert done.complete and len(done.daily_volume) == 7 and done.progress_note is None
    assert [f.name for f in done.silent_feeds] == ["gamma"]


def test_a_week_that_has_not_begun_says_so(
    store: tuple[sqlite_utils.Database, dict[str, int], Path],
) -> None:
    data = gather_report(store[0].conn, parse_week("2026-W49"), today=date(2026, 11, 25))
    assert data.daily_volume == () and data.silent_feeds == ()
    assert any("has not begun" in line for line in summary_lines(data))


def test_outlet_name_prefers_titles_then_hosts() -> None:
    from tracker.report.data import outlet_name

    assert outlet_name("The Verge", "https://www.theverge.com/x") == "The Verge"
    assert outlet_name("theverge_ai", "https://www.theverge.com/x") == "theverge.com"  # a slug
    assert outlet_name("theverge_ai", None) == "theverge_ai"
