"""Recall of SEntFiN's labelled entities by the entity tagger.

SEntFiN (``../shared/data/sentfin/SEntFiN.csv``) labels, per financial headline,
the entity strings a human marked (with a sentiment we ignore here). For each
labelled string we find where it occurs in its headline (case-insensitive) and
ask whether the tagger produced a mention there:

- exact: a mention covers exactly that span (ignoring case and a trailing 's);
- partial: a mention overlaps the span by at least one character;
- linked: the overlapping mention is linked to a gazetteer entity.

Labels that do not occur verbatim in their headline cannot be scored and are
counted separately. SEntFiN labels many generic phrases ("Mid caps", "banking",
"Market") that no NER tags, so recall is also reported for the labels that
look like names (first letter upper-case).

Run: ``.venv/bin/python eval/sentfin_recall.py [--csv PATH] [--limit N] [--json]``
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CSV = REPO.parent / "shared" / "data" / "sentfin" / "SEntFiN.csv"
# Some label cells are not valid Python literals, so pull the keys out with a regex.
_LABEL_RE = re.compile(
    r"""(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*:\s*'(?:positive|negative|neutral)'"""
)


@dataclass
class Counts:
    """Recall counts over one group of labels."""

    labels: int = 0
    exact: int = 0
    partial: int = 0
    linked: int = 0

    def rates(self) -> dict[str, float]:
        """Recall figures as fractions of the scorable labels."""
        n = max(self.labels, 1)
        return {"exact": self.exact / n, "partial": self.partial / n, "linked": self.linked / n}


@dataclass
class Report:
    """Everything the evaluation measured."""

    headlines: int = 0
    labels_total: int = 0
    labels_not_in_headline: int = 0
    all_labels: Counts = field(default_factory=Counts)
    name_like: Counts = field(default_factory=Counts)
    seconds: float = 0.0
    version: str = ""


def read_sentfin(path: Path, limit: int | None = None) -> list[tuple[str, list[str]]]:
    """(headline, labelled entity strings) pairs from the SEntFiN CSV."""
    rows = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            labels = [a or b for a, b in _LABEL_RE.findall(row["Decisions"])]
            rows.append((row["Title"], [lab.replace("\\'", "'") for lab in labels if lab]))
            if limit is not None and len(rows) >= limit:
                break
    return rows


def _norm(text: str) -> str:
    return re.sub(r"['’]s$", "", text.strip()).casefold()


def evaluate(rows: list[tuple[str, list[str]]]) -> Report:
    """Tag every headline and score each labelled entity string."""
    from tracker.base.settings import load_settings
    from tracker.enrich.entity_stage import EntityStage

    stage = EntityStage.from_settings(load_settings())
    report = Report(headlines=len(rows), version=stage.version)
    start = time.perf_counter()
    tagged = stage.tagger.tag([title for title, _ in rows])
    report.seconds = time.perf_counter() - start
    for (title, labels), result in zip(rows, tagged, strict=True):
        lowered = title.casefold()
        for label in labels:
            report.labels_total += 1
            at = lowered.find(label.casefold())
            if at < 0:
                report.labels_not_in_headline += 1
                continue
            end = at + len(label)
            overlapping = [m for m in result.mentions if m.start < end and at < m.end]
            groups = [report.all_labels] + ([report.name_like] if label[:1].isupper() else [])
            for counts in groups:
                counts.labels += 1
                if any(_norm(m.text) == _norm(label) for m in overlapping):
                    counts.exact += 1
                if overlapping:
                    counts.partial += 1
                if any(m.entity_id for m in overlapping):
                    counts.linked += 1
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; prints the recall report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="SEntFiN.csv path")
    parser.add_argument("--limit", type=int, help="score only the first N headlines")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        print(f"SEntFiN not found at {args.csv}; pass --csv PATH.", file=sys.stderr)
        return 2
    report = evaluate(read_sentfin(args.csv, args.limit))
    if args.json:
        print(json.dumps({**asdict(report), "all_rates": report.all_labels.rates(),
                          "name_like_rates": report.name_like.rates()}, indent=2))
        return 0
    print(f"SEntFiN entity recall ({report.version})")
    print(f"headlines {report.headlines}, labelled entities {report.labels_total}, "
          f"not found verbatim in their headline {report.labels_not_in_headline} (skipped)")
    for name, counts in (("all labels", report.all_labels), ("name-like", report.name_like)):
        r = counts.rates()
        print(f"  {name:<11} n={counts.labels:>6}  exact {r['exact']:.1%}  "
              f"partial {r['partial']:.1%}  linked {r['linked']:.1%}")
    print(f"tagging time {report.seconds:.1f}s ({report.headlines / report.seconds:.0f} headlines/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
