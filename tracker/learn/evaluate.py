"""Precision, recall and F1 per narrative on a labelled file (``tracker eval --labels FILE``).

A labelled file is JSONL (one object a line) or CSV. Each item has either ``text``
(title, a blank line, then body; or just text) or ``title`` and optional ``body``,
plus ``labels``: the narrative ids it belongs to (a list in JSONL; in CSV a string
separated by ``;``, ``|`` or ``,``; empty for none). An optional ``id`` is echoed
in error messages. Optional ``stance`` (label -> -1/0/1) is scored on members, and an
optional ``sampled_by`` (the item's sampling stratum; ``random`` marks a random draw of
the real stream) lets ``tracker train`` re-weight thresholds to the real base rate.
"""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.base.errors import ConfigError
from tracker.base.settings import Settings
from tracker.enrich.classifier import ArticleResult, ArticleText, Classifier
from tracker.enrich.narrative_stage import split_article_text
from tracker.enrich.narratives import NarrativeSet


@dataclass(frozen=True)
class LabelledText:
    """One labelled item: the text the classifier reads and its gold narrative ids."""

    id: str
    title: str
    body: str
    labels: frozenset[str]
    #: Stance per label (1, 0 or -1) where the file gives one.
    stance: Mapping[str, int] = field(default_factory=dict)
    #: How the item was drawn (``sampled_by``; ``random`` = a random draw of the real stream).
    stratum: str = ""

    @property
    def article(self) -> ArticleText:
        """The item as classifier input."""
        return ArticleText(self.title, self.body)


def _labels(value: Any, where: str, path: Path) -> frozenset[str]:
    if value is None or value == "":
        return frozenset()
    if isinstance(value, str):
        for sep in (";", "|", ","):
            if sep in value:
                return frozenset(v.strip() for v in value.split(sep) if v.strip())
        return frozenset([value.strip()])
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(v.strip() for v in value if v.strip())
    raise ConfigError(
        f"{path}: {where}: labels {value!r} are not a list of narrative ids. Fix: write "
        '`"labels": ["ai_productivity"]` (JSONL) or `ai_productivity;crypto_legitimacy` (CSV).'
    )


def _item(row: dict[str, Any], where: str, path: Path) -> LabelledText:
    if row.get("text"):
        article = split_article_text(str(row["text"]))
        title, body = article.title, article.body
    elif row.get("title"):
        title, body = str(row["title"]), str(row.get("body") or "")
    else:
        raise ConfigError(
            f"{path}: {where}: no `text` (or `title`). Fix: give each item its text, e.g. "
            '`{"text": "...", "labels": [...]}`; for id-only label files run '
            "eval/narratives_eval.py, which resolves ids to text."
        )
    if "labels" not in row and "narratives" not in row:
        # A missing or misspelt key would silently make every item a negative and fit nothing.
        keys = ", ".join(sorted(str(k) for k in row)) or "none"
        raise ConfigError(
            f"{path}: {where}: no `labels` (its keys: {keys}). Fix: give each item its labels, "
            '`"labels": []` for an item in no narrative (CSV: a `labels` column).'
        )
    raw = row.get("labels", row.get("narratives"))
    labels = _labels(raw, where, path)
    stance_raw = row.get("stance") or {}
    if not isinstance(stance_raw, dict) or any(
        v not in (-1, 0, 1) or k not in labels for k, v in stance_raw.items()
    ):
        raise ConfigError(
            f"{path}: {where}: stance {stance_raw!r} is not a map from its labels to -1, 0 "
            'or 1. Fix: write e.g. `"stance": {"ai_productivity": 1}` or leave it out.'
        )
    return LabelledText(
        str(row.get("id") or where), title, body, labels, dict(stance_raw),
        str(row.get("sampled_by") or ""),
    )


