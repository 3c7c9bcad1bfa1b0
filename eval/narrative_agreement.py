"""Inter-annotator agreement on the narrative labels (issue 13): Cohen's kappa per narrative.

Compares the 300 items labelled twice: the first pass (``first_pass`` where a later
consistency review changed the item, else ``labels``) and the independent second pass in
``narratives_second_pass.jsonl``; also the final (reviewed) labels against the second pass.
95% intervals by bootstrap over items (2,000 resamples, fixed seed).

Usage: .venv/bin/python eval/narrative_agreement.py [--json]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

LABELS = Path(__file__).resolve().parent / "labels"
NARRATIVES = ("ai_productivity", "crypto_legitimacy", "fed_easing_liquidity", "ai_to_crypto_rotation")


def cohen_kappa(pairs: list[tuple[Any, Any]]) -> float:
    """Cohen's kappa of paired categorical judgments (1.0 when both raters are constant and agree)."""
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    ca, cb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def interval(pairs: list[tuple[Any, Any]], seed: int = 7, n_boot: int = 2000) -> tuple[float, float]:
    """Bootstrap 95% interval of kappa over items."""
    rng = random.Random(seed)
    values = sorted(cohen_kappa([pairs[rng.randrange(len(pairs))] for _ in pairs]) for _ in range(n_boot))
    return values[int(0.025 * n_boot)], values[int(0.975 * n_boot) - 1]


def main() -> None:
    """Print kappa per narrative for topic membership and for stance on shared members."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    main_rows = {(r["source"], r["key"]): r for r in map(json.loads, (LABELS / "narratives.jsonl").open())}
    second = [json.loads(line) for line in (LABELS / "narratives_second_pass.jsonl").open()]
    out: dict[str, Any] = {"items": len(second), "narratives": {}}
    for nid in NARRATIVES:
        result: dict[str, Any] = {}
        for which in ("first_pass", "final"):
            pairs, stance = [], []
            for b in second:
                a = main_rows[(b["source"], b["key"])]
                if which == "first_pass" and "first_pass" in a:
                    a = a["first_pass"]
                pairs.append((nid in a["labels"], nid in b["labels"]))
                if nid in a["labels"] and nid in b["labels"]:
                    stance.append((a["stance"][nid], b["stance"][nid]))
            low, high = interval(pairs)
            result[which] = {
                "kappa": round(cohen_kappa(pairs), 3), "ci95": [round(low, 3), round(high, 3)],
                "positives": [sum(a for a, _ in pairs), sum(b for _, b in pairs)],
                "stance_items": len(stance),
                "stance_agreement": round(sum(a == b for a, b in stance) / len(stance), 3) if stance else None,
                "stance_kappa": round(cohen_kappa(stance), 3) if stance else None,
            }
        out["narratives"][nid] = result
    if args.json:
        print(json.dumps(out, indent=1))
        return
    print(f"{out['items']} items labelled twice (independent passes)")
    for nid, res in out["narratives"].items():
        f, g = res["first_pass"], res["final"]
        print(f"{nid:24s} kappa {f['kappa']:.3f} [{f['ci95'][0]:.2f}, {f['ci95'][1]:.2f}]  positives {f['positives']}  "
              f"stance agreement {f['stance_agreement']} (n={f['stance_items']})  | final vs second {g['kappa']:.3f}")


if __name__ == "__main__":
    main()
