"""Fit the narrative head (``tracker train --labels FILE``) and store it safely.

The head is one L2-regularised logistic regression per narrative over the
classifier's article features (see :data:`tracker.enrich.classifier.FEATURES`), optionally
with the article's mean embedding appended. Regularisation strength and the
yes/no threshold are chosen by k-fold cross-validation on the training file (the
threshold that maximises out-of-fold F1), so the stored threshold is calibrated on
predictions the model did not see. Narratives with too few positive examples keep
the untrained prototype + lexicon score.

Heads are saved as JSON (numbers only, never pickle); the version is a hash of the
content, so retraining on the same labels gives the same version and does not make
``tracker enrich`` re-score anything.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.base.settings import Settings
from tracker.enrich.classifier import FEATURES, Classifier
from tracker.enrich.head import HEAD_FILE, Head, NarrativeHead, head_version, save_head

DEFAULT_LAMBDAS = (0.3, 1.0, 3.0)


def fit_logistic(
    x: np.ndarray, y: np.ndarray, lam: float, iterations: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """L2 logistic regression by Newton's method on standardised inputs.

    Returns (mean, scale, coef, intercept); the intercept is not penalised.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    a = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    theta = np.zeros(a.shape[1])
    reg = np.full(a.shape[1], float(lam))
    reg[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ theta, -40, 40)))
        grad = a.T @ (p - y) + reg * theta
        hess = (a * (p * (1 - p) + 1e-9)[:, None]).T @ a + np.diag(reg + 1e-8)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if float(np.abs(step).max()) < 1e-7:
            break
    return mean, scale, theta[:-1], float(theta[-1])


def _predict(model: tuple[np.ndarray, np.ndarray, np.ndarray, float], x: np.ndarray) -> np.ndarray:
    mean, scale, coef, intercept = model
    z = ((x - mean) / scale) @ coef + intercept
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def fold_ids(n: int, folds: int, seed: int = 0) -> np.ndarray:
    """A fold number per row, deterministic for a seed."""
    order = np.random.RandomState(seed).permutation(n)
    ids = np.empty(n, dtype=int)
    ids[order] = np.arange(n) % folds
    return ids


