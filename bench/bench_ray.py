"""The Ray engine against the local engine on the same real articles, and a throughput model.

Takes N real articles (the seeded sample of ``bench_enrich.py``: Reuters lead
paragraphs and headlines, FT and WSJ items from ``../shared/data``, read by path,
nothing copied), stores them in fresh databases and enriches them (entities +
narratives, real spaCy and MiniLM) with:

* the local engine (``enrich_pending``; models loaded before timing, as in
  ``bench_enrich.py``): the bare baseline;
* the Ray engine on a local runtime with 1 and with 2 workers (actors): the
  runtime's start is timed apart; actor start-up (unpickling the stages, loading
  spaCy or MiniLM) is inside the run and reported apart.

It reports wall and CPU seconds, where the CPU went (the driver process: writer +
Ray Data's scheduling; the reader task; the actors), the bytes that travelled, and
whether the rows equal the local engine's. From the measured per-article CPU
costs it models throughput at 16, 64 and 256 workers: the actors scale, the
reader and the single writer do not. The machine is shared: CPU figures are the
ones to trust, and the load average is printed with each run. Run:

    .venv/bin/python bench/bench_ray.py [--articles 2000] [--workers 1 2] [--data DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench_enrich

from tests.enrich.rows import differences, max_float_difference, output_rows
from tracker.base.db import open_db
from tracker.base.settings import Settings
from tracker.enrich.runner import DEFAULT_BATCH_SIZE, EnrichSummary, enrich_pending
from tracker.enrich.stages import default_stages

MODEL_WORKERS = (16, 64, 256)


def load() -> float:
    """The 1-minute load average (other sessions share these 2 cores)."""
    return round(os.getloadavg()[0], 1)


def stage_figures(summary: EnrichSummary) -> dict[str, Any]:
    """Per stage: articles, rows, seconds and stats, rounded."""
    return {
        name: {"articles": s.articles, "rows": s.rows,
               "seconds": {k: round(v, 3) for k, v in s.seconds.items()},
               "stats": {k: round(v) for k, v in s.stats.items()}}
        for name, s in summary.stages.items()
    }


def run_local(path: Path, batch_size: int, threads: int | None = None) -> dict[str, Any]:
    """The local engine over a fresh database (models already loaded in this process).

    ``threads`` sets torch's intra-op threads for the run (a Ray actor runs with one).
    """
    import torch

    saved = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _run_local(path, batch_size) | {"torch_threads": torch.get_num_threads()}
    finally:
        torch.set_num_threads(saved)


def _run_local(path: Path, batch_size: int) -> dict[str, Any]:
    db = open_db(path)
    load_before = load()
    wall, cpu = time.perf_counter(), time.process_time()
    summary = enrich_pending(db, Settings(db_path=path), stages=default_stages(Settings()),
                             batch_size=batch_size)
    figures = {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
               "load_before": load_before, "load_after": load(), "stages": stage_figures(summary)}
    db.conn.close()
    return figures


def run_ray(path: Path, workers: int, batch_size: int) -> dict[str, Any]:
    """The Ray engine on a local runtime of ``workers`` CPUs over a fresh database."""
    import ray

    from tracker.enrich.ray_engine import LOCAL_OBJECT_STORE_BYTES, RayOptions, enrich_pending_ray

    start = time.perf_counter()
    ray.init(address="local", num_cpus=workers, include_dashboard=False,
             object_store_memory=LOCAL_OBJECT_STORE_BYTES, logging_level=logging.ERROR,
             log_to_driver=False)
    runtime_s = time.perf_counter() - start
    try:
        db = open_db(path)
        load_before = load()
        wall, cpu = time.perf_counter(), time.process_time()
        summary = enrich_pending_ray(db, stages=default_stages(Settings()),
                                     options=RayOptions(workers=workers), batch_size=batch_size)
        figures = {"workers": workers, "runtime_start_s": runtime_s,
                   "wall_s": time.perf_counter() - wall, "driver_cpu_s": time.process_time() - cpu,
                   "load_before": load_before, "load_after": load(), "stages": stage_figures(summary)}
        db.conn.close()
    finally:
        ray.shutdown()
    return figures


def sums(figures: dict[str, Any], key: str, kind: str = "seconds") -> float:
    """A figure summed over both stages."""
    return float(sum(s[kind].get(key, 0.0) for s in figures["stages"].values()))


def model(local: dict[str, Any], rays: list[dict[str, Any]], articles: int,
          one_thread: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per-article CPU costs from the run with the most workers, and throughput at more workers.

    An article (both stages) costs c_actor CPU-seconds in the actors, c_writer in the
    driver's writer thread (unpickle results, check, commit) and c_reader in the reader
    task's thread. Actors scale with workers; the writer and the reader are one thread
    each, so throughput(W) = min(W / c_actor, 1 / c_writer, 1 / c_reader), with models
    loaded, start-up amortised and the network not the limit. Ray Data's scheduling
    thread in the driver costs CPU per second of run, not per article (reported apart).
    """
    best = max(rays, key=lambda r: r["workers"])
    c_actor = sums(best, "process_cpu") / articles
    c_writer = sums(best, "writer_thread_cpu") / articles
    c_commit = sums(best, "write_cpu") / articles
    c_reader = sums(best, "read_cpu") / articles
    other = best["driver_cpu_s"] - sums(best, "writer_thread_cpu")
    limits = {"actor": 1 / c_actor, "writer": 1 / c_writer, "commit_only": 1 / c_commit,
              "reader": 1 / c_reader}
    table = []
    for w in MODEL_WORKERS:
        actors = w / c_actor
        rate = min(actors, limits["writer"], limits["reader"])
        bound = ("actors" if rate == actors else
                 "writer (single writer thread)" if rate == limits["writer"] else "reader")
        table.append({"workers": w, "articles_per_s": round(rate, 1), "bound_by": bound,
                      "actors_would_do": round(actors, 1),
                      "hours_for_10M": round(10_000_000 / rate / 3600, 1)})
    return {
        "c_actor_ms": round(1000 * c_actor, 3), "c_writer_ms": round(1000 * c_writer, 3),
        "c_commit_ms": round(1000 * c_commit, 3), "c_reader_ms": round(1000 * c_reader, 3),
        "local_cpu_ms": round(1000 * local["cpu_s"] / articles, 3),
        "local_1_thread_cpu_ms": round(1000 * one_thread["cpu_s"] / articles, 3) if one_thread else None,
        "driver_other_threads_core_share": round(other / best["wall_s"], 3),
        "limits_articles_per_s": {k: round(v, 1) for k, v in limits.items()},
        "writer_bound_from_workers": round(min(limits["writer"], limits["reader"]) * c_actor, 1),
        "table": table,
        "bytes_out_per_article": round(sums(best, "bytes_out", "stats") / articles),
        "bytes_back_per_article": round(sums(best, "bytes_back", "stats") / articles),
    }