def read_labels(path: Path) -> list[LabelledText]:
    """Read a labelled JSONL or CSV file (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: labelled file not found. Fix: check the --labels path.")
    items: list[LabelledText] = []
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=2):
                items.append(_item(row, f"line {i}", path))
    else:
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(
                        f"{path}: line {i} is not JSON ({exc.msg}). Fix: one JSON object per "
                        "line, or use a .csv file with `text` and `labels` columns."
                    ) from exc
                if not isinstance(row, dict):
                    raise ConfigError(f"{path}: line {i} is not a JSON object. Fix: one "
                                      "object per line.")
                items.append(_item(row, f"line {i}", path))
    if not items:
        raise ConfigError(f"{path}: no labelled items. Fix: add items with text and labels.")
    return items


def check_labels(items: Sequence[LabelledText], narratives: NarrativeSet, path: Path) -> None:
    """Raise ConfigError if an item names a narrative that is not defined."""
    known = set(narratives.ids)
    for item in items:
        unknown = item.labels - known
        if unknown:
            raise ConfigError(
                f"{path}: item {item.id} has unknown narrative ids {sorted(unknown)}. Fix: use "
                f"one of {', '.join(narratives.ids)} or add the narrative to narratives.yaml."
            )


@dataclass
class PRF:
    """Counts and precision/recall/F1 for one narrative."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def support(self) -> int:
        """Gold positives."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 0 when there are no gold positives."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float | int]:
        """JSON-able counts and rates."""
        return {
            "support": self.support,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def score_predictions(
    gold: Sequence[frozenset[str]],
    predicted: Sequence[frozenset[str]],
    narrative_ids: Sequence[str],
) -> dict[str, PRF]:
    """Per-narrative confusion counts for multi-label gold and predicted id sets."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    out = {nid: PRF() for nid in narrative_ids}
    for g, p in zip(gold, predicted, strict=True):
        for nid, prf in out.items():
            if nid in g and nid in p:
                prf.tp += 1
            elif nid in p:
                prf.fp += 1
            elif nid in g:
                prf.fn += 1
            else:
                prf.tn += 1
    return out


@dataclass
class EvalReport:
    """Result of :func:`evaluate`: per-narrative scores and what produced them."""

    path: str
    items: int
    model_version: str
    methods: dict[str, str]
    scores: dict[str, PRF]
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: Per narrative: rows of (bin low, bin high, items, mean score, observed member rate).
    reliability: dict[str, list[tuple[float, float, int, float, float]]] = field(
        default_factory=dict
    )
    #: Per narrative: (correct, judged) stance on gold members with a gold stance.
    stance: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able report."""
        return {
            "labels": self.path,
            "items": self.items,
            "model_version": self.model_version,
            "narratives": {
                nid: {
                    "method": self.methods[nid],
                    **prf.to_dict(),
                    "stance_accuracy": _ratio(self.stance.get(nid)),
                    "stance_judged": self.stance.get(nid, (0, 0))[1],
                    "reliability": [
                        {"bin": [lo, hi], "items": k, "mean_score": round(m, 4),
                         "member_rate": round(r, 4)}
                        for lo, hi, k, m, r in self.reliability.get(nid, [])
                    ],
                }
                for nid, prf in self.scores.items()
            },
            "errors": self.errors,
        }


def _ratio(pair: tuple[int, int] | None) -> float | None:
    return round(pair[0] / pair[1], 4) if pair and pair[1] else None


#: Score bins of the reliability table.
RELIABILITY_BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0001)


def reliability_table(
    scores: Sequence[float], gold: Sequence[bool]
) -> list[tuple[float, float, int, float, float]]:
    """Per score bin: items, mean score and the share that are gold members (calibration)."""
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(gold, dtype=bool)
    rows = []
    for lo, hi in itertools.pairwise(RELIABILITY_BINS):
        inside = (s >= lo) & (s < hi)
        if inside.any():
            rows.append((lo, min(hi, 1.0), int(inside.sum()), float(s[inside].mean()),
                         float(g[inside].mean())))
    return rows


def stance_class(value: float | None) -> int | None:
    """A stance in [-1, 1] as the labels' class: -1, 0 or 1 (|stance| < 1/3 is neutral)."""
    if value is None:
        return None
    return 0 if abs(value) < STANCE_NEUTRAL else (1 if value > 0 else -1)


#: |stance| below this counts as neutral (0) when compared with labels.
STANCE_NEUTRAL = 1.0 / 3.0