def out_of_fold(
    x: np.ndarray, y: np.ndarray, lam: float, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Scores for every row from a model fitted without that row's fold."""
    ids = fold_ids(len(y), folds, seed)
    out = np.zeros(len(y))
    for k in range(folds):
        test = ids == k
        if test.all() or not test.any():
            continue
        out[test] = _predict(fit_logistic(x[~test], y[~test], lam), x[test])
    return out


def f1_at(y: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """F1 of the yes/no decision ``scores >= threshold``."""
    pred = scores >= threshold
    tp = int(np.sum(pred & (y > 0)))
    fp = int(np.sum(pred & (y <= 0)))
    fn = int(np.sum(~pred & (y > 0)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def best_threshold(y: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """The threshold on a 0.05 grid that maximises F1 (ties: the middle one), and that F1."""
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    f1s = np.array([f1_at(y, scores, t) for t in grid])
    best = np.flatnonzero(f1s == f1s.max())
    # Among equally good cuts take the middle: least sensitive to a shift in scores.
    t = float(grid[best[len(best) // 2]])
    return t, float(f1s.max())


@dataclass
class NarrativeFit:
    """How one narrative's head was chosen (or why it was not fitted)."""

    positives: int
    items: int
    fitted: bool
    reason: str = ""
    lam: float | None = None
    threshold: float | None = None
    cv_f1: float | None = None
    prior_f1: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}


@dataclass
class TrainReport:
    """What :func:`train_head` produced."""

    head: Head
    fits: dict[str, NarrativeFit] = field(default_factory=dict)
    path: Path | None = None


def fit_head(
    classifier: Classifier,
    features: dict[str, np.ndarray],
    embeddings: np.ndarray,
    labels: Sequence[frozenset[str]],
    *,
    min_positives: int = 15,
    lambdas: Sequence[float] = DEFAULT_LAMBDAS,
    folds: int = 5,
    with_embedding: bool = False,
    labels_sha256: str = "",
) -> TrainReport:
    """Fit one head per narrative from precomputed article features and embeddings."""
    heads: dict[str, NarrativeHead] = {}
    fits: dict[str, NarrativeFit] = {}
    for n in classifier.narratives:
        y = np.array([n.id in lab for lab in labels], dtype=np.float64)
        pos = int(y.sum())
        feats = features[n.id]
        prior_t = float(n.scoring["threshold"])
        prior_f1 = f1_at(y, Classifier.prior(n, feats), prior_t)
        if pos < min_positives or len(y) - pos < min_positives:
            fits[n.id] = NarrativeFit(
                pos, len(y), False,
                reason=f"{pos} positives < {min_positives}: kept prototype+lexicon scoring",
                prior_f1=round(prior_f1, 4),
            )
            continue
        x = np.hstack([feats, embeddings]) if with_embedding else feats
        best: tuple[float, float, float] | None = None
        for lam in lambdas:
            oof = out_of_fold(x, y, lam, folds)
            t, f1 = best_threshold(y, oof)
            if best is None or f1 > best[0]:
                best = (f1, lam, t)
        assert best is not None
        cv_f1, lam, threshold = best
        mean, scale, coef, intercept = fit_logistic(x, y, lam)
        heads[n.id] = NarrativeHead(n.definition_hash, mean, scale, coef, intercept, threshold)
        fits[n.id] = NarrativeFit(
            pos, len(y), True, lam=lam, threshold=threshold, cv_f1=round(cv_f1, 4),
            prior_f1=round(prior_f1, 4),
        )
    metadata: dict[str, object] = {
        "features": list(FEATURES) + (["embedding"] if with_embedding else []),
        "with_embedding": with_embedding,
        "labels_sha256": labels_sha256,
        "items": len(labels),
        "folds": folds,
        "fits": {k: v.to_dict() for k, v in fits.items()},
    }
    head = Head(classifier.embedder.name, classifier.embedder.dim, "", heads, metadata)
    head = Head(head.embedder, head.dim, head_version(head), heads, metadata)
    return TrainReport(head, fits)


def labels_digest(path: Path) -> str:
    """sha256 of a labels file, recorded in the head so a fit can be traced to its data."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train_head(
    labels_path: Path,
    classifier: Classifier,
    out: Path,
    *,
    min_positives: int = 15,
    with_embedding: bool = False,
    progress: bool = False,
) -> TrainReport:
    """Read labelled texts, fit the head on them and save it to ``out``."""
    from tracker.learn.evaluate import check_labels, read_labels

    items = read_labels(labels_path)
    check_labels(items, classifier.narratives, Path(labels_path))
    features, embeddings = article_inputs(classifier, [i.article for i in items], progress)
    report = fit_head(
        classifier,
        features,
        embeddings,
        [i.labels for i in items],
        min_positives=min_positives,
        with_embedding=with_embedding,
        labels_sha256=labels_digest(labels_path),
    )
    report.path = save_head(report.head, out)
    return report


def article_inputs(
    classifier: Classifier, articles: Sequence[Any], progress: bool = False, batch_size: int = 64
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Features and mean embeddings for many articles, in batches (with a progress bar)."""
    feats: dict[str, list[np.ndarray]] = {n.id: [] for n in classifier.narratives}
    means: list[np.ndarray] = []
    bar: Any = None
    if progress:
        import click

        bar = click.progressbar(length=len(articles), label="embed", file=sys.stderr)
        bar.__enter__()
    try:
        for start in range(0, len(articles), batch_size):
            batch = articles[start : start + batch_size]
            f, m = classifier.article_inputs(batch)
            for nid in feats:
                feats[nid].append(f[nid])
            means.append(m)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return {k: np.vstack(v) for k, v in feats.items()}, np.vstack(means)


def format_train_report(report: TrainReport) -> str:
    """Plain-text summary of a fit: per narrative, cross-validated F1 and threshold."""
    lines = [f"head {report.head.version} -> {report.path}"]
    lines.append(f"{'narrative':<24} {'pos':>4} {'cv F1':>6} {'prior F1':>8} {'thresh':>6}  note")
    for nid, fit in report.fits.items():
        cv = f"{fit.cv_f1:.3f}" if fit.cv_f1 is not None else "-"
        th = f"{fit.threshold:.2f}" if fit.threshold is not None else "-"
        prior = f"{fit.prior_f1:.3f}" if fit.prior_f1 is not None else "-"
        note = fit.reason or f"lambda={fit.lam}"
        lines.append(f"{nid:<24} {fit.positives:>4} {cv:>6} {prior:>8} {th:>6}  {note}")
    return "\n".join(lines)


def train_from_settings(
    labels_path: Path,
    settings: Settings,
    *,
    out: Path | None = None,
    min_positives: int = 15,
    with_embedding: bool = False,
    progress: bool = False,
) -> TrainReport:
    """Fit the head for the configured narratives and save it (default: models/heads/)."""
    from tracker.enrich.classifier import load_classifier

    classifier = load_classifier(settings.models_dir, use_head=False)
    # Written to the user's models folder (./models or TRACKER_MODELS), never looked up: the
    # lookup falls back to the packaged head, which a training run must not overwrite.
    target = out if out is not None else Path(settings.models_dir) / HEAD_FILE
    return train_head(
        labels_path, classifier, target, min_positives=min_positives,
        with_embedding=with_embedding, progress=progress,
    )
