"""Evaluate narrative classification on the labelled set in eval/labels/.

The shipped labels hold ids only (source file + guid/link) and never the
publishers' text; this script resolves them against ../shared/data, writes
labelled JSONL files with text to a scratch directory and measures:

1. held-out: the head fitted on the ``train`` split (exactly what
   ``tracker train --labels OUT/train.jsonl`` does), evaluated with the same
   code as ``tracker eval --labels OUT/test.jsonl`` on the ``test`` split;
2. the untrained prototype + lexicon scores on the test split and on all items;
3. 5-fold cross-validation over all items (the head refitted on 4/5, scored on
   the 1/5 it did not see), a steadier figure for the rarer narratives.

Usage (from the repository root):

    .venv/bin/python eval/narratives_eval.py [--out DIR] [--write-head PATH] [--json]

``--out`` keeps the resolved files (default: a temporary directory, deleted);
``--write-head`` also saves the train-split head (this is how
models/heads/narratives.json is produced).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tracker.enrich.classifier import FEATURES, Classifier, load_classifier  # noqa: E402
from tracker.enrich.embeddings import CachedEmbedder, load_minilm  # noqa: E402
from tracker.enrich.head import save_head  # noqa: E402
from tracker.learn.evaluate import (  # noqa: E402
    PRF,
    LabelledText,
    evaluate,
    read_labels,
    score_predictions,
)
from tracker.learn.train import (  # noqa: E402
    article_inputs,
    f1_at,
    fit_head,
    fold_ids,
    labels_digest,
)

LABELS = REPO / "eval" / "labels" / "narratives.jsonl"
DATA = REPO.parent / "shared" / "data"


def item_key(row: dict[str, Any]) -> str | None:
    """The id an item is labelled under: its guid, else its link."""
    return row.get("guid") or row.get("link")


def resolve(labels_path: Path, data_dir: Path) -> list[dict[str, Any]]:
    """Label rows joined with their title and summary from the shared data (by path)."""
    rows = [json.loads(line) for line in labels_path.read_text().splitlines() if line.strip()]
    wanted: dict[str, set[str]] = {}
    for r in rows:
        wanted.setdefault(r["source"], set()).add(r["key"])
    texts: dict[tuple[str, str], tuple[str, str]] = {}
    for source, keys in wanted.items():
        with (data_dir / source).open(encoding="utf-8") as fh:
            for line in fh:
                item = json.loads(line)
                key = item_key(item)
                if key in keys:
                    if (source, key) in texts:
                        raise SystemExit(f"{source}: key {key} is not unique")
                    texts[(source, key)] = (item.get("title") or "", item.get("summary") or "")
    out = []
    for r in rows:
        found = texts.get((r["source"], r["key"]))
        if found is None:
            raise SystemExit(f"{r['source']}: key {r['key']} not found in {data_dir}")
        out.append(
            {
                "id": f"{r['source']}#{r['key']}",
                "title": found[0],
                "body": found[1],
                "labels": r["labels"],
                "stance": r.get("stance") or {},
                "sampled_by": r.get("sampled_by") or "",
                "split": r["split"],
            }
        )
    return out


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """One JSON object a line."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def table(title: str, scores: dict[str, PRF]) -> str:
    """Per-narrative P/R/F1 as a Markdown table."""
    lines = [
        f"### {title}",
        "",
        "| narrative | support | precision | recall | F1 |",
        "|---|---|---|---|---|",
    ]
    for nid, prf in scores.items():
        lines.append(
            f"| {nid} | {prf.support} | {prf.precision:.3f} | {prf.recall:.3f} | {prf.f1:.3f} |"
        )
    return "\n".join(lines)


def predictions(
    clf: Classifier, features: dict[str, np.ndarray], means: np.ndarray, rows: np.ndarray
) -> list[frozenset[str]]:
    """Yes/no per narrative from precomputed features (same scoring as Classifier.classify)."""
    member: dict[str, np.ndarray] = {}
    for n in clf.narratives:
        scores, threshold = clf.score_features(n, features[n.id][rows], means[rows])
        member[n.id] = scores >= threshold
    return [frozenset(nid for nid in member if member[nid][i]) for i in range(int(rows.sum()))]


