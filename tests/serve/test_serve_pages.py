"""The reader's pages of `tracker serve` (tracker/serve/pages.py), exports and paging.

The fixture is tests/serve/test_serve.py's database plus what the pages read: a spike-day
with member articles grouped into stories, coverage, stance by source-day, and mentions
stored after the migrations (so the entity_daily triggers count them).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.serve.test_serve import DAYS, Client, day, make_tracker_db
from tracker.base.db import open_db, transaction
from tracker.report.why import distinctive_terms, term_counts
from tracker.serve.pagedata import canonical_link, readable_source, sentence_around
from tracker.serve.server import DATABASE_NAME, build_datasette

SPIKE_DAY = day(DAYS - 7)  # rates spikes here (test_serve.spike)
#: Spike-day articles: id, feed, title, evidence sentence, stance, story cluster.
SPIKE_ARTICLES = [
    (11, 1, "Central bank surprises with a half-point cut", "Policy makers cut by half a point.", 0.8, 7),
    (12, 2, "Half-point cut stuns bond traders", "Traders had priced a quarter point.", 0.6, 7),
    (13, 3, "Why the cut came early", "The committee feared a slowdown.", -0.2, 8),
    (14, 5, "Half-point cut stuns bond traders!", "Traders had priced a quarter point.", 0.6, None),
]


def make_pages_db(path: Path) -> None:
    """make_tracker_db plus a spike-day's stories, coverage, stance and story clusters."""
    make_tracker_db(path)
    db = open_db(path)
    conn = db.conn
    with transaction(conn):
        for aid, feed, title, sentence, stance, _ in SPIKE_ARTICLES:
            dup = 12 if aid == 14 else None
            conn.execute(
                "INSERT INTO articles (id, feed_id, item_key, url, canonical_url, title, summary, day, "
                "published_at, fetched_at, content_hash, duplicate_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (aid, feed, f"item-{aid}",
                 f"https://web.archive.org/web/20260115000000/https://news{feed}.example/{aid}",
                 None, title, sentence, SPIKE_DAY, SPIKE_DAY + "T08:00:00Z",
                 SPIKE_DAY + "T09:00:00Z", f"h{aid}", dup))
            conn.execute(
                "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
                "model_version, evidence, stance) VALUES (?, 'rates', ?, 1, 'test', 'test-1', ?, ?)",
                (aid, 0.9 - aid / 100, json.dumps([{"sentence": sentence, "score": 0.8}]), stance))
            conn.execute(
                "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
                "pipeline_version) VALUES (?, 'fed', 'Central bank', 'ORG', 0, 12, 'test-1')", (aid,))
        conn.execute(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version, evidence) VALUES (13, 'gold', 0.7, 1, 'test', 'test-1', '[]')")
        conn.executemany(
            "INSERT INTO story_clusters (id, first_day, last_day, articles, copies, sources, "
            "representative_id, title, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'v', 't')",
            [(7, SPIKE_DAY, SPIKE_DAY, 2, 1, 3, 11, SPIKE_ARTICLES[0][2]),
             (8, SPIKE_DAY, SPIKE_DAY, 1, 0, 1, 13, SPIKE_ARTICLES[2][2])])
        conn.executemany(
            "INSERT INTO story_articles (article_id, cluster_id, similarity, is_copy) VALUES (?, ?, ?, ?)",
            [(11, 7, 1.0, 0), (12, 7, 0.9, 0), (14, 7, 1.0, 1), (13, 8, 1.0, 0)])
        conn.executemany(
            "INSERT INTO coverage_daily (day, articles, scored_articles, sources, covered) "
            "VALUES (?, 40, 40, ?, 1)", [(day(n), 3 + n % 2) for n in range(DAYS)])
        # Stance by source-day over the last two weeks: rates turns positive.
        conn.executemany(
            "INSERT INTO narrative_source_daily (narrative_id, day, feed_id, articles, "
            "weighted_articles, stance_sum, stance_articles, model_version) "
            "VALUES ('rates', ?, ?, 2, 1.6, ?, 2, 'test-1')",
            [(day(n), feed, (0.8 if n >= DAYS - 7 else -0.4) + feed / 10)
             for n in range(DAYS - 14, DAYS) for feed in (1, 2, 3)])
    conn.close()


