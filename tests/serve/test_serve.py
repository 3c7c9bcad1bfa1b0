"""Datasette in-process: every canned query, the charts, facets and search, and read-only serving.

The database is built by hand (:func:`make_tracker_db`) so the expected rows follow
from its construction; ``tests/test_browser_serve.py`` reuses it.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sqlite3
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.paths import REPO
from tests.serve.live import Client, free_port
from tracker.base.db import connect, open_db, transaction
from tracker.base.errors import TrackerError
from tracker.base.settings import load_settings
from tracker.cli import cli
from tracker.report.charts import PALETTE, layer_rows, series_colours
from tracker.serve.plugin import chart_spec_from_rows, evidence_html
from tracker.serve.server import DATABASE_NAME, build_datasette, load_metadata

SVG_NS = "{http://www.w3.org/2000/svg}"
FIRST_DAY = date(2026, 1, 1)
DAYS = 21
LAST_DAY = (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()  # 2026-01-21


def day(n: int) -> str:
    """The n-th fixture day (0 = 2026-01-01)."""
    return (FIRST_DAY + timedelta(days=n)).isoformat()


def index_value(narrative: str, n: int) -> float:
    """The fixture index: rates steps up in the last week, ai_capex steps down, gold is flat."""
    last_week = n >= DAYS - 7
    return {
        "rates": 3.0 if last_week else 1.0,
        "ai_capex": 1.0 if last_week else 2.0,
        "gold": 0.5,
    }[narrative]


def spike(narrative: str, n: int) -> int:
    """rates spikes on the first day of its step."""
    return int(narrative == "rates" and n == DAYS - 7)


#: (narrative, entity) -> member articles per day over the fixture's last 14 days.
ENTITY_DAILY = {
    ("rates", "fed"): lambda n: 3 if n >= DAYS - 7 else 1,
    ("rates", "ecb"): lambda n: 2 if n < DAYS - 7 else 0,
    ("rates", "nvidia"): lambda n: 1 if n == DAYS - 1 else 0,
    ("ai_capex", "nvidia"): lambda n: 2,
}

FEEDS = [
    # id, name, enabled
    (1, "alpha", 1),
    (2, "beta", 1),
    (3, "gamma", 1),
    (4, "delta", 0),
    (5, "epsilon", 1),
]
FETCH_TIME = "T06:00:00Z"


def make_tracker_db(path: Path) -> None:
    """A small tracker database whose canned-query answers are known by construction."""
    db = open_db(path)
    conn = db.conn
    created = day(0) + FETCH_TIME
    with transaction(conn):
        conn.executemany(
            "INSERT INTO feeds (id, name, title, url, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(i, name, name.title(), f"https://{name}.example/rss", en, created)
             for i, name, en in FEEDS],
        )
        conn.executemany(
            "INSERT INTO narratives (id, label, description) VALUES (?, ?, ?)",
            [
                ("rates", "Rate cuts", "Central banks cutting rates."),
                ("ai_capex", "AI capex boom", "Spending on AI data centres."),
                ("gold", "Gold rush", "Gold as a haven."),
            ],
        )
        conn.executemany(
            "INSERT INTO entities (id, name, type) VALUES (?, ?, ?)",
            [
                ("fed", "Federal Reserve", "central_bank"),
                ("ecb", "European Central Bank", "central_bank"),
                ("nvidia", "Nvidia", "ORG"),
            ],
        )
        for n in range(DAYS):
            for narrative in ("rates", "ai_capex", "gold"):
                conn.execute(
                    "INSERT INTO narrative_index (day, narrative_id, articles, weighted_articles, "
                    "total_articles, sources, share, index_value, smoothed_7d, zscore, spike, "
                    "computed_at) VALUES (?, ?, ?, ?, 20, 2, ?, ?, ?, ?, ?, ?)",
                    (day(n), narrative, 4, 3.5, 0.2, index_value(narrative, n),
                     index_value(narrative, n), 3.1 if spike(narrative, n) else 0.1,
                     spike(narrative, n), created),
                )
        # Weekly table (ISO weeks 2026-W03 and W04): rates is a significant mover in W04.
        for week, start, end in (("2026-W03", "2026-01-12", "2026-01-18"), ("2026-W04", "2026-01-19", "2026-01-25")):
            for narrative, z in (("rates", 4.0), ("ai_capex", -1.0), ("gold", 0.5)):
                latest = week == "2026-W04"
                conn.execute(
                    "INSERT INTO narrative_weekly (week, narrative_id, week_start, week_end, covered_days, "
                    "articles, total_articles, member_sources, expected_articles, index_value, change_z, "
                    "mover, computed_at) VALUES (?, ?, ?, ?, 7, 20, 100, 3, 20.0, 100.0, ?, ?, ?)",
                    (week, narrative, start, end, z if latest else 0.0, int(latest and narrative == "rates"),
                     created),
                )
        for (narrative, entity), per_day in ENTITY_DAILY.items():
            for n in range(DAYS - 14, DAYS):
                if per_day(n):
                    conn.execute(
                        "INSERT INTO narrative_entity_daily (day, narrative_id, entity_id, articles) "
                        "VALUES (?, ?, ?, ?)",
                        (day(n), narrative, entity, per_day(n)),
                    )
        # Fetches: one run a day over the last week, at 06:00; beta fails on the last two
        # days, alpha failed once in the middle and recovered.
        fetch_id = 0
        for n in range(DAYS - 7, DAYS):
            for feed_id, name, enabled in FEEDS:
                if not enabled:
                    continue
                failed = (name == "beta" and n >= DAYS - 2) or (name == "alpha" and n == DAYS - 4)
                fetch_id += 1
                conn.execute(
                    "INSERT INTO fetches (id, feed_id, started_at, status, http_status, "
                    "error_kind, error, items_new) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (fetch_id, feed_id, day(n) + FETCH_TIME, "failed" if failed else "ok",
                     None if failed else 200, "timeout" if failed else None,
                     f"timed out on day {n}" if failed else None, 0),
                )
        articles = [
            # id, feed, day index, title, summary, fetched day index, duplicate_of
            (1, 1, DAYS - 1, "Fed signals rate cut in March", "The Fed may cut rates.", DAYS - 1, None),
            (2, 1, DAYS - 1, "Markets cheer the rate cut talk", "Stocks rose on cut hopes.", DAYS - 1, None),
            (3, 2, DAYS - 1, "ECB holds, Fed to cut", "The ECB held rates; a Fed cut looms.", DAYS - 3, None),
            (4, 2, DAYS - 1, "Fed signals rate cut in March!", "Copy of the first story.", DAYS - 3, 1),
            (5, 1, DAYS - 1, "Nvidia spends on data centres", "Capex keeps rising.", DAYS - 1, None),
            (6, 3, 9, "An old gold story", "Gold was up.", 9, None),
            (7, 1, DAYS - 2, "Fed minutes show a split", "The Federal Reserve was divided.", DAYS - 2, None),
        ]
        for aid, feed_id, n, title, summary, fetched, dup in articles:
            conn.execute(
                "INSERT INTO articles (id, feed_id, item_key, url, title, summary, day, "
                "published_at, fetched_at, content_hash, duplicate_of, duplicate_reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (aid, feed_id, f"item-{aid}", f"https://example.test/{aid}", title, summary,
                 day(n), day(n) + "T05:00:00Z", day(fetched) + FETCH_TIME, f"h{aid}", dup,
                 "title" if dup else None),
            )
        scores = [
            # article, narrative, score, is_member, evidence
            (1, "rates", 0.9, 1, [{"sentence": "The Fed may cut rates.", "score": 0.9},
                                   {"sentence": "March looks likely.", "score": 0.95}]),
            (2, "rates", 0.7, 1, [{"sentence": "Stocks rose on cut hopes.", "score": 0.7}]),
            (3, "rates", 0.8, 1, [{"sentence": "A Fed cut looms.", "score": 0.8}]),
            (4, "rates", 0.9, 1, [{"sentence": "Copy of the first story.", "score": 0.9}]),
            (5, "rates", 0.2, 0, []),
            (5, "ai_capex", 0.85, 1, [{"sentence": "Capex keeps rising.", "score": 0.85}]),
            (7, "rates", 0.6, 1, [{"sentence": "The Federal Reserve was divided.", "score": 0.6}]),
        ]
        conn.executemany(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version, evidence) VALUES (?, ?, ?, ?, 'test', 'test-1', ?)",
            [(a, nar, s, m, json.dumps(ev)) for a, nar, s, m, ev in scores],
        )
        mentions = [
            # article, entity, text
            (1, "fed", "Fed"), (1, "fed", "Fed"), (2, None, "Markets"), (3, "ecb", "ECB"),
            (3, "fed", "Fed"), (4, "fed", "Fed"), (5, "nvidia", "Nvidia"),
            (7, "fed", "Federal Reserve"),
        ]
        conn.executemany(
            "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
            "pipeline_version) VALUES (?, ?, ?, 'ORG', 0, 3, 'test-1')",
            mentions,
        )
    conn.close()


@pytest.fixture(scope="module")
def tracker_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture database on disk (WAL needs a file)."""
    path = tmp_path_factory.mktemp("serve") / "nightly.db"
    make_tracker_db(path)
    return path


