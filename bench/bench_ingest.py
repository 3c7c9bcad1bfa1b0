"""Ingest benchmarks: replay throughput vs bare feedparser, and a no-op nightly run on 100 feeds.

Ratios compare against a baseline measured in the same run (the machines are noisy).
Prints a Markdown section; ``bench/run_all.py`` collects it into ``bench/RESULTS.md``.

    .venv/bin/python bench/bench_ingest.py [--files N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.ingest.feeds import FeedConfig
from tracker.ingest.replay import replay_dir, snapshot_files
from tracker.ingest.runner import ingest_feeds

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DAILY = SHARED / "orx365-rss-arch" / "daily"


def bench_replay(limit: int | None) -> dict[str, float]:
    """Replay orx365 daily snapshots into a fresh database; compare with feedparser alone."""
    files = list(snapshot_files(DAILY))
    if limit:
        files = files[:limit]
    bodies = [path.read_bytes() for _, path in files]
    start = time.perf_counter()
    bare_items = sum(len(feedparser.parse(body).entries) for body in bodies)
    bare = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        start = time.perf_counter()
        summary = replay_dir(db, Settings(db_path=Path(tmp) / "bench.db"), DAILY, files=files)
        full = time.perf_counter() - start
        start = time.perf_counter()
        rerun = replay_dir(db, Settings(db_path=Path(tmp) / "bench.db"), DAILY, files=files)
        again = time.perf_counter() - start
        stored = db["articles"].count
    items_seen = sum(o.items_seen for o in summary.outcomes)
    return {
        "files": len(files), "items_seen": items_seen, "bare_items": bare_items, "stored": stored,
        "bare_s": bare, "replay_s": full, "rerun_s": again, "rerun_new": rerun.articles_new,
    }


def _feed_xml(i: int, now: datetime) -> str:
    items = "".join(
        f"<item><title>{escape(f'Feed {i} story {j} about markets and rates')}</title>"
        f"<link>http://feed{i}.example/{j}</link><guid>f{i}-{j}</guid>"
        f"<pubDate>{(now - timedelta(hours=j)).strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate>"
        f"<description>Body of story {j} in feed {i}.</description></item>"
        for j in range(30)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {i}</title>{items}</channel></rss>'


def bench_noop_run(n_feeds: int = 100) -> dict[str, float]:
    """Second nightly ingest of 100 unchanged local feeds: every fetch is a 304."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        feeds = []
        for i in range(n_feeds):
            path = root / f"feed{i}.xml"
            path.write_text(_feed_xml(i, now))
            feeds.append(FeedConfig(name=f"feed{i}", url=path.as_uri()))
        settings = Settings(db_path=root / "bench.db")
        db = open_db(settings.db_path)
        start = time.perf_counter()
        first = ingest_feeds(db, settings, feeds)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        second = ingest_feeds(db, settings, feeds)
        noop = time.perf_counter() - start
    statuses = {o.status for o in second.outcomes}
    return {"feeds": n_feeds, "first_s": cold, "first_new": first.articles_new, "noop_s": noop,
            "noop_new": second.articles_new, "noop_statuses": ",".join(sorted(statuses))}


def _article_row(i: int) -> dict[str, object]:
    return {"feed_id": 1, "fetch_id": None, "guid": f"g{i}", "item_key": f"g{i}", "url": f"http://x.example/{i}",
            "canonical_url": f"http://x.example/{i}", "title": f"Story {i} about markets, rates and the dollar",
            "summary": "A lead paragraph of about twenty words on what the central bank said today. " * 2,
            "content_text": "", "author": None, "published_at": "2026-11-02T10:00:00Z", "published_raw": "x",
            "date_flag": None, "day": "2026-11-02", "fetched_at": "2026-11-02T10:00:00Z", "content_hash": f"h{i}",
            "title_key": f"story {i} about markets rates and the dollar", "language": "en", "duplicate_of": None,
            "duplicate_reason": None}


