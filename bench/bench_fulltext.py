"""Full text: pages per second at the politeness limits, and what full text costs enrichment.

Fetching (local servers, one per "host", serving the 130 real pages of
``../shared/data/html-pages``; robots.txt allows all):

* bare: one ``httpx.get`` after another plus ``trafilatura.extract`` (default mode), no
  politeness, no database: the least a fetch-and-extract must pay;
* tracker, no delay: ``fetch_fulltext`` with ``fulltext_min_delay = 0`` (robots.txt, per-host
  turns, size/time limits, the precision+recall extraction, wall detection, one transaction
  per page): its ratio to bare is the machinery's overhead;
* tracker at the politeness limits: the default minimum delay (3 s) over ``--hosts`` hosts.
  One host can never go faster than one page per delay, so the ceiling is
  hosts / delay pages a second; the figure is how close the run gets to it.

Enrichment (entities + narratives, real models) on ``--articles`` Reuters items of
``reuters-wl/reuters_scraped.items.jsonl`` that carry their lead paragraphs: headline +
summary (the first paragraph, what a feed gives) against headline + the first N sentences of
the text (N = ``fulltext_sentences``, 12 by default; also N = 24). Best of ``--repeats``.

    .venv/bin/python bench/bench_fulltext.py [--pages 60] [--hosts 4] [--delay 3] [--articles 300] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

SHARED = Path(os.environ.get("TRACKER_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")


@contextmanager
def page_server(pages: dict[str, bytes]) -> Iterator[int]:
    """Serve ``/p/<i>`` and an allow-all robots.txt on a loopback port; yields the port."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"User-agent: *\nAllow: /\n" if self.path == "/robots.txt" else pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain" if self.path == "/robots.txt" else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def load_pages(n: int) -> list[bytes]:
    """The first n real pages (repeated if n > 130)."""
    folder = SHARED / "html-pages"
    rows = [json.loads(line) for line in (folder / "expectations.jsonl").open(encoding="utf-8")]
    bodies = [(folder / "pages" / r["file"]).read_bytes() for r in rows]
    return [bodies[i % len(bodies)] for i in range(n)]


def db_with_links(path: Path, urls: list[str]) -> Any:
    """A database with one fulltext feed whose articles link to ``urls``."""
    from tracker.base.db import open_db, transaction

    db = open_db(path)
    with transaction(db.conn):
        db.conn.execute("INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'bench', 'file:///b', 'now')")
        db.conn.executemany(
            "INSERT INTO articles (feed_id, item_key, url, canonical_url, title, day, fetched_at, content_hash) "
            "VALUES (1, ?, ?, ?, ?, '2026-01-01', '2026-01-01T00:00:00Z', ?)",
            [(f"k{i}", u, u, f"Page {i}", f"h{i}") for i, u in enumerate(urls)])
    return db


def bench_fetch(n_pages: int, hosts: int, delay: float) -> dict[str, Any]:
    """Bare fetch+extract, the tracker without delay, and the tracker at the politeness limits."""
    import httpx
    import trafilatura

    from tracker.base.settings import Settings
    from tracker.ingest.extract import _config
    from tracker.ingest.fulltext import fetch_fulltext

    bodies = load_pages(n_pages)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        ports = [stack.enter_context(page_server({f"/p/{i}": b for i, b in enumerate(bodies) if i % hosts == h}))
                 for h in range(hosts)]
        urls = [f"http://127.0.0.1:{ports[i % hosts]}/p/{i}" for i in range(n_pages)]
        start = time.perf_counter()
        with httpx.Client() as client:
            for url in urls:
                trafilatura.extract(client.get(url).content, url=url, config=_config())
        bare = time.perf_counter() - start
        runs: dict[str, Any] = {}
        for label, min_delay in (("no_delay", 0.0), ("polite", delay)):
            settings = Settings(db_path=Path(tmp) / f"{label}.db", fulltext_min_delay=min_delay,
                                fulltext_parallel_hosts=hosts)
            db = db_with_links(settings.db_path, urls)
            start = time.perf_counter()
            summary = fetch_fulltext(db, settings, ["bench"], backfill=True)
            seconds = time.perf_counter() - start
            db.conn.close()
            runs[label] = {"seconds": round(seconds, 2), "pages_per_s": round(n_pages / seconds, 2),
                           "stored": summary.stored}
    # One request per host per delay (the delay runs from the end of one request to the next):
    # hosts / delay pages a second is the most the politeness rules allow.
    ceiling = hosts / delay if delay > 0 else float("inf")
    return {
        "pages": n_pages, "hosts": hosts, "delay_s": delay,
        "bare_s": round(bare, 2), "bare_pages_per_s": round(n_pages / bare, 2),
        "no_delay": runs["no_delay"], "ratio_no_delay_vs_bare": round(runs["no_delay"]["seconds"] / bare, 2),
        "polite": runs["polite"], "ceiling_pages_per_s": round(ceiling, 3),
        "share_of_ceiling": round(runs["polite"]["pages_per_s"] / ceiling, 3),
    }


