"""Benchmark the Datasette canned queries on real feeds, replicated up to ~1M articles.

Builds a database from the real archive (``../shared/data/orx365-rss-arch/daily``,
about 10,000 articles from five feeds over ten months) with the tracker's own replay
ingest, tags entities and narratives with a small keyword tagger (no models: this
measures the queries, not the tagging), then copies everything ``--scale`` times
(ten copies of the feeds side by side, and earlier "eras" of the same ten months) so
``--scale 100`` gives about a million articles, builds the index with
``tracker.index.store.build_index`` and times every canned query in ``tracker/serve/datasette/metadata.yml``:

* raw: the query's SQL on a read-only sqlite3 connection;
* served: ``GET /tracker/<query>.json`` through Datasette in-process (what a user waits for,
  less the network);
* baseline: the bare request ``GET /tracker.json?sql=select 1`` (Datasette's fixed cost of a
  query) measured in the same run; the served p95 of each query is reported as a ratio to it.

The target (issue 8) is a served p95 under 100 ms at 1M articles. Run:

    .venv/bin/python bench/bench_serve.py [--scale 100] [--reps 30] [--db PATH] [--base PATH]

``--synthetic 1000000 --db /tmp/x.db`` builds (once, then reuses) a synthetic database with
bench/synth_db.py instead of replicating the archive, and times the reader's pages too.
``--base`` keeps the ingested real database between runs (the replay takes about a minute);
``--db PATH --measure-only`` times the queries again on a database an earlier run built.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.index.store import build_index
from tracker.pipeline import run_ingest
from tracker.serve.pagedata import readable_source
from tracker.serve.server import build_datasette, load_metadata

try:
    import synth_db  # run as a script from bench/
except ImportError:  # imported as bench.bench_serve
    from bench import synth_db


def _shared_data() -> Path:
    """``shared/data`` beside the checkout (or beside a folder above a git worktree)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return Path(__file__).resolve().parents[2] / "shared" / "data"


ARCHIVE = _shared_data() / "orx365-rss-arch" / "daily"
ERA_DAYS = 310
COPIES = 10

ENTITIES = [
    ("fed", "Federal Reserve", "central_bank", r"\bFed\b|Federal Reserve"),
    ("ecb", "European Central Bank", "central_bank", r"\bECB\b|European Central Bank"),
    ("boe", "Bank of England", "central_bank", r"Bank of England|\bBoE\b"),
    ("powell", "Jerome Powell", "PERSON", r"\bPowell\b"),
    ("trump", "Donald Trump", "PERSON", r"\bTrump\b"),
    ("china", "China", "GPE", r"\bChina\b|\bChinese\b|Beijing"),
    ("us", "United States", "GPE", r"\bUS\b|\bU\.S\.|America"),
    ("uk", "United Kingdom", "GPE", r"\bUK\b|Britain|British"),
    ("eu", "European Union", "ORG", r"\bEU\b|European Union|Brussels"),
    ("nvidia", "Nvidia", "ORG", r"\bNvidia\b"),
    ("openai", "OpenAI", "ORG", r"\bOpenAI\b"),
    ("apple", "Apple", "ORG", r"\bApple\b"),
    ("microsoft", "Microsoft", "ORG", r"\bMicrosoft\b"),
    ("tesla", "Tesla", "ORG", r"\bTesla\b|\bMusk\b"),
    ("bitcoin", "Bitcoin", "asset", r"\bbitcoin\b"),
    ("opec", "Opec", "ORG", r"\bOpec\b|\bOPEC\b"),
    ("imf", "IMF", "ORG", r"\bIMF\b"),
    ("wall_street", "Wall Street", "ORG", r"Wall Street"),
    ("treasury", "US Treasury", "ORG", r"\bTreasur(?:y|ies)\b"),
    ("japan", "Japan", "GPE", r"\bJapan\b|\bBoJ\b"),
]
NARRATIVES = {
    "ai_productivity": ("AI investment and productivity",
                        r"\bAI\b|artificial intelligence|Nvidia|OpenAI|data cent"),
    "crypto_legitimacy": ("Crypto goes mainstream", r"bitcoin|crypto|stablecoin|blockchain"),
    "fed_easing_liquidity": ("Fed easing and liquidity",
                             r"\bFed\b|Federal Reserve|rate cut|interest rate|Powell"),
    "ai_to_crypto_rotation": ("AI-to-crypto rotation", None),
}