@pytest.fixture(scope="module")
def ds(tracker_db: Path) -> Any:
    """Datasette over the fixture database, arbitrary SQL allowed."""
    return build_datasette(tracker_db)


@pytest.fixture(scope="module")
def client(ds: Any, loop: asyncio.AbstractEventLoop) -> Client:
    return Client(ds, loop)


# --- canned queries ---------------------------------------------------------------------


def test_every_canned_query_in_metadata_is_tested() -> None:
    queries = load_metadata()["databases"][DATABASE_NAME]["queries"]
    # Queries of other stages are tested beside this module (e.g. test_serve_discover.py).
    tested = set(globals()) | {
        name for module in Path(__file__).parent.glob("test_*.py")
        for name in re.findall(r"^def (test_query_\w+)", module.read_text(encoding="utf-8"), re.M)
    }
    untested = [q for q in queries if f"test_query_{q}" not in tested]
    assert not untested


def test_every_canned_query_is_listed_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    queries = load_metadata()["databases"][DATABASE_NAME]["queries"]
    assert [q for q in queries if f"`/{DATABASE_NAME}/{q}`" not in readme] == []


def test_query_narrative_index_range(client: Client) -> None:
    rows = client.rows("narrative_index_range", narrative="rates", start=day(3), end=day(5))
    assert [(r["day"], r["narrative_id"], r["label"]) for r in rows] == [
        (day(5), "rates", "Rate cuts"), (day(4), "rates", "Rate cuts"), (day(3), "rates", "Rate cuts"),
    ]
    # By label (any case), and all narratives when empty.
    by_label = client.rows("narrative_index_range", narrative="rate CUTS", start=day(3), end=day(5))
    assert by_label == rows
    everything = client.rows("narrative_index_range", narrative="", start=day(20), end="")
    assert sorted(r["narrative_id"] for r in everything) == ["ai_capex", "gold", "rates"]
    assert {r["index_value"] for r in everything if r["narrative_id"] == "rates"} == {3.0}


