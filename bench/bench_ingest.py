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


def main() -> None:
    """Run both benchmarks and print a Markdown section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=None, help="replay only the first N snapshot files")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    replay = bench_replay(args.files)
    noop = bench_noop_run()
    ratio = replay["replay_s"] / replay["bare_s"]
    if args.json:
        print(json.dumps({"replay": {**replay, "ratio": round(ratio, 3),
                                     "items_per_s": round(replay["items_seen"] / replay["replay_s"], 1),
                                     "bare_items_per_s": round(replay["bare_items"] / replay["bare_s"], 1)},
                          "noop": noop, "noop_target_s": 2.0}, indent=2))
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


if __name__ == "__main__":
    main()