def ingest_real(base: Path) -> None:
    """Replay the real archive into ``base`` with the tracker's own ingest."""
    settings = Settings(db_path=base)
    run_ingest(settings, from_dir=ARCHIVE)


def tag(conn: sqlite3.Connection) -> None:
    """Keyword entities and narrative scores (with evidence) for every article."""
    patterns = [(eid, re.compile(rx, re.I if eid == "bitcoin" else 0)) for eid, _, _, rx in ENTITIES]
    nar = {k: re.compile(rx, re.I) for k, (_, rx) in NARRATIVES.items() if rx}
    rows = conn.execute("SELECT id, title, coalesce(summary, '') FROM articles").fetchall()
    mentions, scores = [], []
    for aid, title, summary in rows:
        text = f"{title or ''}. {summary}"
        for eid, rx in patterns:
            for m in rx.finditer(text):
                mentions.append((aid, eid, m.group(0), m.start(), m.end()))
        hits = {k: len(rx.findall(text)) for k, rx in nar.items()}
        hits["ai_to_crypto_rotation"] = min(hits["ai_productivity"], hits["crypto_legitimacy"])
        for k, n in hits.items():
            if n:
                score = min(1.0, 0.4 + 0.2 * n)
                evidence = json.dumps([{"sentence": title or summary[:200], "score": score}])
                scores.append((aid, k, score, int(score >= 0.6), evidence))
    with transaction(conn):
        conn.executemany("INSERT INTO narratives (id, label) VALUES (?, ?)",
                         [(k, v[0]) for k, v in NARRATIVES.items()])
        conn.executemany("INSERT INTO entities (id, name, type) VALUES (?, ?, ?)",
                         [(e[0], e[1], e[2]) for e in ENTITIES])
        conn.executemany(
            "INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
            "pipeline_version) VALUES (?, ?, ?, 'ORG', ?, ?, 'bench-keywords')", mentions)
        conn.executemany(
            "INSERT INTO article_narratives (article_id, narrative_id, score, is_member, method, "
            "model_version, evidence) VALUES (?, ?, ?, ?, 'keywords', 'bench-keywords', ?)", scores)