def keyword_baseline(
    clf: Classifier,
    features: dict[str, np.ndarray],
    gold: Sequence[frozenset[str]],
    train: np.ndarray,
    test: np.ndarray,
) -> list[frozenset[str]]:
    """The lexicon alone (squashed positive lexicon weight), thresholded for F1 on train."""
    lex = FEATURES.index("lexicon")
    member: dict[str, np.ndarray] = {}
    for n in clf.narratives:
        x = features[n.id][:, lex]
        y = np.array([n.id in g for g in gold], dtype=np.float64)
        grid = np.unique(x[train])
        best = max(grid, key=lambda t: (f1_at(y[train], x[train], float(t)), -float(t)))
        member[n.id] = x[test] >= best
    return [frozenset(nid for nid in member if member[nid][i]) for i in range(int(test.sum()))]


def bootstrap_prf(
    gold: Sequence[frozenset[str]], pred: Sequence[frozenset[str]], nid: str,
    seed: int, rounds: int = 2000,
) -> dict[str, list[float]]:
    """95% percentile bootstrap intervals (items resampled) of precision, recall and F1."""
    g = np.array([nid in x for x in gold])
    p = np.array([nid in x for x in pred])
    rng = np.random.default_rng(seed)
    stats = []
    for _ in range(rounds):
        idx = rng.integers(0, len(g), len(g))
        tp = float(np.sum(g[idx] & p[idx]))
        fp = float(np.sum(~g[idx] & p[idx]))
        fn = float(np.sum(g[idx] & ~p[idx]))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        stats.append((prec, rec, 2 * tp / (2 * tp + fp + fn) if tp else 0.0))
    arr = np.array(stats)
    lo, hi = np.percentile(arr, [2.5, 97.5], axis=0)
    return {k: [round(float(lo[j]), 3), round(float(hi[j]), 3)]
            for j, k in enumerate(("precision", "recall", "f1"))}


