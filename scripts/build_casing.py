"""Build ``models/common_words.txt``: words that news text writes in lower case.

Title-Case headlines ("Fed's Schmid Says Inflation Warrants Keeping Rates Unchanged")
capitalise every word, so casing no longer tells a name from a common word and the
statistical NER tags fragments. The entities stage re-cases such headlines before NER
(``tracker.enrich.headlines``); this table is its prior: a word is common when, in the
running text of real feeds, it is written in lower case at least ``--min-share`` of the
times it appears away from a sentence start, over at least ``--min-count`` such places.

Counts come from every ``*.items.jsonl`` under ``../shared/data`` (titles that are not
Title-Case, and summaries), skipping the items of the entity evaluation set
(eval/labels/entities.jsonl), so the table never learns from evaluated texts. Only
words and nothing else go into the file.

    .venv/bin/python scripts/build_casing.py [--data ../shared/data] [--out models/common_words.txt]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "eval"))

from sample_entities import is_title_case, item_key  # noqa: E402

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"(?<![\w.'’-])([A-Za-z][a-z]+)(?![\w'’-]*\w)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”‘(\[|—–-]\s*|\n)\s*$")


def default_data() -> Path:
    """``../shared/data`` beside the checkout (or beside a git worktree's folder)."""
    for base in (REPO.parent, REPO.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return REPO.parent / "shared" / "data"


def count(text: str, lower: Counter[str], upper: Counter[str]) -> None:
    """Count lower- and capitalised occurrences of plain words away from sentence starts."""
    for m in _WORD.finditer(text):
        word = m.group(1)
        if _SENTENCE_START.search(text[max(0, m.start() - 3) : m.start()]) or m.start() == 0:
            continue
        (lower if word[0].islower() else upper)[word.lower()] += 1


def main(argv: list[str] | None = None) -> int:
    """Count casing over the shared data and write the common-word list."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--out", type=Path, default=REPO / "models" / "common_words.txt")
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--min-share", type=float, default=0.5)
    args = ap.parse_args(argv)
    skip = {(r["source"], r["key"]) for r in map(json.loads, (REPO / "eval" / "labels" /
            "entities.jsonl").read_text(encoding="utf-8").splitlines())}
    lower: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    files = sorted(args.data.glob("*/*.items.jsonl"))
    for path in files:
        source = str(path.relative_to(args.data))
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if (source, item_key(row)) in skip:
                    continue
                title = html.unescape(row.get("title") or "")
                if not is_title_case(title):
                    count(title, lower, upper)
                count(html.unescape(_TAG.sub(" ", row.get("summary") or "")), lower, upper)
    words = sorted(
        w for w in lower.keys() | upper.keys()
        if lower[w] + upper[w] >= args.min_count
        and lower[w] / (lower[w] + upper[w]) >= args.min_share
    )
    header = (
        "# Words news text writes in lower case (see scripts/build_casing.py); one a line.\n"
        f"# Built from {len(files)} item files of the shared real-data archives: a word is listed\n"
        f"# when at least {args.min_share:.0%} of its {args.min_count}+ occurrences away from a "
        "sentence start are lower case.\n"
    )
    args.out.write_text(header + "\n".join(words) + "\n", encoding="utf-8")
    print(f"{len(words)} common words from {len(files)} files -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