def replicate(conn: sqlite3.Connection, scale: int) -> None:
    """Copies 1..scale-1 of every article, mention, score, feed and fetch (see module doc)."""
    stride = conn.execute("SELECT max(id) + 1 FROM articles").fetchone()[0]
    fstride = conn.execute("SELECT max(id) + 1 FROM fetches").fetchone()[0]
    nfeeds = conn.execute("SELECT max(id) FROM feeds").fetchone()[0]
    copies = "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?)"
    feed = f"(x.feed_id + (k.n % {COPIES}) * {nfeeds})"
    shift = f"'-' || ((k.n / {COPIES}) * {ERA_DAYS}) || ' days'"
    stamp = "strftime('%Y-%m-%dT%H:%M:%SZ', {col}, " + shift + ")"
    with transaction(conn):
        conn.execute(
            f"{copies} INSERT OR IGNORE INTO feeds (id, name, url, enabled, created_at) "
            f"SELECT x.id + (k.n % {COPIES}) * {nfeeds}, x.name || '_' || (k.n % {COPIES}), "
            "x.url, 1, x.created_at FROM feeds x, k", (scale - 1,))
        conn.execute(
            f"{copies} INSERT INTO fetches (id, feed_id, source, url, started_at, finished_at, "
            "status, http_status, bytes, items_seen, items_new, items_duplicate, error_kind, error) "
            f"SELECT x.id + k.n * {fstride}, {feed}, x.source, x.url, "
            f"{stamp.format(col='x.started_at')}, {stamp.format(col='x.finished_at')}, x.status, "
            "x.http_status, x.bytes, x.items_seen, x.items_new, x.items_duplicate, x.error_kind, "
            "x.error FROM fetches x, k WHERE x.id < ?", (scale - 1, fstride))
        conn.execute(
            f"{copies} INSERT INTO articles (id, feed_id, guid, item_key, url, canonical_url, title, "
            "summary, content_text, author, published_at, published_raw, date_flag, day, "
            "fetched_at, content_hash, title_key, language, duplicate_of, duplicate_reason) "
            f"SELECT x.id + k.n * {stride}, {feed}, x.guid, x.item_key || '#' || k.n, x.url, "
            "x.canonical_url, x.title, x.summary, x.content_text, x.author, "
            f"{stamp.format(col='x.published_at')}, x.published_raw, x.date_flag, "
            f"date(x.day, {shift}), {stamp.format(col='x.fetched_at')}, x.content_hash || k.n, "
            f"x.title_key, x.language, x.duplicate_of + k.n * {stride}, x.duplicate_reason "
            "FROM articles x, k WHERE x.id < ?", (scale - 1, stride))
        conn.execute(
            f"{copies} INSERT INTO mentions (article_id, entity_id, text, label, start, \"end\", "
            f"pipeline_version) SELECT x.article_id + k.n * {stride}, x.entity_id, x.text, x.label, "
            "x.start, x.\"end\", x.pipeline_version FROM mentions x, k WHERE x.article_id < ?",
            (scale - 1, stride))
        conn.execute(
            f"{copies} INSERT INTO article_narratives (article_id, narrative_id, score, is_member, "
            f"method, model_version, evidence) SELECT x.article_id + k.n * {stride}, "
            "x.narrative_id, x.score, x.is_member, x.method, x.model_version, x.evidence "
            "FROM article_narratives x, k WHERE x.article_id < ?", (scale - 1, stride))