@contextmanager
def _bar(total: int, label: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    import click

    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def classify_items(
    classifier: Classifier,
    items: Sequence[LabelledText],
    *,
    batch_size: int = 64,
    progress: bool = False,
) -> list[ArticleResult]:
    """Classifier results per item (batched embedding)."""
    out: list[ArticleResult] = []
    with _bar(len(items), "classify", progress) as update:
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            out.extend(classifier.classify([i.article for i in batch]))
            update(len(batch))
    return out


def predict(
    classifier: Classifier,
    items: Sequence[LabelledText],
    *,
    batch_size: int = 64,
    progress: bool = False,
) -> list[frozenset[str]]:
    """The narrative ids the classifier says yes to, per item (batched embedding)."""
    results = classify_items(classifier, items, batch_size=batch_size, progress=progress)
    return [frozenset(s.narrative_id for s in r.scores if s.is_member) for r in results]


def evaluate(
    classifier: Classifier,
    items: Sequence[LabelledText],
    *,
    path: str = "",
    progress: bool = False,
    max_errors: int = 50,
) -> EvalReport:
    """Classify labelled items and compare with their gold labels (and stance, calibration)."""
    results = classify_items(classifier, items, progress=progress)
    predicted = [frozenset(s.narrative_id for s in r.scores if s.is_member) for r in results]
    ids = classifier.narratives.ids
    reliability = {
        nid: reliability_table(
            [r.get(nid).score for r in results], [nid in i.labels for i in items]
        )
        for nid in ids
    }
    stance: dict[str, tuple[int, int]] = {}
    for nid in ids:
        pairs = [
            (i.stance[nid], stance_class(r.get(nid).stance))
            for i, r in zip(items, results, strict=True)
            if nid in i.labels and nid in i.stance and r.get(nid).stance is not None
        ]
        if pairs:
            stance[nid] = (sum(g == p for g, p in pairs), len(pairs))
    scores = score_predictions([i.labels for i in items], predicted, ids)
    errors = [
        {
            "id": item.id,
            "missed": sorted(item.labels - pred),
            "spurious": sorted(pred - item.labels),
        }
        for item, pred in zip(items, predicted, strict=True)
        if item.labels != pred
    ][:max_errors]
    methods = {n.id: classifier.method(n) for n in classifier.narratives}
    return EvalReport(
        path, len(items), classifier.model_version, methods, scores, errors, reliability, stance
    )


def format_report(report: EvalReport) -> str:
    """A plain-text table of per-narrative precision, recall and F1."""
    lines = [
        f"{report.items} labelled items from {report.path}",
        f"model {report.model_version}",
        f"{'narrative':<24} {'support':>7} {'P':>6} {'R':>6} {'F1':>6} {'stance':>7}  method",
    ]
    for nid, prf in report.scores.items():
        acc = _ratio(report.stance.get(nid))
        st = f"{acc:.3f}" if acc is not None else "-"
        lines.append(
            f"{nid:<24} {prf.support:>7} {prf.precision:>6.3f} {prf.recall:>6.3f} "
            f"{prf.f1:>6.3f} {st:>7}  {report.methods[nid]}"
        )
    lines.append("")
    lines.append("reliability (score bin: items, mean score -> observed member rate)")
    for nid, rows in report.reliability.items():
        cells = "  ".join(f"[{lo:.1f},{hi:.1f}) {k}: {m:.2f}->{r:.2f}" for lo, hi, k, m, r in rows)
        lines.append(f"{nid:<24} {cells}")
    return "\n".join(lines)


def evaluate_file(
    labels_path: Path,
    classifier: Classifier,
    *,
    progress: bool = False,
) -> EvalReport:
    """Read a labelled file, check its narrative ids and evaluate ``classifier`` on it."""
    items = read_labels(labels_path)
    check_labels(items, classifier.narratives, Path(labels_path))
    return evaluate(classifier, items, path=str(labels_path), progress=progress)


def evaluate_labels(
    labels_path: Path, settings: Settings, *, use_head: bool = True, progress: bool = False
) -> EvalReport:
    """Evaluate the configured classifier (narratives.yaml, trained head, MiniLM) on a file."""
    from tracker.enrich.classifier import load_classifier

    classifier = load_classifier(settings.models_dir, use_head=use_head)
    return evaluate_file(labels_path, classifier, progress=progress)