def readme_table(report: Any, intervals: dict[str, Any], base_f1: dict[str, float]) -> str:
    """The README's held-out table: P/R/F1 with 95% intervals, baseline F1, stance accuracy."""
    lines = [
        "| narrative | test positives | precision (95% CI) | recall (95% CI) | F1 (95% CI) "
        "| keyword baseline F1 | stance accuracy (members) |",
        "|---|---|---|---|---|---|---|",
    ]
    narr = report.to_dict()["narratives"]
    for nid, prf in report.scores.items():
        ci = intervals[nid]
        acc = narr[nid]["stance_accuracy"]
        st = f"{acc:.2f} ({narr[nid]['stance_judged']})" if acc is not None else "-"
        lines.append(
            f"| {nid} | {prf.support} | {prf.precision:.2f} ({ci['precision'][0]:.2f}-"
            f"{ci['precision'][1]:.2f}) | {prf.recall:.2f} ({ci['recall'][0]:.2f}-"
            f"{ci['recall'][1]:.2f}) | {prf.f1:.2f} ({ci['f1'][0]:.2f}-{ci['f1'][1]:.2f}) "
            f"| {base_f1[nid]:.2f} | {st} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Resolve the labels, run the three evaluations and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, help="keep the resolved JSONL files here")
    ap.add_argument("--write-head", type=Path, help="save the train-split head here")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    ap.add_argument("--no-cv", action="store_true", help="skip the k-fold cross-validation")
    args = ap.parse_args(argv)

    rows = resolve(args.labels, args.data)
    tmp = None
    out = args.out
    if out is None:
        tmp = tempfile.TemporaryDirectory()
        out = Path(tmp.name)
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "all.jsonl", rows)
    for split in ("train", "test"):
        write_jsonl(out / f"{split}.jsonl", [r for r in rows if r["split"] == split])

    embedder = CachedEmbedder(load_minilm())
    prior = load_classifier(REPO / "models", embedder, use_head=False)
    items: list[LabelledText] = read_labels(out / "all.jsonl")
    gold = [i.labels for i in items]
    is_test = np.array([r["split"] == "test" for r in rows])
    # Embed each split in file order, exactly as `tracker train`/`tracker eval` batch them,
    # so the head fitted here is bit-for-bit the one `tracker train` writes.
    features: dict[str, np.ndarray] = {}
    means = np.zeros((len(items), embedder.dim), dtype=np.float32)
    titles = np.zeros((len(items), embedder.dim), dtype=np.float32)
    for mask in (~is_test, is_test):
        rows_idx = np.flatnonzero(mask)
        f, m, t = article_inputs(prior, [items[i].article for i in rows_idx], progress=True)
        for nid, values in f.items():
            features.setdefault(nid, np.zeros((len(items), values.shape[1])))[rows_idx] = values
        means[rows_idx] = m
        titles[rows_idx] = t

    stance_lex = prior.stance_inputs([i.article for i in items])

    # 1. Held-out: fit on train, evaluate on test with the library's evaluate().
    train = ~is_test
    fitted = fit_head(
        prior, {k: v[train] for k, v in features.items()}, means[train],
        [g for g, t in zip(gold, train, strict=True) if t],
        titles=titles[train], stances=[i.stance for i, t in zip(items, train, strict=True) if t],
        stance_lexicon={k: v[train] for k, v in stance_lex.items()},
        strata=[i.stratum for i, t in zip(items, train, strict=True) if t],
        labels_sha256=labels_digest(out / "train.jsonl"),
    )
    if args.write_head:
        save_head(fitted.head, args.write_head)
    held = Classifier(prior.narratives, embedder, fitted.head)
    test_items = [i for i, t in zip(items, is_test, strict=True) if t]
    held_report = evaluate(held, test_items, path=str(out / "test.jsonl"))
    held_pred = predictions(held, features, means, is_test)
    test_gold = [i.labels for i in test_items]
    baseline = keyword_baseline(prior, features, gold, train, is_test)
    intervals = {
        nid: bootstrap_prf(test_gold, held_pred, nid, seed=13) for nid in prior.narratives.ids
    }
    base_f1 = {
        nid: score_predictions(test_gold, baseline, prior.narratives.ids)[nid].f1
        for nid in prior.narratives.ids
    }

    # 2. Untrained prototype + lexicon scoring.
    prior_test = score_predictions(
        [i.labels for i in test_items],
        predictions(prior, features, means, is_test),
        prior.narratives.ids,
    )
    everything = np.ones(len(items), dtype=bool)
    prior_all = score_predictions(
        gold, predictions(prior, features, means, everything), prior.narratives.ids
    )

    # 3. k-fold cross-validation over all items.
    folds = fold_ids(len(items), args.folds, seed=7)
    cv_pred: list[frozenset[str]] = [frozenset()] * len(items)
    for k in range(0 if args.no_cv else args.folds):
        tr = folds != k
        fit = fit_head(prior, {n: v[tr] for n, v in features.items()}, means[tr],
                       [g for g, t in zip(gold, tr, strict=True) if t],
                       strata=[i.stratum for i, t in zip(items, tr, strict=True) if t])
        clf = Classifier(prior.narratives, embedder, fit.head)
        fold_pred = predictions(clf, features, means, ~tr)
        for idx, pred in zip(np.flatnonzero(~tr), fold_pred, strict=True):
            cv_pred[idx] = pred
    cv = score_predictions(gold, cv_pred, prior.narratives.ids)

    summary = {
        "items": len(items),
        "train": int(train.sum()),
        "test": int(is_test.sum()),
        "head_train_split": fitted.head.version,
        "held_out_test": {k: v.to_dict() for k, v in held_report.scores.items()},
        "held_out_methods": held_report.methods,
        "held_out_intervals": intervals,
        "held_out_stance": held_report.to_dict()["narratives"],
        "keyword_baseline_test_f1": {k: round(v, 4) for k, v in base_f1.items()},
        "prior_test": {k: v.to_dict() for k, v in prior_test.items()},
        "prior_all": {k: v.to_dict() for k, v in prior_all.items()},
        f"cv{args.folds}_all": {k: v.to_dict() for k, v in cv.items()},
        "fits": {k: v.to_dict() for k, v in fitted.fits.items()},
        "embedder_cache": {"hits": embedder.hits, "misses": embedder.misses},
    }
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{len(items)} labelled items ({int(train.sum())} train, {int(is_test.sum())} test); "
              f"train-split head {fitted.head.version}\n")
        print(table("Held-out test split, head fitted on the train split", held_report.scores))
        print()
        print(readme_table(held_report, intervals, base_f1))
        print()
        print(table("Test split, prototype + lexicon only (no head)", prior_test))
        print()
        print(table("All items, prototype + lexicon only (no head)", prior_all))
        print()
        if not args.no_cv:
            title = f"{args.folds}-fold cross-validation over all items (head refitted per fold)"
            print(table(title, cv))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