def build(db_path: Path, base: Path, scale: int) -> dict[str, float]:
    """The benchmark database: real ingest (cached in ``base``), tagging, copies, index."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    if not base.exists():
        ingest_real(base)
    seconds["ingest"] = time.perf_counter() - t
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    src = sqlite3.connect(base)
    dst = sqlite3.connect(db_path)
    src.backup(dst)
    src.close()
    dst.close()
    db = open_db(db_path)
    conn = db.conn
    conn.execute("PRAGMA foreign_keys = OFF")  # copies reuse ids of fetches that were not copied
    t = time.perf_counter()
    tag(conn)
    seconds["tag"] = time.perf_counter() - t
    t = time.perf_counter()
    if scale > 1:
        replicate(conn, scale)
    seconds["replicate"] = time.perf_counter() - t
    t = time.perf_counter()
    build_index(db, Settings(db_path=db_path))
    seconds["index"] = time.perf_counter() - t
    conn.close()
    return seconds


def _year_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=364)).isoformat()


def pick_params(conn: sqlite3.Connection) -> dict[str, dict[str, str]]:
    """Worst realistic parameters: the busiest narrative and entity, the latest day."""
    narrative = conn.execute(
        "SELECT narrative_id FROM article_narratives WHERE is_member = 1 "
        "GROUP BY narrative_id ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    entity = conn.execute(
        "SELECT entity_id FROM mentions GROUP BY entity_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    last = conn.execute("SELECT max(day) FROM narrative_index").fetchone()[0]
    busiest_day = conn.execute(
        "SELECT day FROM narrative_index WHERE narrative_id = ? ORDER BY articles DESC LIMIT 1",
        (narrative,)).fetchone()[0]
    topic = conn.execute("SELECT max(id) FROM discovered_topics").fetchone()[0]
    story = conn.execute("SELECT id FROM story_clusters ORDER BY articles DESC LIMIT 1").fetchone()
    story = story[0] if story else None
    return {
        "narrative_index_range": {"narrative": "", "start": "", "end": ""},
        "narratives_on_day": {"day": ""},
        "top_movers": {"week_ending": ""},
        "narrative_entities": {"narrative": narrative, "start": "", "end": last},
        "narrative_articles": {"narrative": narrative, "day": busiest_day},
        # A one-year timeline of the most-named entity (issue 16's worst case).
        "entity_timeline": {"entity": entity, "start": _year_before(last), "end": last},
        "failed_feeds": {"days": "", "as_of": ""},
        "silent_feeds": {"days": "", "as_of": ""},
        "search_articles": {"q": "inflation"},
        "weekly_movers": {"day": ""},
        "coverage_per_day": {"feed": "", "start": "", "end": ""},
        "discovered_topics_latest": {"scope": ""},
        "topic_articles_list": {"topic": str(topic or 0)},
        "story_clusters_top": {"start": "", "end": ""},
        "story_cluster_articles": {"story": str(story or 0)},
    }


def page_list(conn: sqlite3.Connection,
              params: dict[str, dict[str, str]]) -> list[tuple[str, str, dict[str, str]]]:
    """Every kind of page, with the busiest narrative, day, week and entity."""
    narrative = params["narrative_articles"]["narrative"]
    day = params["narrative_articles"]["day"]
    entity = params["entity_timeline"]["entity"]
    year = date.fromisoformat(day).isocalendar()
    week = f"{year[0]}-W{year[1]:02d}"
    article = conn.execute("SELECT max(id) FROM articles WHERE duplicate_of IS NULL").fetchone()[0]
    second_page = conn.execute(
        "SELECT day, narrative_id FROM narrative_index ORDER BY day DESC, narrative_id "
        "LIMIT 1 OFFSET 99").fetchone()
    return [
        ("home", "/", {}),
        ("narrative page", f"/-/narrative/{narrative}", {}),
        ("narrative-day page", f"/-/day/{narrative}/{day}", {}),
        ("entity page (1-year timeline)", f"/-/entity/{entity}", {}),
        ("entity-day page", f"/-/entity/{entity}", {"day": day}),
        ("article page", f"/-/article/{article}", {}),
        ("why it moved", f"/-/why/{narrative}/{week}", {}),
        ("database page", "/tracker", {}),
        ("articles table", "/tracker/articles", {}),
        ("articles search box", "/tracker/articles", {"_search": COMMON_WORD}),
        ("articles search .json", "/tracker/articles.json", {"_search": COMMON_WORD}),
        ("narrative_index table", "/tracker/narrative_index", {}),
        ("narrative_index page 2", "/tracker/narrative_index",
         {"_next": f"{second_page[0]},{second_page[0]},{second_page[1]}"}),
        ("entity_timeline 1 year (html)", "/tracker/entity_timeline",
         params["entity_timeline"]),
        ("narrative_articles (html)", "/tracker/narrative_articles", params["narrative_articles"]),
    ]


#: A word in about one article in six (synthetic and real feeds alike).
COMMON_WORD = "inflation"


def timed(fn: Callable[[], Any], reps: int) -> list[float]:
    """Milliseconds per call, after two warm-up calls."""
    for _ in range(2):
        fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _fetch_all(conn: sqlite3.Connection, sql: str, args: dict[str, str]) -> list[Any]:
    return conn.execute(sql, args).fetchall()


def measure(db_path: Path, reps: int) -> dict[str, Any]:
    """Raw and served timings of every canned query, with the bare-request baseline."""
    queries = load_metadata()["databases"]["tracker"]["queries"]
    raw = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    raw.create_function("source_name", 2, readable_source, deterministic=True)  # as served
    params = pick_params(raw)
    ds = build_datasette(db_path)
    loop = asyncio.new_event_loop()

    def get(path: str, query: dict[str, str], strict: bool = True) -> Callable[[], Any]:
        def call() -> Any:
            r = loop.run_until_complete(ds.client.get(path, params={**query, "_shape": "array"}))
            if strict:
                assert r.status_code == 200, (path, r.status_code, r.text[:300])
            else:
                statuses.append(r.status_code)
            return r.json()
        return call

    statuses: list[int] = []

    def get_html(path: str, query: dict[str, str]) -> Callable[[], Any]:
        def call() -> Any:
            r = loop.run_until_complete(ds.client.get(path, params=query))
            statuses.append(r.status_code)
            return r.text
        return call

    loop.run_until_complete(ds.invoke_startup())

    base = timed(get("/tracker.json", {"sql": "select 1"}), reps)
    results: dict[str, Any] = {"baseline_ms": {"p50": statistics.median(base), "p95": p95(base)},
                               "queries": {}}
    for name, q in queries.items():
        args = params.get(name)
        if args is None:
            print(f"bench_serve: no parameters for the canned query {name}; add them to pick_params")
            continue
        # :_check_params is bound by the plugin in Datasette (it validates the request).
        raw_args = {**args, "_check_params": None}
        rows = raw.execute(q["sql"], raw_args).fetchall()
        raw_ms = timed(functools.partial(_fetch_all, raw, q["sql"], raw_args), reps)
        served_ms = timed(get(f"/tracker/{name}.json", args), reps)
        results["queries"][name] = {
            "params": args,
            "rows": len(rows),
            "raw_p50": statistics.median(raw_ms),
            "raw_p95": p95(raw_ms),
            "served_p50": statistics.median(served_ms),
            "served_p95": p95(served_ms),
            "ratio_p95": p95(served_ms) / results["baseline_ms"]["p95"],
        }
    # Pages (HTML, what a reader waits for): the reader's pages of tracker/serve/pages.py and
    # the Datasette table pages, with the articles table's own search box for a common word.
    results["pages"] = {}
    for label, path, query in page_list(raw, params):
        statuses.clear()
        served_ms = timed(get_html(path, query), reps)
        results["pages"][label] = {"path": path, "query": query,
                                   "served_p50": statistics.median(served_ms),
                                   "served_p95": p95(served_ms),
                                   "ratio_p95": p95(served_ms) / results["baseline_ms"]["p95"],
                                   "errors": sum(s != 200 for s in statuses)}
    loop.close()
    return results


def main() -> None:
    """Build the database, time the queries and print a table (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=10, help="copies of the real data (100 = ~1M)")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--db", type=Path, help="benchmark database (default: a temp file)")
    parser.add_argument("--base", type=Path, help="cache of the ingested real archive")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--measure-only", action="store_true",
                        help="time the queries on an existing --db (built by an earlier run)")
    parser.add_argument("--synthetic", type=int, metavar="ARTICLES",
                        help="build --db with bench/synth_db.py (this many articles) unless it "
                             "exists, instead of replicating the real archive")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_serve_"))
    db_path = args.db or tmp / "bench.db"
    base = args.base or tmp / "real.db"
    try:
        if args.synthetic and not db_path.exists():
            seconds = synth_db.generate(db_path, args.synthetic, 730, 50, 2000, 7)
            open_db(db_path).conn.close()
        elif (args.measure_only or args.synthetic) and args.db:
            open_db(db_path).conn.close()  # pending migrations (indexes) first
            seconds = {}
        else:
            seconds = build(db_path, base, args.scale)
        conn = sqlite3.connect(db_path)
        sizes = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in
                 ("articles", "mentions", "article_narratives", "fetches", "narrative_index",
                  "narrative_entity_daily")}
        conn.close()
        results = measure(db_path, args.reps)
        results.update(scale=args.scale, sizes=sizes, build_seconds=seconds)
        if args.json:
            print(json.dumps(results, indent=2))
            return
        print(f"scale {args.scale}: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
        print("build seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
        b = results["baseline_ms"]
        print(f"baseline GET /tracker.json?sql=select 1: p50 {b['p50']:.1f} ms, p95 {b['p95']:.1f} ms")
        print(f"{'query':24} {'rows':>5} {'raw p50':>8} {'raw p95':>8} {'srv p50':>8} "
              f"{'srv p95':>8} {'x base':>7}")
        for name, r in results["queries"].items():
            print(f"{name:24} {r['rows']:5} {r['raw_p50']:8.1f} {r['raw_p95']:8.1f} "
                  f"{r['served_p50']:8.1f} {r['served_p95']:8.1f} {r['ratio_p95']:7.1f}")
        for label, r in results["pages"].items():
            print(f"{label[:24]:24} {'':5} {'':8} {'':8} {r['served_p50']:8.1f} {r['served_p95']:8.1f} "
                  f"{r['ratio_p95']:7.1f}" + (f"  {r['errors']} errors" if r["errors"] else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
