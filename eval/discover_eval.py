"""Which big stories of the period did ``tracker discover`` find? And what do story clusters look like?

``topics``: for a stored discover run (default: the latest of each scope), match each target
story of 2025-26 (tariffs and trade, Fed independence, the US government shutdown, gold,
oil, the AI bubble debate, ...) against every topic's top terms and entity names by a
regular expression written before looking at the topics, and print the matching topics with
their sizes and top terms (terms are single words or pairs from c-TF-IDF, no publisher text).

``stories``: figures of the story clusters (how many, sizes, outlets, the largest ones) and
a seeded random sample of multi-article clusters with their headlines, to read and judge by
hand (the judgments, without headlines, go to ``eval/discover/stories_sample.md``).

Run on a copy of the real replay after ``tracker discover``:

    .venv/bin/python eval/discover_eval.py topics --db COPY.db [--run ID] [--json]
    .venv/bin/python eval/discover_eval.py stories --db COPY.db [--sample 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
from pathlib import Path
from typing import Any

#: Target stories and the pattern a topic's terms or entities must match (case-insensitive).
TARGETS: dict[str, str] = {
    "tariffs and trade": r"\btariff|trade war|trade deal|trade talks|\bduties\b",
    "Fed independence": r"independen|\bcook\b|lisa cook|fire powell|subpoena|fed chair|warsh|hassett|\bmiran\b",
    "US government shutdown": r"\bshutdown",
    "gold": r"\bgold\b|bullion",
    "oil": r"\boil\b|\bopec|\bcrude|\bbrent\b",
    "AI bubble debate": r"\bbubble",
    "China rare earths / export controls": r"rare earth|export control",
    "jobs and the labour market": r"\bpayroll|\bjobs report|unemployment|labor market|labour market",
    "inflation": r"\binflation|\bcpi\b",
    "Russia-Ukraine": r"\bukrain|\bputin|zelensky",
    "bitcoin price": r"\bbitcoin\b|\bbtc\b",
}


def topic_rows(conn: sqlite3.Connection, run_id: int) -> list[dict[str, Any]]:
    """Every topic of a run with its terms and entity names."""
    out = []
    for tid, label, size, stories, growth, first, last, terms, entities in conn.execute(
        "SELECT id, label, articles, stories, growth, first_day, last_day, terms, entities "
        "FROM discovered_topics WHERE run_id = ? ORDER BY articles DESC", (run_id,)
    ):
        out.append({"id": tid, "label": label, "articles": size, "stories": stories, "growth": growth,
                    "first_day": first, "last_day": last,
                    "terms": [t["term"] for t in json.loads(terms)],
                    "entities": [e["name"] for e in json.loads(entities)]})
    return out


def match_targets(topics: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Target -> topics whose first eight terms (or first three entities) match its pattern."""
    found: dict[str, list[dict[str, Any]]] = {}
    for name, pattern in TARGETS.items():
        rx = re.compile(pattern, re.I)
        found[name] = [t for t in topics
                       if rx.search(" | ".join(t["terms"][:8])) or rx.search(" | ".join(t["entities"][:3]))]
    return found