def test_query_narrative_index_range_defaults_to_90_days_to_latest(client: Client) -> None:
    rows = client.rows("narrative_index_range", narrative="gold", start="", end="")
    assert len(rows) == DAYS  # the fixture is shorter than 90 days
    assert rows[0]["day"] == LAST_DAY
    short = client.rows("narrative_index_range", narrative="gold", start="", end=day(100))
    assert short[-1]["day"] == day(100 - 89)


def test_query_narratives_on_day(client: Client) -> None:
    rows = client.rows("narratives_on_day", day=day(DAYS - 7))
    assert rows[0]["narrative_id"] == "rates" and rows[0]["spike"] == 1
    latest = client.rows("narratives_on_day", day="")
    assert {r["day"] for r in latest} == {LAST_DAY}
    assert len(latest) == 3


def test_query_weekly_movers(client: Client) -> None:
    rows = client.rows("weekly_movers", day="")
    assert [r["narrative_id"] for r in rows] == ["rates", "ai_capex", "gold"]  # mover, then |z|
    assert rows[0]["mover"] == 1 and rows[0]["week"] == "2026-W04"
    earlier = client.rows("weekly_movers", day="2026-01-14")
    assert {r["week"] for r in earlier} == {"2026-W03"} and not any(r["mover"] for r in earlier)


def test_query_top_movers(client: Client) -> None:
    rows = client.rows("top_movers", week_ending="")
    expected = {}
    for narrative in ("rates", "ai_capex", "gold"):
        this_week = [index_value(narrative, n) for n in range(DAYS - 7, DAYS)]
        last_week = [index_value(narrative, n) for n in range(DAYS - 14, DAYS - 7)]
        expected[narrative] = sum(this_week) / 7 - sum(last_week) / 7
    ranked = sorted(expected, key=lambda k: -abs(expected[k]))
    assert [r["narrative_id"] for r in rows] == ranked
    for row in rows:
        assert row["change"] == pytest.approx(expected[row["narrative_id"]])
        assert row["week_start"] == day(DAYS - 7) and row["week_end"] == LAST_DAY
    rates = rows[0]
    assert rates["change_pct"] == pytest.approx(200.0)
    assert rates["spike_this_week"] == 1 and rates["articles_this_week"] == 28
    # A week ending earlier: the step is not in it yet, so nothing moved.
    earlier = client.rows("top_movers", week_ending=day(DAYS - 8))
    assert all(r["change"] == pytest.approx(0.0) for r in earlier)


