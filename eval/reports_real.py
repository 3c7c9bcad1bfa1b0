"""Skeleton notes for eval/reports_real.md: what each weekly report's lead says, by ids only.

Usage: python eval/reports_real.py DB 2025-W29 2025-W47 2026-W05

For each week and narrative: the weekly figures the lead quotes (index, interval, p, verdict,
articles) and the stories it names as article id, feed and guid (titles are publisher text
and stay out of the repository; read them in the report itself). Judgments are added by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tracker.base.db import open_db
from tracker.report.gather import gather_report
from tracker.report.lead import lead_items
from tracker.report.weeks import parse_week


def main(db_path: str, weeks: list[str]) -> None:
    """Print one Markdown section per week."""
    db = open_db(Path(db_path))
    guid = {}
    for week in weeks:
        data = gather_report(db.conn, parse_week(week), models_dir=Path("models"))
        print(f"## {week}: {data.week_articles} distinct articles from {data.week_feeds} feeds\n")
        by_id = {n.id: n for n in data.narratives}
        for item in lead_items(data):
            n = by_id[item.narrative_id]
            w = n.weekly
            figures = (f"index {w.index_value:.0f} ({w.index_low:.0f}-{w.index_high:.0f}), week before "
                       f"{w.prev_index if w.prev_index is None else round(w.prev_index)}, p {w.change_p:.2g}, "
                       f"{w.articles} articles" if w and w.index_value is not None and w.index_low is not None
                       and w.change_p is not None else "no weekly figures")
            print(f"### {n.id}: {item.kind} ({figures}; spike days {', '.join(n.spike_days) or 'none'})\n")
            for s in n.stories[:5]:
                if s.article_id not in guid:
                    row = db.conn.execute("SELECT f.name, a.guid FROM articles a JOIN feeds f ON f.id = a.feed_id "
                                          "WHERE a.id = ?", (s.article_id,)).fetchone()
                    guid[s.article_id] = row
                feed, g = guid[s.article_id]
                print(f"- {s.article_id} {feed} `{g}`: {s.articles} articles, {s.sources} outlets, {s.day}")
            print()
    db.conn.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