def _fetch_row(i: int) -> dict[str, object]:
    return {"run_id": None, "feed_id": 1, "source": "replay", "snapshot_path": f"/a/{i}.xml",
            "started_at": "2026-11-02T10:00:00Z", "finished_at": "2026-11-02T10:00:01Z", "body_hash": f"b{i}",
            "bytes": 1000, "status": "ok", "items_seen": 30, "bozo": 0}


def bench_store_rows(n: int = 2000) -> dict[str, float]:
    """Why per-fetch and per-article rows are plain SQL: sqlite-utils ``insert`` against the statement it
    builds, one row per call (dedupe needs each article stored before the next is checked)."""
    from tracker.base.db import transaction
    from tracker.ingest.store import upsert_feed

    figures: dict[str, float] = {}
    for table, make in (("fetches", _fetch_row), ("articles", _article_row)):
        db = open_db(":memory:")
        with transaction(db.conn):
            upsert_feed(db.conn, FeedConfig(name="bench", url="http://bench.example/rss"))
        columns = list(make(0))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        raw = utils = float("inf")
        for rep in range(3):
            base = rep * 2 * n
            with transaction(db.conn):
                start = time.perf_counter()
                for i in range(base, base + n):
                    db.conn.execute(sql, tuple(make(i).values()))
                raw = min(raw, time.perf_counter() - start)
            with transaction(db.conn):
                start = time.perf_counter()
                target = db.table(table)
                for i in range(base + n, base + 2 * n):
                    target.insert(make(i))
                utils = min(utils, time.perf_counter() - start)
        db.conn.close()
        figures[f"{table}_raw_ms"] = round(raw / n * 1e3, 4)
        figures[f"{table}_sqlite_utils_ms"] = round(utils / n * 1e3, 4)
        figures[f"{table}_ratio"] = round(utils / raw, 2)
    return figures


def main() -> None:
    """Run both benchmarks and print a Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=None, help="replay only the first N snapshot files")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    replay = bench_replay(args.files)
    noop = bench_noop_run()
    rows = bench_store_rows()
    ratio = replay["replay_s"] / replay["bare_s"]
    if args.json:
        print(json.dumps({"replay": {**replay, "ratio": round(ratio, 3),
                                     "items_per_s": round(replay["items_seen"] / replay["replay_s"], 1),
                                     "bare_items_per_s": round(replay["bare_items"] / replay["bare_s"], 1)},
                          "noop": noop, "noop_target_s": 2.0, "store_rows": rows}, indent=2))
        return
    print("## Ingest")
    print()
    print(f"Replay of `orx365-rss-arch/daily` ({replay['files']} files, {replay['items_seen']:,} items seen, "
          f"{replay['stored']:,} articles stored):")
    print()
    print("| measure | bare feedparser | tracker replay | ratio |")
    print("|---|---|---|---|")
    print(f"| seconds | {replay['bare_s']:.2f} | {replay['replay_s']:.2f} | {ratio:.2f}x |")
    print(f"| items/s | {replay['bare_items'] / replay['bare_s']:,.0f} | "
          f"{replay['items_seen'] / replay['replay_s']:,.0f} | |")
    print()
    print(f"Re-run of the same replay: {replay['rerun_s']:.2f} s, {int(replay['rerun_new'])} new rows "
          "(already-replayed files are skipped by path and hash).")
    print()
    print(f"No-op nightly ingest of {noop['feeds']} unchanged feeds (local files, conditional GET -> "
          f"{noop['noop_statuses']}): **{noop['noop_s']:.2f} s** (target < 2 s plus network); "
          f"first ingest {noop['first_s']:.2f} s for {int(noop['first_new']):,} articles.")
    print()
    print(f"One row per call, sqlite-utils `insert` vs the plain INSERT: fetch rows {rows['fetches_ratio']}x "
          f"({rows['fetches_sqlite_utils_ms']} vs {rows['fetches_raw_ms']} ms), article rows {rows['articles_ratio']}x "
          f"({rows['articles_sqlite_utils_ms']} vs {rows['articles_raw_ms']} ms).")


if __name__ == "__main__":
    main()