def test_query_narrative_entities(client: Client) -> None:
    rows = client.rows("narrative_entities", narrative="rates", start="", end="")
    by_id = {r["entity_id"]: r for r in rows}
    this_week = range(DAYS - 7, DAYS)
    prior_week = range(DAYS - 14, DAYS - 7)
    for entity in ("fed", "ecb", "nvidia"):
        per_day = ENTITY_DAILY[("rates", entity)]
        now = sum(per_day(n) for n in this_week)
        before = sum(per_day(n) for n in prior_week)
        if now == 0:
            assert entity not in by_id
            continue
        assert by_id[entity]["articles"] == now
        assert by_id[entity]["articles_prior_period"] == before
        assert by_id[entity]["change"] == now - before
        assert by_id[entity]["days_present"] == sum(1 for n in this_week if per_day(n))
    assert [r["entity_id"] for r in rows] == ["fed", "nvidia"]
    assert by_id["fed"]["name"] == "Federal Reserve" and by_id["fed"]["type"] == "central_bank"
    # 21 fed articles among 7 days x 4 member articles.
    assert by_id["fed"]["pct_of_narrative"] == pytest.approx(round(100 * 21 / 28, 1))
    # An explicit older period sees the ECB, not Nvidia.
    older = client.rows("narrative_entities", narrative="Rate cuts", start=day(7), end=day(13))
    assert [r["entity_id"] for r in older] == ["ecb", "fed"]


def test_query_narrative_articles(client: Client) -> None:
    rows = client.rows("narrative_articles", narrative="rates", day=LAST_DAY)
    # Members only (article 5 is not), duplicates left out (article 4), best score first.
    assert [r["article_id"] for r in rows] == [1, 3, 2]
    assert [r["source"] for r in rows] == ["Alpha", "Beta", "Alpha"]  # feed titles, not slugs
    assert json.loads(rows[0]["evidence"])[1]["sentence"] == "March looks likely."
    # Empty day = the narrative's latest day with articles.
    assert client.rows("narrative_articles", narrative="Rate cuts", day="") == rows
    assert [r["article_id"] for r in client.rows("narrative_articles", narrative="rates",
                                                  day=day(DAYS - 2))] == [7]
    assert client.rows("narrative_articles", narrative="no-such", day="") == []


def test_query_entity_timeline(client: Client) -> None:
    rows = client.rows("entity_timeline", entity="Federal Reserve", start="", end="")
    # Every day of the 90 up to the latest article, quiet ones as 0.
    assert [r["day"] for r in rows] == [
        (FIRST_DAY + timedelta(days=DAYS - 90 + i)).isoformat() for i in range(90)
    ]
    named = [(r["day"], r["articles"], r["mentions"]) for r in rows if r["articles"]]
    # Article 4 is a duplicate; article 1 names the Fed twice.
    assert named == [(day(DAYS - 2), 1, 1), (LAST_DAY, 2, 3)]
    assert all(r["per_1000_articles"] is None for r in rows)  # no coverage rows in this fixture
    assert sum(r["mentions"] for r in rows) == 4
    assert rows[-1]["narratives"] == "rates (3)" and rows[0]["narratives"] is None
    assert {r["entity_id"] for r in rows} == {"fed"}
    assert client.rows("entity_timeline", entity="fed", start=day(DAYS - 2), end="") == rows[-2:]
    assert client.rows("entity_timeline", entity="fed", start=LAST_DAY, end=day(0)) == []
    assert client.rows("entity_timeline", entity="nobody", start="", end="") == []


def test_query_failed_feeds(client: Client) -> None:
    rows = client.rows("failed_feeds", days="", as_of="")
    assert [(r["name"], r["failures"], r["last_status"]) for r in rows] == [
        ("beta", 2, "failed"),  # still failing comes first
        ("alpha", 1, "ok"),
    ]
    beta = rows[0]
    assert beta["fetches"] == 7 and beta["last_error_kind"] == "timeout"
    assert beta["last_ok_at"] == day(DAYS - 3) + FETCH_TIME
    assert beta["last_failure_at"] == LAST_DAY + FETCH_TIME
    # A one-day window ending at the last run only holds beta's last failure.
    one_day = client.rows("failed_feeds", days="1", as_of="")
    assert [(r["name"], r["failures"]) for r in one_day] == [("beta", 1)]


def test_query_silent_feeds(client: Client) -> None:
    rows = client.rows("silent_feeds", days="", as_of="")
    # epsilon never yielded anything; gamma's last new item came on day 9; delta is disabled.
    assert [r["name"] for r in rows] == ["epsilon", "gamma"]
    gamma = rows[1]
    assert gamma["last_new_item_at"] == day(9) + FETCH_TIME
    assert gamma["days_silent"] == pytest.approx(DAYS - 1 - 9)
    assert gamma["last_fetch_status"] == "ok"
    # Longer window: beta (last new item two days before the last run) is not silent.
    assert [r["name"] for r in client.rows("silent_feeds", days="1", as_of="")] == [
        "epsilon", "gamma", "beta",
    ]


