"""Draw real items, classify them with the shipped model and sample members to judge (issue 13).

Precision of 40 random members per narrative on the real data: a seeded random sample of
distinct items from every archive (the pool of ``eval/sample_narratives.py``), minus the
labelled items, is classified with the shipped classifier (models/narratives.yaml + the head);
40 random members per narrative (rotation: all it has, up to 40) are written OUTSIDE the
repository with their text for reading. The judgments (ids, yes/no, one-line reason) live in
``eval/members_<date>.jsonl`` and the precision per narrative in ``eval/MEMBERS.md``.

Usage: .venv/bin/python eval/sample_members.py --seed 1 --out /tmp/members
       .venv/bin/python eval/sample_members.py --score eval/members_2026-12-02.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "eval"))

from sample_narratives import load_pool  # noqa: E402

from tracker.enrich.classifier import ArticleText, load_classifier  # noqa: E402

LABELS = REPO / "eval" / "labels" / "narratives.jsonl"
ITEMS = 4000
PER_NARRATIVE = 40


def draw(seed: int, out: Path) -> None:
    """Sample, classify and write the members to judge (with text) under ``out``."""
    labelled = {
        (r["source"], r["key"])
        for r in (json.loads(line) for line in LABELS.read_text().splitlines() if line.strip())
    }
    pool = [p for p in load_pool() if (p["source"], p["key"]) not in labelled]
    rng = random.Random(seed)
    items = rng.sample(pool, ITEMS)
    clf = load_classifier(REPO / "models")
    articles = []
    for it in items:
        title, _, body = it["text"].partition("\n\n")
        articles.append(ArticleText(title, body))
    results = []
    for start in range(0, len(articles), 64):
        results.extend(clf.classify(articles[start : start + 64]))
    out.mkdir(parents=True, exist_ok=True)
    counts: Counter[str] = Counter()
    rows = []
    for nid in clf.narratives.ids:
        members = [i for i, r in enumerate(results) if r.get(nid).is_member]
        counts[nid] = len(members)
        for i in rng.sample(members, min(PER_NARRATIVE, len(members))):
            s = results[i].get(nid)
            rows.append({
                "narrative": nid, "source": items[i]["source"], "key": items[i]["key"],
                "score": s.score, "stance": s.stance, "text": items[i]["text"],
            })
    (out / "to_judge.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(json.dumps({"seed": seed, "items": ITEMS, "members": counts, "model": clf.model_version}))


def score(path: Path) -> None:
    """Precision per narrative from a judgments file (``correct`` true/false per row)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    by: dict[str, list[bool]] = {}
    for r in rows:
        by.setdefault(r["narrative"], []).append(bool(r["correct"]))
    for nid, ok in by.items():
        print(f"{nid}: {sum(ok)}/{len(ok)} = {sum(ok) / len(ok):.3f}")


def main() -> int:
    """Draw (``--seed``/``--out``) or score (``--score FILE``)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("/tmp/members"))
    ap.add_argument("--score", type=Path)
    args = ap.parse_args()
    if args.score:
        score(args.score)
    else:
        draw(args.seed, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