def load_scraped(n: int, seed: int) -> list[tuple[str, str, str]]:
    """(title, first paragraph, whole text) of Reuters items whose text is long."""
    from datetime import UTC, datetime

    from tracker.ingest.archive import item_entry
    from tracker.ingest.fulltext import FEED_TEXT_MIN_CHARS

    rows = []
    with (SHARED / "reuters-wl" / "reuters_scraped.items.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            entry, _ = item_entry(json.loads(line), datetime.now(UTC))
            if entry is not None and len(entry.content_text) >= FEED_TEXT_MIN_CHARS:
                rows.append((entry.title, entry.summary, entry.content_text))
    random.Random(seed).shuffle(rows)
    return rows[:n]


def bench_enrich(n: int, repeats: int, seed: int) -> dict[str, Any]:
    """Enrichment seconds for headline+summary vs headline + the first N sentences of the text."""
    from tracker.base.db import open_db
    from tracker.base.settings import Settings
    from tracker.enrich.runner import article_text, enrich_pending
    from tracker.enrich.stages import default_stages

    articles = load_scraped(n, seed)
    variants: dict[str, tuple[bool, int | None]] = {
        "headline_summary": (False, None), "fulltext_12": (True, 12), "fulltext_24": (True, 24)}
    results: dict[str, Any] = {}
    stages = default_stages(Settings())
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.db"
        _fill(warm, articles[:10], with_text=False)
        db = open_db(warm)
        enrich_pending(db, Settings(db_path=warm), stages=stages)  # load and warm the models
        db.conn.close()
        for r in range(repeats):
            for name, (with_text, sentences) in variants.items():
                path = Path(tmp) / f"{name}{r}.db"
                _fill(path, articles, with_text=with_text)
                db = open_db(path)
                settings = Settings(db_path=path, fulltext_sentences=sentences or 12)
                fresh = default_stages(settings)  # no sentence cache carried over
                start = time.process_time()
                enrich_pending(db, settings, stages=fresh)
                cpu = time.process_time() - start
                db.conn.close()
                words = sum(len(article_text(t, s, c if with_text else None, sentences).split())
                            for t, s, c in articles)
                best = results.get(name, {}).get("cpu_s", float("inf"))
                results[name] = {"cpu_s": round(min(best, cpu), 2), "words": words}
    base = results["headline_summary"]["cpu_s"]
    for figures in results.values():
        figures["articles_per_cpu_s"] = round(n / figures["cpu_s"], 1)
        figures["ratio_vs_headline_summary"] = round(figures["cpu_s"] / base, 2)
    return {"articles": len(articles), "variants": results}


def _fill(path: Path, articles: list[tuple[str, str, str]], *, with_text: bool) -> None:
    from tracker.base.db import open_db, transaction

    db = open_db(path)
    with transaction(db.conn):
        db.conn.execute("INSERT INTO feeds (id, name, url, created_at) VALUES (1, 'bench', 'file:///b', 'now')")
        db.conn.executemany(
            "INSERT INTO articles (feed_id, item_key, title, summary, content_text, day, fetched_at, content_hash) "
            "VALUES (1, ?, ?, ?, ?, '2026-01-01', '2026-01-01T00:00:00Z', ?)",
            [(f"k{i}", t, s, c if with_text else None, f"h{i}") for i, (t, s, c) in enumerate(articles)])
    db.conn.close()


def main() -> None:
    """Run both parts and print a table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--delay", type=float, default=3.0, help="politeness delay (the default setting is 3 s)")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-enrich", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, Any] = {"fetch": bench_fetch(args.pages, args.hosts, args.delay)}
    if not args.skip_enrich:
        figures["enrich"] = bench_enrich(args.articles, args.repeats, args.seed)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    f = figures["fetch"]
    print(f"## Page fetching ({f['pages']} real pages over {f['hosts']} local hosts)\n")
    print("| run | seconds | pages/s | vs bare |")
    print("|---|---:|---:|---:|")
    print(f"| bare httpx.get + trafilatura.extract | {f['bare_s']} | {f['bare_pages_per_s']} | 1.00x |")
    print(f"| tracker, no delay | {f['no_delay']['seconds']} | {f['no_delay']['pages_per_s']} | "
          f"{f['ratio_no_delay_vs_bare']}x |")
    print(f"| tracker, {f['delay_s']:g} s delay per host | {f['polite']['seconds']} | {f['polite']['pages_per_s']} | "
          f"{f['share_of_ceiling']:.0%} of the ceiling {f['ceiling_pages_per_s']} pages/s |")
    if "enrich" in figures:
        e = figures["enrich"]
        print(f"\n## Enrichment cost ({e['articles']} Reuters articles, entities + narratives, CPU s)\n")
        print("| text | CPU s | words | articles/CPU s | vs headline+summary |")
        print("|---|---:|---:|---:|---:|")
        for name, v in e["variants"].items():
            print(f"| {name} | {v['cpu_s']} | {v['words']:,} | {v['articles_per_cpu_s']} | "
                  f"{v['ratio_vs_headline_summary']}x |")


if __name__ == "__main__":
    main()