def main() -> None:
    """Local engine vs Ray with 1 and 2 workers on the same articles; the throughput model."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=bench_enrich.SHARED,
                        help="the shared real data folder (default ../shared/data)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    bench_enrich.SOURCES = [args.data / p.relative_to(bench_enrich.SHARED) for p in bench_enrich.SOURCES]
    articles = bench_enrich.load_articles(args.articles, args.seed)
    from tracker.enrich.classifier import load_classifier
    from tracker.enrich.embeddings import load_minilm
    from tracker.enrich.nlp import load_nlp

    start = time.perf_counter()
    load_nlp()
    load_minilm()
    load_classifier(Settings().models_dir)
    model_load_s = time.perf_counter() - start

    results: dict[str, Any] = {"articles": len(articles), "batch_size": args.batch_size,
                               "cpus": os.cpu_count(), "model_load_local_s": round(model_load_s, 2)}
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        local_path = Path(tmp) / "local.db"
        bench_enrich.fresh_db(local_path, articles)
        results["local"] = run_local(local_path, args.batch_size)
        reference = output_rows(local_path)
        # The same engine with torch on one thread, as each Ray actor runs it.
        one = Path(tmp) / "local1.db"
        bench_enrich.fresh_db(one, articles)
        results["local_1_thread"] = run_local(one, args.batch_size, threads=1)
        results["local_1_thread"]["rows_differing_exact"] = differences(reference, output_rows(one))
        rays = []
        for w in args.workers:
            path = Path(tmp) / f"ray{w}.db"
            bench_enrich.fresh_db(path, articles)
            figures = run_ray(path, w, args.batch_size)
            rows = output_rows(path)
            figures["rows_differing_exact"] = differences(reference, rows)
            figures["rows_differing_1e-6"] = differences(reference, rows, tol=1e-6)
            figures["max_float_difference"] = max_float_difference(reference, rows)
            figures["speedup_wall_vs_local"] = round(results["local"]["wall_s"] / figures["wall_s"], 3)
            rays.append(figures)
        results["ray"] = rays
    results["model"] = model(results["local"], rays, len(articles), results.get("local_1_thread"))
    if args.json:
        print(json.dumps(results, indent=1, default=float))
        return
    print(render(results))


def render(r: dict[str, Any]) -> str:
    """Markdown tables for bench/RESULTS.md."""
    n = r["articles"]
    local = r["local"]
    lines = [
        f"{n:,} real articles, batch {r['batch_size']}, {r['cpus']} cores shared with other sessions.",
        "",
        "| engine | wall s | speed-up | CPU s (driver) | CPU s (reader) | CPU s (actors) | writer s | "
        "actor start s | load before/after | rows vs local |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
        f"| local | {local['wall_s']:.1f} | 1.00 | {local['cpu_s']:.1f} | - | - | "
        f"{sums(local, 'write'):.2f} | (models {r['model_load_local_s']:.1f}) | "
        f"{local['load_before']}/{local['load_after']} | - |",
    ]
    if "local_1_thread" in r:
        one = r["local_1_thread"]
        lines.append(
            f"| local, torch 1 thread | {one['wall_s']:.1f} | {local['wall_s'] / one['wall_s']:.2f} | "
            f"{one['cpu_s']:.1f} | - | - | {sums(one, 'write'):.2f} | - | "
            f"{one['load_before']}/{one['load_after']} | "
            f"{'identical' if not one['rows_differing_exact'] else one['rows_differing_exact']} |")
    for f in r["ray"]:
        same = ("identical" if not f["rows_differing_exact"] else
                f"{sum(f['rows_differing_exact'].values())} rows differ, max {f['max_float_difference']:.1e}")
        lines.append(
            f"| ray x{f['workers']} | {f['wall_s']:.1f} (+{f['runtime_start_s']:.1f} runtime) | "
            f"{f['speedup_wall_vs_local']:.2f} | {f['driver_cpu_s']:.1f} | {sums(f, 'read_cpu'):.2f} | "
            f"{sums(f, 'process_cpu'):.1f} | {sums(f, 'write'):.2f} | "
            f"{max(s['seconds'].get('worker_startup_max', 0) for s in f['stages'].values()):.1f} | "
            f"{f['load_before']}/{f['load_after']} | {same} |")
    m = r["model"]
    lim = m["limits_articles_per_s"]
    lines += [
        "",
        f"Per article (both stages): actors {m['c_actor_ms']} ms CPU (local engine {m['local_cpu_ms']} ms, "
        f"with torch on 1 thread {m['local_1_thread_cpu_ms']} ms), "
        f"the driver's writer thread {m['c_writer_ms']} ms (commits alone {m['c_commit_ms']} ms), "
        f"the reader {m['c_reader_ms']} ms; Ray Data's scheduling threads in the driver use "
        f"{100 * m['driver_other_threads_core_share']:.0f}% of a core while it runs. "
        f"{m['bytes_out_per_article']:,} bytes out and {m['bytes_back_per_article']:,} bytes back per article.",
        "",
        f"Limits: {lim['actor']:,.0f} articles/s per actor, {lim['writer']:,.0f} for the writer thread "
        f"({lim['commit_only']:,.0f} for its commits alone), {lim['reader']:,.0f} for the reader.",
        "",
        "| workers | articles/s | bound by | actors alone | hours for 10M articles |",
        "|---:|---:|---|---:|---:|",
        *[f"| {t['workers']} | {t['articles_per_s']:,.0f} | {t['bound_by']} | {t['actors_would_do']:,.0f} | "
          f"{t['hours_for_10M']} |" for t in m["table"]],
        "",
        f"The single writer (or the reader) becomes the limit at about {m['writer_bound_from_workers']:.0f} workers.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
