"""Coverage of a replayed database: distinct articles per day, per archive and per feed, and a chart.

Counts distinct articles (``duplicate_of IS NULL``) per UTC ``day`` over a window (default
2025-04-18 .. 2026-02-21, the days every real archive overlaps with the original five-feed
archive), every day of the window counted, empty days as 0. The baseline is the articles
replayed from one archive (default ``orx365-rss-arch``, the five feeds the tracker started
with); the ratio is all archives against it. Writes the chart (per feed per day, with the
daily totals per archive above it) as PNG or SVG with Altair and vl-convert.

    .venv/bin/python eval/coverage.py --db db/real.db [--out docs/coverage.png] [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pandas as pd

ARCHIVE_SQL = """
SELECT a.day, f.name AS feed,
  COALESCE(substr(x.snapshot_path, instr(x.snapshot_path, '/data/') + 6), '') AS path,
  a.content_status, a.url IS NULL AS no_link
FROM articles a
JOIN feeds f ON f.id = a.feed_id
LEFT JOIN fetches x ON x.id = a.fetch_id
WHERE a.duplicate_of IS NULL AND a.day BETWEEN ? AND ?
"""


def load(db: Path, start: str, end: str) -> pd.DataFrame:
    """One row per distinct article in the window: day, feed, archive, content status, no_link."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        frame = pd.read_sql_query(ARCHIVE_SQL, conn, params=(start, end))
    finally:
        conn.close()
    frame["archive"] = frame["path"].str.split("/").str[0].replace("", "live")
    return frame.drop(columns="path")


def daily(frame: pd.DataFrame, start: str, end: str) -> pd.Series:
    """Articles per day over every day of the window (0 where none)."""
    days = pd.date_range(start, end, freq="D").strftime("%Y-%m-%d")
    return frame.groupby("day").size().reindex(days, fill_value=0)


def summarise(frame: pd.DataFrame, start: str, end: str, baseline: str) -> dict[str, Any]:
    """Per-day figures for all archives and for the baseline archive, and their ratios."""
    everything = daily(frame, start, end)
    base = daily(frame[frame["archive"] == baseline], start, end)
    by_month = everything.groupby(everything.index.str[:7]).agg(["mean", "median", "min"]).round(1)
    return {
        "window": [start, end], "days": len(everything),
        "articles": int(everything.sum()),
        "per_day": {"mean": round(float(everything.mean()), 1), "median": float(everything.median()),
                    "min": int(everything.min()), "max": int(everything.max())},
        "baseline": baseline,
        "baseline_per_day": {"mean": round(float(base.mean()), 1), "median": float(base.median())},
        "ratio_mean": round(float(everything.mean() / base.mean()), 2),
        "ratio_median": round(float(everything.median() / base.median()), 2),
        "days_at_least_3_5x_baseline_mean": int((everything >= 3.5 * base.mean()).sum()),
        "by_archive": {k: int(v) for k, v in frame.groupby("archive").size().sort_values(ascending=False).items()},
        "by_month": {m: row.to_dict() for m, row in by_month.iterrows()},
        "feeds": int(frame["feed"].nunique()),
        "with_full_text": int(frame["content_status"].isin(["ok", "feed", "archive"]).sum()),
        "without_link": int(frame["no_link"].sum()),
    }


def chart(frame: pd.DataFrame, start: str, end: str, baseline_mean: float, out: Path) -> None:
    """Daily totals per archive (stacked) over a heatmap of articles per feed per day."""
    import altair as alt

    alt.data_transformers.disable_max_rows()
    per_archive = frame.groupby(["day", "archive"]).size().rename("articles").reset_index()
    totals = alt.Chart(per_archive).mark_area().encode(
        x=alt.X("day:T", title=None, scale=alt.Scale(domain=[start, end])),
        y=alt.Y("articles:Q", stack=True, title="articles a day"),
        color=alt.Color("archive:N", legend=alt.Legend(orient="top", columns=4, title="archive")),
    ).properties(width=900, height=220)
    rule = alt.Chart(pd.DataFrame({"y": [baseline_mean * 3.5], "label": ["3.5x the old mean"]})).mark_rule(
        strokeDash=[4, 3], color="black").encode(y="y:Q")
    per_feed = frame.groupby(["day", "feed", "archive"]).size().rename("articles").reset_index()
    # A cell spans its whole day (a rect on a time axis needs both edges).
    per_feed["next"] = (pd.to_datetime(per_feed["day"]) + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    order = (per_feed.groupby(["archive", "feed"])["articles"].sum().reset_index()
             .sort_values(["archive", "articles"], ascending=[True, False])["feed"].tolist())
    heat = alt.Chart(per_feed).mark_rect().encode(
        x=alt.X("day:T", title="UTC day", scale=alt.Scale(domain=[start, end])), x2="next:T",
        y=alt.Y("feed:N", sort=order, title=None, axis=alt.Axis(labelFontSize=8)),
        color=alt.Color("articles:Q", scale=alt.Scale(type="log", scheme="viridis"), title="articles"),
    ).properties(width=900, height=max(300, 9 * len(order)))
    figure = alt.vconcat(totals + rule, heat).properties(
        title=f"Distinct articles per day, every real archive replayed ({start} .. {end})")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".svg":
        figure.save(str(out))
    else:
        import vl_convert as vlc

        out.write_bytes(vlc.vegalite_to_png(figure.to_json(), scale=1.0))


def main(argv: list[str] | None = None) -> int:
    """Print the figures (and write the chart)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--start", default="2025-04-18")
    parser.add_argument("--end", default="2026-02-21")
    parser.add_argument("--baseline", default="orx365-rss-arch", help="archive folder the ratio compares with")
    parser.add_argument("--out", type=Path, help="chart file (.png or .svg)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    frame = load(args.db, args.start, args.end)
    figures = summarise(frame, args.start, args.end, args.baseline)
    if args.out:
        chart(frame, args.start, args.end, figures["baseline_per_day"]["mean"], args.out)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        d, b = figures["per_day"], figures["baseline_per_day"]
        print(f"{figures['days']} days {args.start}..{args.end}: {figures['articles']:,} distinct articles "
              f"from {figures['feeds']} feeds")
        print(f"per day: mean {d['mean']}, median {d['median']}, min {d['min']}, max {d['max']}")
        print(f"{args.baseline} alone: mean {b['mean']}, median {b['median']}; "
              f"ratio {figures['ratio_mean']}x (means), {figures['ratio_median']}x (medians)")
        for month, row in figures["by_month"].items():
            print(f"  {month}: mean {row['mean']}, median {row['median']}, min {row['min']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
