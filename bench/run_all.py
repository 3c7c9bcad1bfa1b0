"""Run every benchmark and write ``bench/RESULTS.md`` (targets first, then each bench's figures).

Each benchmark runs in its own process, so its peak RSS (from ``wait4``) is the
stage's own. Every ratio is against a baseline measured in the same run, because
these machines are noisy. Run (takes a while: it builds 1M-row databases):

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent


@dataclass(frozen=True)
class Bench:
    """One benchmark script and its arguments (full and quick)."""

    name: str
    script: str
    args: tuple[str, ...]
    quick: tuple[str, ...]
    what: str


BENCHES = [
    Bench("ingest", "bench_ingest.py", (), ("--files", "200"),
          "replay throughput vs bare feedparser; no-op nightly ingest of 100 feeds"),
    Bench("enrich", "bench_enrich.py", ("--articles", "1000", "--repeats", "2"),
          ("--articles", "200", "--repeats", "1"),
          "entities + narratives vs bare spaCy NER + bare MiniLM encode"),
    Bench("entities", "bench_entities.py", (), ("--n", "500", "--repeats", "2"),
          "entity stage vs bare nlp.pipe on 2,000 real headlines"),
    Bench("narratives", "bench_narratives.py", (), ("--articles", "150", "--repeats", "1"),
          "narrative stage vs bare model.encode"),
    Bench("ray", "bench_ray.py", ("--articles", "2000", "--workers", "1", "2"),
          ("--articles", "100", "--workers", "1"),
          "Ray engine with 1 and 2 local workers vs the local engine; throughput model to 256 workers"),
    Bench("index", "bench_index.py", (),
          ("--articles", "50000", "--days", "600", "--feeds", "20", "--repeat", "1"),
          "index first build, full recompute and one-day update: 1M articles, 4M article-narrative "
          "rows, 50 feeds, 3,000 days"),
    Bench("serve", "bench_serve.py", ("--scale", "100"), ("--scale", "2", "--reps", "10"),
          "Datasette canned-query latency at ~1M articles"),
    Bench("fulltext", "bench_fulltext.py", (),
          ("--pages", "24", "--delay", "0.5", "--articles", "60", "--repeats", "1"),
          "page fetching at the politeness limits vs bare httpx+trafilatura; enrichment cost with full text"),
    Bench("report", "bench_report.py", ("--rows", "1000000"), ("--rows", "100000", "--repeat", "1"),
          "weekly report gather + render at 1M article-narrative rows"),
    Bench("discover", "bench_discover.py", ("--articles", "20000", "--methods", "bare,tracker,pca_hdbscan"),
          ("--articles", "2000", "--methods", "bare,tracker"),
          "tracker discover on 20,000 articles vs bare UMAP + HDBSCAN (and PCA + HDBSCAN)"),
]


def run_with_rss(bench: Bench, quick: bool) -> dict[str, Any]:
    """Like :func:`run`, with the child's own peak RSS from wait4()."""
    args = bench.quick if quick else bench.args
    cmd = [sys.executable, str(BENCH / bench.script), *args, "--json"]
    start = time.perf_counter()
    out_path = REPO / "bench" / f".{bench.name}.out"
    err_path = REPO / "bench" / f".{bench.name}.err"
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=out_file, stderr=err_file)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    out, err = out_path.read_text(), err_path.read_text()
    out_path.unlink()
    err_path.unlink()
    result: dict[str, Any] = {
        "name": bench.name, "what": bench.what,
        "command": " ".join([".venv/bin/python", f"bench/{bench.script}", *args]),
        "wall_s": round(wall, 1), "exit": code, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }
    try:
        result["figures"] = json.loads(out[out.index("{"):])
    except ValueError:
        result["figures"] = {}
        result["stdout"] = out[-3000:]
    if code:
        result["stderr"] = err[-3000:]
    return result


def targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(target, limit, measured, verdict) rows for issue 8's targets, from the figures."""
    rows = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    enrich = results.get("enrich", {}).get("figures", {})
    if "ratio" in enrich:
        rows.append(("enrichment overhead vs bare spaCy + bare encode", "<= 1.15x",
                     f"{enrich['ratio']:.2f}x ({enrich['articles']} articles)", verdict(enrich["ratio"] <= 1.15)))
    ingest = results.get("ingest", {}).get("figures", {})
    if "noop" in ingest:
        noop = ingest["noop"]["noop_s"]
        rows.append(("no-op nightly ingest, 100 feeds", "< 2 s + network", f"{noop:.2f} s", verdict(noop < 2)))
    index = results.get("index", {}).get("figures", {})
    if "full_s" in index:
        shape = (f"{index.get('articles', 0):,} articles, {index.get('article_narratives', 0):,} rows, "
                 f"{index.get('feeds')} feeds, {index.get('days')} days")
        rows.append(("index full recompute (issue 14)", "< 5 s, realistic shape",
                     f"{index['full_s']:.2f} s ({shape})", verdict(index["full_s"] < 5)))
        rows.append(("index one-day update (issue 14)", "< 1 s, realistic shape",
                     f"{index['incremental_s']:.2f} s", verdict(index["incremental_s"] < 1)))
    serve = results.get("serve", {}).get("figures", {})
    if serve.get("queries"):
        worst_name, worst = max(serve["queries"].items(), key=lambda kv: kv[1]["served_p95"])
        articles = serve.get("sizes", {}).get("articles", 0)
        rows.append(("canned queries p95 (worst query)", "< 100 ms at 1M articles",
                     f"{worst['served_p95']:.1f} ms ({worst_name}; {articles:,} articles)",
                     verdict(worst["served_p95"] < 100)))
    return rows


def render(results: dict[str, dict[str, Any]], quick: bool) -> str:
    """RESULTS.md text."""
    lines = [
        "# Benchmark results",
        "",
        f"Written by `bench/run_all.py{' --quick' if quick else ''}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"({platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}). "
        "Ratios are against a bare baseline measured in the same run; absolute times vary with load.",
        "",
        "## Targets (issue 8)",
        "",
        "| target | limit | measured | verdict |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(results)],
        "",
        "## Runs",
        "",
        "| bench | what | wall s | peak RSS MB | exit |",
        "|---|---|---:|---:|---:|",
        *[f"| {r['name']} | {r['what']} | {r['wall_s']} | {r['peak_rss_mb']} | {r['exit']} |"
          for r in results.values()],
        "",
    ]
    for r in results.values():
        lines += [f"### {r['name']}", "", f"`{r['command']}`", "", "```json",
                  json.dumps(r["figures"], indent=1)[:6000], "```", ""]
        if r.get("stderr"):
            lines += ["stderr (tail):", "", "```", r["stderr"], "```", ""]
    return "\n".join(lines)


def main() -> None:
    """Run the selected benchmarks and write RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the harness")
    parser.add_argument("--only", nargs="*", help="bench names to run")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    results = {}
    for bench in BENCHES:
        if args.only and bench.name not in args.only:
            continue
        print(f"==> {bench.name}: {bench.what}", file=sys.stderr, flush=True)
        results[bench.name] = run_with_rss(bench, args.quick)
        print(f"    {results[bench.name]['wall_s']} s, peak RSS {results[bench.name]['peak_rss_mb']} MB, "
              f"exit {results[bench.name]['exit']}", file=sys.stderr, flush=True)
    args.out.write_text(render(results, args.quick), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