def test_query_coverage_per_day(client: Client) -> None:
    # Default: the 30 days to the latest article day, every feed; the duplicate (4) is left out.
    rows = client.rows("coverage_per_day", feed="", start="", end="")
    assert [(r["day"], r["feed"], r["articles"]) for r in rows] == [
        (day(9), "gamma", 1), (day(DAYS - 2), "alpha", 1), (day(DAYS - 1), "alpha", 3), (day(DAYS - 1), "beta", 1)]
    assert {(r["with_full_text"], r["without_link"]) for r in rows} == {(0, 0)}
    # One feed; a range that leaves the old gold story out.
    assert client.rows("coverage_per_day", feed="gamma", start=day(10), end="") == []
    assert [(r["day"], r["articles"]) for r in client.rows("coverage_per_day", feed="alpha", start="",
                                                            end=day(DAYS - 2))] == [(day(DAYS - 2), 1)]


def test_query_search_articles(client: Client) -> None:
    rows = client.rows("search_articles", q="rate cut")
    # All the words in any form (porter stemming: "rates" in article 3 counts as "rate"),
    # not the phrase; the duplicate (article 4) is left out.
    ids = [r["article_id"] for r in rows]
    assert sorted(ids) == [1, 2, 3]
    # Most relevant first: both words in the headline (1, 2) above one in the headline (3).
    assert set(ids[:2]) == {1, 2} and ids[2] == 3
    relevance = [r["relevance"] for r in rows]
    assert relevance == sorted(relevance, reverse=True)
    assert all("[" in r["snippet"] for r in rows)
    assert {r["narratives"] for r in rows} == {"rates"}
    # "fed" in the headline beats "Federal Reserve" in the summary only (no match: not a word).
    assert [r["article_id"] for r in client.rows("search_articles", q="fed")][:3] != []
    # Punctuation and quotes are searched as words, never a syntax error.
    assert client.rows("search_articles", q='"S&P" (Fed') == []
    assert client.rows("search_articles", q="   ") == []


# --- tables, facets, search, labels ----------------------------------------------------


def test_every_visible_table_and_column_is_described(tracker_db: Path) -> None:
    tables = load_metadata()["databases"][DATABASE_NAME]["tables"]
    conn = sqlite3.connect(tracker_db)
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT LIKE 'articles_fts%'"
    )]
    missing = []
    for table in names:
        meta = tables.get(table, {})
        if meta.get("hidden"):
            continue
        if not meta.get("description"):
            missing.append(f"{table} (table description)")
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        missing += [f"{table}.{c}" for c in columns if not (meta.get("columns") or {}).get(c)]
    conn.close()
    assert not missing, f"describe these in db/datasette/metadata.yml: {missing}"


def test_table_pages_have_facets_labels_and_search(client: Client) -> None:
    articles = client.get(f"/{DATABASE_NAME}/articles.json", _search="rate cut", _shape="objects")
    assert articles.status_code == 200
    body = articles.json()
    assert {r["id"] for r in body["rows"]} == {1, 2, 3, 4}  # 3 says "rates": stemmed
    # No default facet on a million articles; one asked for is there.
    assert body["facet_results"] == {}
    faceted = client.get(f"/{DATABASE_NAME}/articles.json", _search="rate cut", _facet="feed_id").json()
    assert "feed_id" in faceted["facet_results"]
    # Foreign keys come with labels: feed name, narrative label, entity name.
    labelled = client.get(f"/{DATABASE_NAME}/articles.json", _labels="on", _shape="array",
                          id="3").json()
    assert labelled[0]["feed_id"] == {"value": 2, "label": "beta"}
    scores = client.get(f"/{DATABASE_NAME}/article_narratives.json", _labels="on",
                        _shape="array", article_id="5", narrative_id="ai_capex").json()
    assert scores[0]["narrative_id"]["label"] == "AI capex boom"
    mentions = client.get(f"/{DATABASE_NAME}/mentions.json", _labels="on", _shape="array",
                          article_id="5").json()
    assert mentions[0]["entity_id"]["label"] == "Nvidia"
    entities = client.get(f"/{DATABASE_NAME}/entities.json").json()
    assert "type" in entities["facet_results"]
    index = client.get(f"/{DATABASE_NAME}/narrative_index.json", _shape="objects").json()
    assert "narrative_id" in index["facet_results"]
    assert index["rows"][0]["day"] == LAST_DAY  # newest first


def test_table_html_shows_column_descriptions(client: Client) -> None:
    html = client.get(f"/{DATABASE_NAME}/narrative_index").text
    assert "expected member articles over the trailing 7 days" in html


# --- charts ------------------------------------------------------------------------------


def _spec(html: str, element_id: str = "tracker-index-chart") -> dict[str, Any]:
    """The Vega-Lite spec a page embeds for the browser to draw."""
    marker = f'<script type="application/json" id="{element_id}-spec">'
    start = html.index(marker) + len(marker)
    spec: dict[str, Any] = json.loads(html[start:html.index("</script>", start)])
    return spec


