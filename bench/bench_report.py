"""Benchmark the weekly report at scale: gathering the figures and rendering both formats.

Reuses the synthetic store of ``bench/bench_index.py`` (default 1,000,000 article-narrative
rows: 250,000 articles x 4 narratives over 365 days of 2025), builds the index on it, then
adds what a report reads for one week (2025-W52): a 384-dim embedding per article of the
week and a claim for every third of them. Times, median of ``--repeat`` runs after a
warm-up:

* baseline: the bare query that reads the week's member articles (the least any report
  of the week's narratives has to read);
* gather: :func:`tracker.report.gather.gather_report` (every named query + centrality);
* render: Markdown + HTML from the gathered data and the drawn charts;
* charts: every narrative's chart drawn (altair spec + vl-convert SVG, wide and narrow),
  against bare vl-convert drawing the same specs (the charts' own baseline).

Ratios are against the baseline measured in the same run. Run:

    .venv/bin/python bench/bench_report.py [--rows 1000000] [--db PATH]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tracker.base.db import open_db, transaction
from tracker.base.settings import Settings
from tracker.index.store import build_index
from tracker.report.charts import series_colours, to_svg
from tracker.report.gather import gather_report
from tracker.report.render import NARROW, WIDE, chart_spec, render_charts, render_html, render_markdown
from tracker.report.weeks import parse_week

WEEK = "2025-W52"
BASELINE_SQL = """
SELECT an.narrative_id, a.id, a.title, an.score
FROM articles a JOIN article_narratives an ON an.article_id = a.id
WHERE an.is_member = 1 AND a.duplicate_of IS NULL AND a.day BETWEEN :week_start AND :week_end
"""


def _bench_index() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_index", Path(__file__).with_name("bench_index.py")
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_index"] = module
    spec.loader.exec_module(module)
    return module


def add_week_extras(conn: Any, start: str, end: str, dim: int, seed: int) -> dict[str, int]:
    """Embeddings for every article of the week and a claim for every third one."""
    rng = random.Random(seed)
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM articles WHERE duplicate_of IS NULL AND day BETWEEN ? AND ?", (start, end)
    )]
    with transaction(conn):
        conn.executemany(
            "INSERT INTO article_embeddings (article_id, model, dim, vector) VALUES (?, ?, ?, ?)",
            [(i, "bench-emb", dim, struct.pack(f"<{dim}f", *(rng.gauss(0, 1) for _ in range(dim))))
             for i in ids],
        )
        conn.executemany(
            "INSERT INTO claims (article_id, entity_id, kind, value, unit, text, pipeline_version) "
            "VALUES (?, ?, 'money', ?, 'USD', 'a synthetic figure', 'bench')",
            [(i, f"e{rng.randrange(200)}", rng.uniform(1e6, 1e10)) for i in ids[::3]],
        )
    return {"week_articles": len(ids), "week_claims": len(ids[::3])}


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` runs after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], result


def main() -> None:
    """Build, time and print the figures (and JSON with --json)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000, help="article-narrative rows")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="keep the database here (default: a temp dir)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    week = parse_week(WEEK)
    params = {"week_start": week.start.isoformat(), "week_end": week.end.isoformat()}

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        if path.exists():
            raise SystemExit(f"{path} exists; choose a new --db path")
        t0 = time.perf_counter()
        shape = _bench_index().build_db(path, args.rows, 20, 365, 4, seed=7)
        db = open_db(path)
        build_index(db, Settings(db_path=path))
        extras = add_week_extras(db.conn, params["week_start"], params["week_end"], 384, seed=9)
        db.conn.execute("ANALYZE")
        build_s = time.perf_counter() - t0

        base_s, base_rows = timed(
            lambda: db.conn.execute(BASELINE_SQL, params).fetchall(), args.repeat
        )
        gather_s, data = timed(lambda: gather_report(db.conn, week), args.repeat)
        charts_s, charts = timed(lambda: render_charts(data), args.repeat)
        render_s, _ = timed(
            lambda: (render_markdown(data), render_html(data, charts)), args.repeat
        )
        # The charts' own baseline: vl-convert drawing the very same specs, nothing else.
        colours = series_colours(n.id for n in data.narratives)
        specs = [chart_spec(data, n, width=w, height=h, colours=colours)
                 for n in data.narratives for w, h in (WIDE, NARROW)]
        bare_charts_s, _ = timed(lambda: [to_svg(spec) for spec in specs], args.repeat)
        db.conn.close()

    figures = {
        **{k: v for k, v in shape.items() if k not in ("next_id", "last_day")},
        **extras,
        "week": WEEK,
        "week_member_rows": len(base_rows),
        "build_s": round(build_s, 1),
        "baseline_s": round(base_s, 4),
        "gather_s": round(gather_s, 4),
        "render_s": round(render_s, 4),
        "charts_s": round(charts_s, 4),
        "bare_vl_convert_s": round(bare_charts_s, 4),
        "charts": len(specs),
        "gather_vs_baseline": round(gather_s / base_s, 1) if base_s else None,
        "text_vs_baseline": round((gather_s + render_s) / base_s, 1) if base_s else None,
        "charts_vs_bare_vl_convert": round(charts_s / bare_charts_s, 2) if bare_charts_s else None,
        "total_vs_baseline": round((gather_s + render_s + charts_s) / base_s, 1) if base_s else None,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"store: {figures['article_narratives']:,} article-narrative rows, "
          f"{figures['articles']:,} articles; week {WEEK}: {extras['week_articles']:,} articles, "
          f"{figures['week_member_rows']:,} member rows, {extras['week_claims']:,} claims "
          f"(built in {build_s:.0f} s)")
    print(f"baseline (read the week's members): {base_s * 1000:8.1f} ms")
    print(f"gather_report (all named queries):   {gather_s * 1000:8.1f} ms  "
          f"x{figures['gather_vs_baseline']}")
    print(f"render Markdown + HTML:              {render_s * 1000:8.1f} ms  "
          f"(gather + render x{figures['text_vs_baseline']})")
    print(f"charts ({len(specs)} SVGs, altair + vl-convert): {charts_s * 1000:8.1f} ms  "
          f"x{figures['charts_vs_bare_vl_convert']} of bare vl-convert "
          f"({bare_charts_s * 1000:.1f} ms)")
    print(f"whole report:                        {(gather_s + render_s + charts_s) * 1000:8.1f} ms  "
          f"x{figures['total_vs_baseline']}")


if __name__ == "__main__":
    main()
