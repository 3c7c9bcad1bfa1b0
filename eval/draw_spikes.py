"""Draw the index's spikes for judging by reading, and score the judgments (spike precision).

Issue 14 asks that every spike's top headlines be read and judged: is the day a real wave of
the narrative (its top member articles are about the narrative, and about something that
happened), or an artefact (misclassified articles, one outlet's feature series, a thin day)?

    # 1. the sheet to read (titles included: keep it OUTSIDE the repository, publisher text)
    #    and the judgment file for eval/ (ids and guids only, a blank judgment per spike)
    .venv/bin/python eval/draw_spikes.py draw --db real.db --sheet /tmp/spikes-sheet.md \\
        --out eval/spikes_2026-12-02.md [--per-narrative 0] [--seed 1]
    # 2. write "judgment: yes|no - why" under each spike in the eval/ file, in your words
    # 3. precision per narrative
    .venv/bin/python eval/draw_spikes.py score eval/spikes_2026-12-02.md

``--per-narrative 0`` (the default) takes every spike; N > 0 draws N per narrative at random
(seeded). The database must hold an index built by ``tracker index``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import sys
from collections import defaultdict
from pathlib import Path

from tracker.index.validate import TOP_HEADLINES, load_spikes

JUDGMENT = re.compile(r"^judgment:\s*(yes|no)\b(.*)$", re.I)
HEADER = re.compile(r"^## (\S+) (\d{4}-\d{2}-\d{2})")


def draw(db: Path, sheet: Path, out: Path, per_narrative: int, seed: int) -> None:
    """Write the reading sheet (with titles) and the judgment file (ids only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    spikes = load_spikes(conn, TOP_HEADLINES)
    params = conn.execute("SELECT params FROM narrative_index_fit LIMIT 1").fetchone()
    conn.close()
    if per_narrative > 0:
        rng = random.Random(seed)
        by: dict[str, list[object]] = defaultdict(list)
        for s in spikes:
            by[s.narrative_id].append(s)
        picked = {id(s) for group in by.values() for s in rng.sample(group, min(per_narrative, len(group)))}
        spikes = [s for s in spikes if id(s) in picked]
    intro = (f"Spikes of `{db.name}` ({len(spikes)}; index parameters {params[0] if params else '?'}). "
             f"Top {TOP_HEADLINES} member articles per spike by narrative score.")  # fmt: skip
    sheet_lines = ["# Spikes to judge (publisher text: keep out of the repository)", "", intro, ""]
    out_lines = ["# Spike judgments", "", intro, "",
                 "Each spike: the figures that flagged it, its top member articles (article id, feed, guid; "
                 "titles are publisher text and stay out of the repository) and a judgment by reading: "
                 "`yes` when the top headlines are about the narrative and about something that happened "
                 "that day (a wave), `no` otherwise, with the reason in our own words.", ""]  # fmt: skip
    for s in spikes:
        head = (f"## {s.narrative_id} {s.day}: {s.articles} members, {(s.expected_articles or 0):.1f} "
                f"expected, {s.member_sources} sources, p {s.p_value or 0:.1e}")  # fmt: skip
        sheet_lines += [head, ""]
        out_lines += [head, ""]
        for h in s.headlines:
            sheet_lines.append(f"- [{h.article_id}] {h.title} ({h.feed}, {h.score:.2f})")
            out_lines.append(f"- {h.article_id} {h.feed} `{h.guid}`")
        sheet_lines.append("")
        out_lines += ["", "judgment: ", ""]
    sheet.write_text("\n".join(sheet_lines), encoding="utf-8")
    if out.exists():
        sys.exit(f"{out} exists: judgments are not overwritten (remove it or choose another --out)")
    out.write_text("\n".join(out_lines), encoding="utf-8")
    print(f"{len(spikes)} spikes: sheet {sheet}, judgments to fill in {out}")


def score(path: Path) -> dict[str, object]:
    """Precision per narrative from a filled-in judgment file."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # yes, no, unjudged
    narrative = None
    for line in path.read_text(encoding="utf-8").splitlines():
        head = HEADER.match(line)
        if head:
            narrative = head.group(1).rstrip(":")
            continue
        if narrative and line.lower().startswith("judgment:"):
            m = JUDGMENT.match(line.strip())
            counts[narrative][0 if m and m.group(1).lower() == "yes" else 1 if m else 2] += 1
            narrative = None
    result = {
        n: {"spikes": sum(c), "yes": c[0], "no": c[1], "unjudged": c[2],
            "precision": round(c[0] / (c[0] + c[1]), 3) if c[0] + c[1] else None}
        for n, c in sorted(counts.items())
    }  # fmt: skip
    return result


def main() -> None:
    """Command line: draw or score."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--db", type=Path, required=True)
    d.add_argument("--sheet", type=Path, required=True, help="reading sheet with titles (outside the repo)")
    d.add_argument("--out", type=Path, required=True, help="judgment file (ids only) for eval/")
    d.add_argument("--per-narrative", type=int, default=0, help="spikes per narrative (0 = all)")
    d.add_argument("--seed", type=int, default=1)
    s = sub.add_parser("score")
    s.add_argument("path", type=Path)
    args = parser.parse_args()
    if args.command == "draw":
        draw(args.db, args.sheet, args.out, args.per_narrative, args.seed)
    else:
        print(json.dumps(score(args.path), indent=1))


if __name__ == "__main__":
    main()