def _lines(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows behind the chart's lines."""
    return layer_rows(spec, "lines")


def _overview(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows behind the home and database pages' clickable overview chart."""
    rows: list[dict[str, Any]] = spec["datasets"]["rows"]
    return rows


def test_chart_on_the_index_query_page(client: Client) -> None:
    response = client.get(f"/{DATABASE_NAME}/narrative_index_range", narrative="", start="",
                          end="")
    assert response.status_code == 200
    html = response.text
    # Drawn in the browser by the vendored Vega-Embed, served by the plugin: no CDN.
    assert 'src="/-/tracker-static/vega-embed.js' in html and "cdn" not in html.lower()
    spec = _spec(html)
    rows = _lines(spec)
    assert sorted({r["series"] for r in rows}) == ["AI capex boom", "Gold rush", "Rate cuts"]
    colour = spec["layer"][-1]["encoding"]["color"]["scale"]
    # Each narrative in its palette colour (sorted ids: ai_capex, gold, rates).
    assert dict(zip(colour["domain"], colour["range"], strict=True)) == {
        "AI capex boom": PALETTE[0], "Gold rush": PALETTE[1], "Rate cuts": PALETTE[2]}
    rates = [r for r in rows if r["series"] == "Rate cuts"]
    assert len(rates) == DAYS and rates[-1]["value"] > rates[0]["value"]  # the step up
    assert [r["day"] for r in rows if r["spike"]] == [day(DAYS - 7)]  # one spike, marked
    assert any(layer.get("name") == "base_rule" for layer in spec["layer"])  # 100 drawn
    assert spec["layer"][-1]["encoding"]["y"]["title"].startswith("Index (100 = ")
    # Without JavaScript the server's SVG of the same rows stands in.
    assert '<noscript><img src="/tracker/narrative_index_range.svg?' in html


def test_chart_column_can_be_chosen(client: Client) -> None:
    html = client.get(f"/{DATABASE_NAME}/narrative_index_range", narrative="rates",
                      _chart_y="zscore").text
    spec = _spec(html)
    assert spec["title"]["text"] == "z-score, by day"
    assert not any(layer.get("name") == "base_rule" for layer in spec["layer"])  # not an index
    assert 'href="?narrative=rates&amp;_chart_y=index_value"' in html


def test_one_colour_per_narrative_on_every_page(client: Client) -> None:
    alone = _spec(client.get(f"/{DATABASE_NAME}/narrative_index_range", narrative="gold").text)
    scale = alone["layer"][-1]["encoding"]["color"]["scale"]
    assert scale["domain"] == ["Gold rush"]
    assert scale["range"] == [series_colours(["rates", "ai_capex", "gold"])["gold"]]


def test_chart_on_home_database_table_and_timeline_pages(client: Client) -> None:
    for path in ("/", f"/{DATABASE_NAME}"):
        response = client.get(path)
        assert response.status_code == 200, path
        rows = _overview(_spec(response.text))
        # Every point opens its narrative-day; the coverage strip sits under the chart.
        assert rows and all(r["href"] == f"/-/day/{r['narrative_id']}/{r['day']}" for r in rows)
        assert 'id="tracker-coverage-strip"' in response.text
    assert _lines(_spec(client.get(f"/{DATABASE_NAME}/narrative_index").text))
    timeline = _spec(client.get(f"/{DATABASE_NAME}/entity_timeline", entity="fed").text)
    assert timeline["title"]["text"] == "Articles, by day"
    # No day column, no chart.
    movers = client.get(f"/{DATABASE_NAME}/top_movers").text
    assert "tracker-index-chart" not in movers


def test_static_chart_scripts_are_served_from_the_package(client: Client) -> None:
    bundle = client.get("/-/tracker-static/vega-embed.js")
    assert bundle.status_code == 200 and "javascript" in bundle.headers["content-type"]
    assert "window.vegaEmbed" in bundle.text
    assert "vegaEmbed" in client.get("/-/tracker-static/tracker-charts.js").text
    assert client.get("/-/tracker-static/nope.js").status_code == 404


def test_svg_export(client: Client) -> None:
    response = client.get(f"/{DATABASE_NAME}/narrative_index_range.svg", narrative="gold")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    assert root.tag == f"{SVG_NS}svg"
    texts = "".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    assert "Day (UTC)" in texts and "Index (100 = base-period mean)" in texts
    html = client.get(f"/{DATABASE_NAME}/narrative_index_range", narrative="gold").text
    assert "narrative_index_range.svg" in html
    unfit = client.get(f"/{DATABASE_NAME}/top_movers.svg")
    assert unfit.status_code == 400 and "Nothing to chart" in unfit.text


def test_evidence_renders_as_a_list_best_first(client: Client) -> None:
    html = client.get(f"/{DATABASE_NAME}/narrative_articles", narrative="rates", day=LAST_DAY).text
    assert '<ol class="tracker-evidence">' in html
    assert html.index("March looks likely.") < html.index("The Fed may cut rates.")
    # Ids in query results open the reader's pages; a day beside a narrative, its articles.
    assert 'href="/-/article/1"' in html
    assert f'href="/-/day/rates/{LAST_DAY}"' not in html  # no narrative_id column here
    index = client.get(f"/{DATABASE_NAME}/narrative_index_range", narrative="rates").text
    assert f'href="/-/day/rates/{LAST_DAY}"' in index and 'href="/-/narrative/rates"' in index


def test_overview_without_an_index_says_what_to_do(tmp_path: Path,
                                                   loop: asyncio.AbstractEventLoop) -> None:
    path = tmp_path / "empty.db"
    open_db(path).conn.close()
    html = Client(build_datasette(path), loop).get("/").text
    assert "No index computed yet" in html and "tracker run" in html


# --- read-only, no SQL, WAL ----------------------------------------------------------------


def test_no_write_endpoints_and_a_read_only_connection(client: Client, ds: Any,
                                                       tracker_db: Path,
                                                       loop: asyncio.AbstractEventLoop) -> None:
    before = tracker_db.read_bytes()
    posts = [
        client.post(f"/{DATABASE_NAME}/feeds/-/insert", json={"row": {"name": "x"}}),
        client.post(f"/{DATABASE_NAME}/-/create", json={"table": "x", "rows": [{"a": 1}]}),
        client.post(f"/{DATABASE_NAME}/feeds/-/drop", json={"confirm": True}),
    ]
    # Datasette 0.65 has no write endpoints; a plugin that adds some asks for Datasette's
    # write permissions, which the tracker plugin denies to every actor.
    assert all(r.status_code in (403, 404, 405) for r in posts), [r.status_code for r in posts]
    for action in ("insert-row", "update-row", "delete-row", "create-table", "drop-table"):
        allowed = loop.run_until_complete(
            ds.permission_allowed({"id": "root"}, action, (DATABASE_NAME, "feeds"), default=True))
        assert allowed is False, action
    writes = [
        client.get(f"/{DATABASE_NAME}.json", sql="insert into feeds (name, url, created_at) "
                   "values ('x', 'y', 'z')"),
        client.get(f"/{DATABASE_NAME}.json", sql="delete from feeds"),
    ]
    assert [r.status_code for r in writes] == [400, 400]
    # Even a plugin that writes through Datasette's own write connection is refused by SQLite.
    db = ds.get_database(DATABASE_NAME)
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        loop.run_until_complete(db.execute_write("DELETE FROM feeds"))
    conn = db.connect()
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM feeds")
    assert tracker_db.read_bytes() == before
    plugins = [p["name"] for p in client.get("/-/plugins.json").json()]
    assert "tracker.serve.plugin" in plugins


def test_no_sql_switches_off_arbitrary_sql_but_not_canned_queries(
    tracker_db: Path, loop: asyncio.AbstractEventLoop
) -> None:
    locked = Client(build_datasette(tracker_db, allow_sql=False), loop)
    assert locked.get(f"/{DATABASE_NAME}.json", sql="select 1").status_code == 403
    assert locked.get(f"/{DATABASE_NAME}/narrative_index.json", _where="1=1").status_code == 403
    assert len(locked.rows("top_movers", week_ending="")) == 3
    assert "Edit SQL" not in locked.get(f"/{DATABASE_NAME}/top_movers").text
    assert _overview(_spec(locked.get("/").text))
    open_ = Client(build_datasette(tracker_db), loop)
    assert open_.get(f"/{DATABASE_NAME}.json", sql="select 1").status_code == 200


def test_readers_see_committed_nights_only(tmp_path: Path,
                                           loop: asyncio.AbstractEventLoop) -> None:
    path = tmp_path / "live.db"
    make_tracker_db(path)
    client = Client(build_datasette(path), loop)
    writer = connect(path)
    assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    new_day = day(DAYS)
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany(
        "INSERT INTO narrative_index (day, narrative_id, articles, weighted_articles, "
        "total_articles, sources, index_value, computed_at) VALUES (?, ?, 1, 1, 1, 1, 9.0, 'x')",
        [(new_day, n) for n in ("rates", "ai_capex", "gold")],
    )
    # Mid-write: the reader is neither blocked nor shown half a night.
    mid = client.rows("narratives_on_day", day="")
    assert {r["day"] for r in mid} == {LAST_DAY}
    writer.execute("COMMIT")
    after = client.rows("narratives_on_day", day="")
    assert {r["day"] for r in after} == {new_day} and len(after) == 3
    writer.close()


def test_error_pages_keep_their_status(client: Client) -> None:
    # Datasette 0.65.5 with rich >= 15 turned every error page into a crash (see serve.py).
    assert client.get(f"/{DATABASE_NAME}/no_such_table").status_code == 404
    bad = client.get(f"/{DATABASE_NAME}.json", sql="select * from no_such_table")
    assert bad.status_code == 400 and "no such table" in bad.text


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TrackerError, match="tracker run"):
        build_datasette(tmp_path / "nope.db")


# --- tracker serve: the command and the server wiring ------------------------------------


def test_serve_never_migrates_announces_and_runs_uvicorn_on_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import uvicorn

    import tracker.serve.server as serve_module

    path = tmp_path / "old.db"
    make_tracker_db(path)
    conn = sqlite3.connect(path)  # as if made before the serve indexes existed
    conn.execute("DROP INDEX idx_fetches_started")
    conn.execute("DELETE FROM _migrations WHERE name = '0010_fetches_started'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    calls: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.update(app=app, **kw))
    opened: list[str] = []
    monkeypatch.setattr(serve_module.webbrowser, "open", opened.append)

    class NowTimer:
        def __init__(self, _delay: float, fn: Any, args: tuple[Any, ...]) -> None:
            self.fn, self.args = fn, args

        def start(self) -> None:
            self.fn(*self.args)

    monkeypatch.setattr(serve_module.threading, "Timer", NowTimer)
    lines: list[str] = []
    port = free_port()
    with caplog.at_level("WARNING", logger="tracker.serve.server"):
        serve_module.serve(load_settings(env={}, db_path=path), port=port, allow_sql=False,
                           open_browser=True, announce=lines.append)
    assert calls["host"] == "127.0.0.1" and calls["port"] == port and callable(calls["app"])
    assert lines == [f"Serving {path} read-only at http://127.0.0.1:{port}/ (arbitrary SQL off); "
                     "Ctrl-C to stop."]
    assert opened == [f"http://127.0.0.1:{port}/"]
    # serve never writes: the pending migration is reported, not applied.
    assert "0010_fetches_started" in caplog.text and "tracker run" in caplog.text
    assert path.read_bytes() == before


def test_serve_warns_when_not_on_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          caplog: pytest.LogCaptureFixture) -> None:
    import uvicorn

    import tracker.serve.server as serve_module

    path = tmp_path / "t.db"
    open_db(path).conn.close()
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    with caplog.at_level("WARNING", logger="tracker.serve.server"):
        serve_module.serve(load_settings(env={}, db_path=path), host="0.0.0.0", port=free_port())
    assert "anyone who can reach this address" in caplog.text


def test_cli_serve_errors_say_what_to_do(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "serve"])
    assert missing.exit_code == 2 and "Run `tracker run` first" in missing.output
    path = tmp_path / "t.db"
    open_db(path).conn.close()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = runner.invoke(cli, ["--db", str(path), "serve", "--port", str(port)])
    assert taken.exit_code == 2 and "choose another with --port" in taken.output
    # 192.0.2.1 is a documentation address (RFC 5737): no machine has it.
    absent = runner.invoke(cli, ["--db", str(path), "serve", "--host", "192.0.2.1"])
    assert absent.exit_code == 2 and "has no address 192.0.2.1" in absent.output
    assert "Another server" not in absent.output
    unknown = runner.invoke(cli, ["--db", str(path), "serve", "--host", "no-such-host.invalid"])
    assert unknown.exit_code == 2 and "no such host" in unknown.output
    assert runner.invoke(cli, ["serve", "--port", "0"]).exit_code == 2  # out of range: usage error


