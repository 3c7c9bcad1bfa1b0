"""Score main-text extraction on ../shared/data/html-pages the way trafilatura's own evaluation does.

A page passes when every ``with`` snippet is in the text and no ``without`` snippet is. Prints
the project's extraction (tracker.ingest.extract.extract_page: declared-charset decoding,
precision mode with the recall fallback, wall detection) beside trafilatura alone in its
default, precision and recall modes (comments included and not), over the same pages.

    .venv/bin/python eval/fulltext_pages.py [--data DIR] [--json] [--failures]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("TRACKER_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
DEFAULT_DATA = SHARED / "html-pages"


def load_expectations(data: Path) -> list[dict[str, Any]]:
    """The expectation rows (url, file, with, without, news_site)."""
    with (data / "expectations.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def score(rows: list[dict[str, Any]], texts: list[str]) -> dict[str, Any]:
    """Snippets kept and dropped (shares) and pages fully right."""
    kept = with_total = dropped = without_total = full = 0
    for row, text in zip(rows, texts, strict=True):
        has = [s in text for s in row["with"]]
        lacks = [s not in text for s in row["without"]]
        kept += sum(has)
        with_total += len(has)
        dropped += sum(lacks)
        without_total += len(lacks)
        full += all(has) and all(lacks)
    return {"kept": round(kept / with_total, 4), "dropped": round(dropped / without_total, 4),
            "pages_right": full, "pages": len(rows)}


def main(argv: list[str] | None = None) -> int:
    """Run every configuration and print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--failures", action="store_true", help="List the project's failed pages.")
    args = parser.parse_args(argv)
    import trafilatura

    from tracker.ingest.extract import _config, extract_page, extractor_version

    rows = load_expectations(args.data)
    pages = [(args.data / "pages" / row["file"]).read_bytes() for row in rows]
    results: dict[str, Any] = {}
    configs: dict[str, dict[str, Any]] = {
        "trafilatura default": {},
        "trafilatura default, no comments": {"include_comments": False},
        "trafilatura precision": {"favor_precision": True},
        "trafilatura precision, no comments": {"favor_precision": True, "include_comments": False},
        "trafilatura recall": {"favor_recall": True},
        "trafilatura recall, no comments": {"favor_recall": True, "include_comments": False},
    }
    for name, options in configs.items():
        start = time.process_time()
        texts = [trafilatura.extract(body, url=row["url"], config=_config(), **options) or ""
                 for row, body in zip(rows, pages, strict=True)]
        results[name] = {**score(rows, texts), "cpu_s": round(time.process_time() - start, 2)}
    start = time.process_time()
    extractions = [extract_page(body, url=row["url"]) for row, body in zip(rows, pages, strict=True)]
    texts = [e.text for e in extractions]
    name = f"project ({extractor_version()})"
    results[name] = {**score(rows, texts), "cpu_s": round(time.process_time() - start, 2),
                     "statuses": _count(e.status for e in extractions)}
    news = [i for i, row in enumerate(rows) if row["news_site"]]
    results[name]["news_sites"] = score([rows[i] for i in news], [texts[i] for i in news])
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{'configuration':58s} {'kept':>6s} {'dropped':>8s} {'pages right':>12s} {'CPU s':>6s}")
        for name, r in results.items():
            print(f"{name:58s} {r['kept']:6.1%} {r['dropped']:8.1%} {r['pages_right']:>7d}/{r['pages']:<4d} "
                  f"{r['cpu_s']:6.1f}")
        project = results[name]
        print(f"project statuses: {project['statuses']}; news sites only: {project['news_sites']}")
    if args.failures:
        for row, extraction in zip(rows, extractions, strict=True):
            missing = [s[:40] for s in row["with"] if s not in extraction.text]
            extra = [s[:40] for s in row["without"] if s in extraction.text]
            if missing or extra:
                print(row["file"], extraction.status, extraction.reason or "", "missing:", missing, "extra:", extra,
                      file=sys.stderr)
    return 0


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