@pytest.fixture(scope="module")
def pages_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture database on disk."""
    path = tmp_path_factory.mktemp("pages") / "tracker.db"
    make_pages_db(path)
    return path


@pytest.fixture(scope="module")
def client(pages_db: Path, loop: asyncio.AbstractEventLoop) -> Client:
    """In-process Datasette over the fixture."""
    ds = build_datasette(pages_db)
    loop.run_until_complete(ds.invoke_startup())
    return Client(ds, loop)


def _spec(html: str, element_id: str) -> dict[str, Any]:
    marker = f'<script type="application/json" id="{element_id}-spec">'
    start = html.index(marker) + len(marker)
    spec: dict[str, Any] = json.loads(html[start:html.index("</script>", start)])
    return spec


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- home and charts -----------------------------------------------------------------------


def test_home_chart_points_and_spikes_open_their_narrative_day(client: Client) -> None:
    html = client.get("/").text
    spec = _spec(html, "tracker-index-chart")
    rows = spec["datasets"]["rows"]
    spikes = [r for r in rows if r["spike"]]
    assert [(r["narrative_id"], r["day"]) for r in spikes] == [("rates", SPIKE_DAY)]
    assert spikes[0]["href"] == f"/-/day/rates/{SPIKE_DAY}"
    layers = {layer.get("name"): layer for layer in spec["layer"]}
    assert layers["spikes"]["encoding"]["href"]["field"] == "href"
    # The coverage strip: sources per day under the chart, on the chart's days.
    strip = _spec(html, "tracker-coverage-strip")["datasets"]["rows"]
    assert [r["sources"] for r in strip] == [3 + n % 2 for n in range(DAYS)]
    # The index query page: points open their day; the same coverage strip under it.
    ranged = client.get(f"/{DATABASE_NAME}/narrative_index_range", narrative="rates").text
    points = _spec(ranged, "tracker-index-chart")["datasets"]["rows"]
    assert {r["href"] for r in points if r["spike"]} == {f"/-/day/rates/{SPIKE_DAY}"}
    assert len(_spec(ranged, "tracker-coverage-strip")["datasets"]["rows"]) == DAYS
    # The latest spikes as plain links too (a dot is small on a phone), and the week's movers.
    assert f'href="/-/day/rates/{SPIKE_DAY}"' in html
    assert 'href="/-/why/rates/2026-W04"' in html
    # Pick lists instead of typed ids.
    assert '<option value="rates">Rate cuts</option>' in html
    assert '<option value="fed">Federal Reserve' in html


# --- narrative-day -----------------------------------------------------------------------


def test_day_page_lists_members_with_evidence_grouped_by_story(client: Client) -> None:
    response = client.get(f"/-/day/rates/{SPIKE_DAY}")
    assert response.status_code == 200
    html, text = response.text, _text(response.text)
    # Duplicates left out; the copy still counts as an outlet of its story.
    assert "3 member articles, 2 stories, 3 outlets" in text
    assert "Half-point cut stuns bond traders!" not in html
    assert "the whole story has 2 articles from 3 outlets" in text
    for _, _, title, sentence, _, _ in SPIKE_ARTICLES[:3]:
        assert title in html and sentence in html
    assert '<ol class="tracker-evidence">' in html
    assert "stance <span class=\"stance pos\">+0.80</span>" in html
    # Entities and the other narratives link on; links go to the publisher, not the archive.
    assert 'href="/-/entity/fed"' in html
    assert f'href="/-/day/gold/{SPIKE_DAY}">Gold rush</a>' in html
    assert 'href="https://news1.example/11"' in html and "web.archive.org" not in html
    assert "a spike" in text and "Rate cuts: Thu 15 Jan 2026" in text
    assert "<title>Rate cuts, Thu 15 Jan 2026 · Narrative Tracker</title>" in html


def test_unknown_narrative_or_day_is_a_404(client: Client) -> None:
    assert client.get(f"/-/day/nope/{SPIKE_DAY}").status_code == 404
    assert client.get("/-/day/rates/2026-02-31").status_code == 404
    assert client.get("/-/narrative/nope").status_code == 404
    assert client.get("/-/entity/nope").status_code == 404
    assert client.get("/-/why/rates/2026-W60").status_code == 404


# --- narrative, entity, article ---------------------------------------------------------


def test_narrative_page(client: Client) -> None:
    assert client.get("/-/narrative", id="Rate cuts").headers["location"] == "/-/narrative/Rate%20cuts"
    html = client.get("/-/narrative/rates").text
    spec = _spec(html, "tracker-narrative-chart")
    rows = spec["datasets"]["rows"]
    assert len(rows) == DAYS and all(r["href"] == f"/-/day/rates/{r['day']}" for r in rows)
    stance = _spec(html, "tracker-stance-chart")["datasets"]["rows"]
    # Two weeks of source-days: negative, then positive, each with an interval around it.
    assert stance[0]["stance"] < 0 < stance[-1]["stance"]
    assert all(s["low"] <= s["stance"] <= s["high"] for s in stance)
    text = _text(html)
    assert "Federal Reserve : 28 articles" in text and "Nvidia : 1 article " in text  # last 28 days
    assert 'href="/-/why/rates/2026-W04">why it moved' in html
    assert "Why the cut came early" in html  # latest members


def test_entity_page_normalises_by_coverage_and_quotes_the_sentence(client: Client) -> None:
    html = client.get("/-/entity/fed").text
    rows = _spec(html, "tracker-entity-chart")["datasets"]["rows"]
    by_day = {r["day"]: r for r in rows}
    # Spike day: articles 11, 12, 13 (14 is a duplicate) of 40 that day.
    assert by_day[SPIKE_DAY]["articles"] == 3 and by_day[SPIKE_DAY]["per_1000"] == 75.0
    assert by_day[SPIKE_DAY]["href"] == f"/-/entity/fed?day={SPIKE_DAY}"
    assert '<blockquote class="sentence">' in html
    on_day = client.get("/-/entity/fed", day=SPIKE_DAY).text
    assert "Central bank surprises with a half-point cut" in on_day
    assert 'href="/-/narrative/rates">Rate cuts</a>' in html
    # Searching by name: one match goes straight there, several are listed.
    assert client.get("/-/entity", q="federal reserve").headers["location"] == "/-/entity/fed"
    listed = client.get("/-/entity", q="e").text
    assert "European Central Bank" in listed and "Federal Reserve" in listed


def test_article_page_shows_its_story(client: Client) -> None:
    text = _text(client.get("/-/article/12").text)
    assert "1 event, 2 stories, 3 outlets (plus 1 copy)" in text
    assert "Central bank surprises with a half-point cut" in text  # the other article
    assert "Traders had priced a quarter point." in text  # evidence
    assert client.get("/-/article/999").status_code == 404


def test_entity_daily_follows_mentions(pages_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    src = open_db(pages_db).conn
    dst = open_db(copy).conn
    src.backup(dst)
    src.close()
    counts = dict(dst.execute("SELECT day, articles FROM entity_daily WHERE entity_id = 'fed'").fetchall())
    truth = dict(dst.execute(
        "SELECT a.day, count(DISTINCT a.id) FROM mentions m JOIN articles a ON a.id = m.article_id "
        "WHERE m.entity_id = 'fed' AND a.duplicate_of IS NULL GROUP BY a.day").fetchall())
    assert counts == truth and counts[SPIKE_DAY] == 3
    with transaction(dst):
        dst.execute("UPDATE mentions SET entity_id = 'ecb' WHERE article_id = 11")
        dst.execute("DELETE FROM mentions WHERE article_id = 12")
    after = dict(dst.execute("SELECT entity_id, articles FROM entity_daily WHERE day = ?", (SPIKE_DAY,)))
    assert after == {"fed": 1, "ecb": 1}
    dst.close()


# --- why it moved ------------------------------------------------------------------------


def test_why_page_names_stories_entities_and_words(client: Client) -> None:
    response = client.get("/-/why/rates/2026-W03")
    assert response.status_code == 200
    text = _text(response.text)
    assert "Why Rate cuts moved, week of Mon 12 Jan 2026" in text
    assert "Central bank surprises with a half-point cut" in text
    assert "Federal Reserve" in text
    signif = _text(client.get("/-/why/rates/2026-W04").text)
    assert "The index calls this change significant" in signif


def test_weighted_log_odds_prefers_what_is_new_and_shrinks_the_rare() -> None:
    week = term_counts(["halving bitcoin miners"] * 12 + ["bitcoin price today"] * 10 + ["zebra"])
    before = term_counts(["bitcoin price today"] * 40)
    terms = distinctive_terms(week, before, min_count=1)
    names = [t.term for t in terms]
    assert names[:2] == ["halving", "miners"]
    assert "bitcoin" not in names and "price" not in names  # as common before as now
    # One article's word ranks below a word in twelve of them.
    assert names.index("zebra") > names.index("miners")
    assert Counter(term_counts(["The rate, the rates"])) == Counter({"rate": 1, "rates": 1})


def test_helpers_unwrap_archive_links_and_find_the_sentence() -> None:
    assert readable_source("wsj_markets") == "WSJ Markets"
    assert readable_source("ft_home") == "FT"
    assert readable_source("cryptopanic_cointelegraph") == "Cointelegraph (CryptoPanic)"
    assert readable_source("reuters_wl", "Reuters: World") == "Reuters: World"
    wrapped = "https://web.archive.org/web/2025id_/https://www.example.com/a?b=1"
    assert canonical_link(wrapped) == "https://www.example.com/a?b=1"
    assert canonical_link("https://archive.ph/2025.01.01/https://x.example/y") == "https://x.example/y"
    assert canonical_link("https://x.example/y", None) == "https://x.example/y"
    text = "Title here\n\nFirst one. The Fed cut rates today. Last one."
    start = text.index("Fed")
    assert sentence_around(text, start, start + 3) == "The Fed cut rates today."
    dateline = "WASHINGTON (Wire) - The U.S. Fed held rates. Markets fell."
    start = dateline.index("Fed")
    assert sentence_around(dateline, start, start + 3) == "WASHINGTON (Wire) - The U.S. Fed held rates."


# --- exports and paging ------------------------------------------------------------------


def test_canned_csv_and_json_array_are_complete_past_the_row_limit(tmp_path: Path,
                                                                    loop: asyncio.AbstractEventLoop) -> None:
    path = tmp_path / "long.db"
    make_tracker_db(path)
    conn = open_db(path).conn
    with transaction(conn):  # 1,100 more days x 3 narratives: 3,300 rows past 3,000
        conn.executemany(
            "INSERT INTO narrative_index (day, narrative_id, articles, weighted_articles, "
            "total_articles, sources, computed_at) "
            "VALUES (date('2020-01-01', '+' || ? || ' days'), ?, 1, 1, 10, 2, 't')",
            [(n, nar) for n in range(1100) for nar in ("rates", "ai_capex", "gold")])
    total = conn.execute("SELECT count(*) FROM narrative_index").fetchone()[0]
    conn.close()
    client = Client(build_datasette(path), loop)
    response = client.get(f"/{DATABASE_NAME}/narrative_index_range.csv", narrative="",
                          start="2019-01-01", end="2030-01-01")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["day", "narrative_id", "label"] and len(rows) - 1 == total > 3000
    assert len({(r[0], r[1]) for r in rows[1:]}) == total  # no row twice
    array = client.get(f"/{DATABASE_NAME}/narrative_index_range.json", narrative="",
                       start="2019-01-01", end="2030-01-01", _shape="array").json()
    assert len(array) == total
    # A malformed parameter is a 400 with the reason, not an empty file.
    bad = client.get(f"/{DATABASE_NAME}/narrative_index_range.csv", narrative="", start="soon", end="")
    assert bad.status_code == 400 and "is not a day" in bad.text
    # Paging the index table never repeats or skips a row.
    seen: list[tuple[str, str]] = []
    url: str | None = f"/{DATABASE_NAME}/narrative_index.json?_size=7&_shape=objects"
    while url:
        page = client.loop.run_until_complete(
            client.ds.client.get(url.replace("http://localhost", ""))).json()
        seen += [(r["day"], r["narrative_id"]) for r in page["rows"]]
        url = page["next_url"]
    assert len(seen) == len(set(seen)) == total
    assert seen == sorted(seen, key=lambda k: (tuple(-ord(c) for c in k[0]), k[1]))


def test_articles_search_box_counts_with_the_full_text_index(client: Client) -> None:
    html = client.get(f"/{DATABASE_NAME}/articles", _search="cut").text
    truth = client.get(f"/{DATABASE_NAME}/articles.json", _search="cut", _size="max",
                       _shape="array", _nocount="1").json()
    assert f"<strong>{len(truth)}</strong> articles match" in html
    ids = [r["id"] for r in truth]
    assert ids == sorted(ids, reverse=True)  # newest stored first
    # With another filter the table counts as usual.
    filtered = client.get(f"/{DATABASE_NAME}/articles.json", _search="cut", feed_id="1").json()
    assert filtered["filtered_table_rows_count"] == len([r for r in truth if r["feed_id"] == 1])