# --- the chart functions -----------------------------------------------------------------


def test_chart_spec_from_rows_fills_gaps_adds_counts_and_averages_values() -> None:
    columns = ["day", "narrative_id", "articles", "share"]
    rows = [(day(0), "a", 2, 0.2), (day(0), "a", 3, 0.4), (day(3), "a", 1, 0.5)]
    counts = _lines(chart_spec_from_rows(columns, rows, y="articles") or {})
    shares = _lines(chart_spec_from_rows(columns, rows, y="share") or {})
    assert [(r["day"], r["value"]) for r in counts] == [
        (day(0), 5.0), (day(1), None), (day(2), None), (day(3), 1.0)]  # missing days: gaps
    assert [r["value"] for r in shares][:1] == [pytest.approx(0.3)]
    assert chart_spec_from_rows(["narrative_id", "articles"], [("a", 1)]) is None
    assert chart_spec_from_rows(columns, [(day(0), "a", 1, 0.1)]) is None  # one day: no chart


def test_evidence_html_escapes_and_tolerates_bad_json() -> None:
    html = evidence_html(json.dumps([{"sentence": "<b>x</b>", "score": 0.5}, {"nope": 1}]))
    assert html is not None and "&lt;b&gt;x&lt;/b&gt;" in html and "(0.50)" in html
    assert evidence_html("not json") is None
    assert "no evidence" in str(evidence_html("[]"))