def cmd_topics(args: argparse.Namespace) -> None:
    """Print the target stories found in a run (or the latest run of each scope)."""
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    runs = [args.run] if args.run else [r[0] for r in conn.execute(
        "SELECT MAX(id) FROM discover_runs GROUP BY scope ORDER BY scope DESC")]
    report = {}
    for run_id in runs:
        scope, start, end, n, k, outliers = conn.execute(
            "SELECT scope, start_day, end_day, articles, topics, outliers FROM discover_runs WHERE id = ?",
            (run_id,)).fetchone()
        topics = topic_rows(conn, run_id)
        found = match_targets(topics)
        report[run_id] = {"scope": scope, "window": f"{start}..{end}", "articles": n, "topics": k,
                          "outliers": outliers, "found": found, "all": topics}
        if args.json:
            continue
        print(f"\n## run {run_id}: {scope}, {start}..{end}, {n:,} articles, {k} topics, "
              f"{outliers:,} outliers ({outliers / max(1, n):.0%})\n")
        print("| story | found | topics (id: articles; top terms) |\n|---|---|---|")
        for name, hits in found.items():
            cells = "<br>".join(f"{t['id']}: {t['articles']}; {', '.join(t['terms'][:6])}" for t in hits[:4])
            more = f" (+{len(hits) - 4} more)" if len(hits) > 4 else ""
            print(f"| {name} | {'yes' if hits else 'no'} | {cells}{more} |")
        if args.all:
            print()
            for t in topics:
                print(f"{t['id']:>6} {t['articles']:>5} {t['growth']:<7} {t['first_day']}..{t['last_day']} "
                      f"{', '.join(t['terms'][:8])} [{', '.join(t['entities'][:3])}]")
    if args.json:
        print(json.dumps(report, indent=2))


def cmd_stories(args: argparse.Namespace) -> None:
    """Story-cluster figures and a random sample to read (headlines printed, never stored)."""
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    total, multi, articles = conn.execute(
        "SELECT COUNT(*), SUM(articles > 1), SUM(articles) FROM story_clusters").fetchone()
    in_multi = conn.execute("SELECT SUM(articles) FROM story_clusters WHERE articles > 1").fetchone()[0]
    multi_outlet = conn.execute("SELECT COUNT(*) FROM story_clusters WHERE sources > 1").fetchone()[0]
    print(f"{articles:,} articles in {total:,} story clusters; {multi:,} clusters hold 2+ articles "
          f"({in_multi:,} articles, {in_multi / max(1, articles):.1%}); {multi_outlet:,} span 2+ outlets")
    sizes = conn.execute("SELECT articles, COUNT(*) FROM story_clusters GROUP BY 1 ORDER BY 1").fetchall()
    print("size distribution:", ", ".join(f"{s}: {c}" for s, c in sizes[:12]),
          f"... max {sizes[-1][0] if sizes else 0}")
    print("\nlargest:")
    for cid, n, src, first, last in conn.execute(
        "SELECT id, articles, sources, first_day, last_day FROM story_clusters "
        "ORDER BY articles DESC, id LIMIT 10"):
        print(f"  {cid}: {n} articles, {src} outlets, {first}..{last}")
    ids = [r[0] for r in conn.execute("SELECT id FROM story_clusters WHERE articles > 1 ORDER BY id")]
    sample = sorted(random.Random(args.seed).sample(ids, min(args.sample, len(ids))))
    print(f"\nrandom sample of {len(sample)} multi-article clusters (seed {args.seed}):")
    for cid in sample:
        rows = conn.execute(
            "SELECT a.id, a.day, f.name, a.title, s.similarity FROM story_articles s "
            "JOIN articles a ON a.id = s.article_id JOIN feeds f ON f.id = a.feed_id "
            "WHERE s.cluster_id = ? AND s.is_copy = 0 ORDER BY a.day, a.id", (cid,)).fetchall()
        print(f"\n[{cid}] {len(rows)} articles")
        for aid, day, feed, title, sim in rows[:12]:
            print(f"  {aid} {day} {feed:<24} {sim if sim is not None else '-':>6} {title}")


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    topics = sub.add_parser("topics")
    topics.add_argument("--db", type=Path, required=True)
    topics.add_argument("--run", type=int)
    topics.add_argument("--all", action="store_true", help="Also list every topic.")
    topics.add_argument("--json", action="store_true")
    stories = sub.add_parser("stories")
    stories.add_argument("--db", type=Path, required=True)
    stories.add_argument("--sample", type=int, default=20)
    stories.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cmd_topics(args) if args.cmd == "topics" else cmd_stories(args)


if __name__ == "__main__":
    main()
