"""Fit the narrative head (``tracker train --labels FILE``) and store it safely.

The head is one L2-regularised logistic regression per narrative over the
classifier's article features (see :data:`tracker.enrich.classifier.FEATURES`), optionally
with the article's mean embedding appended. Regularisation strength and the
yes/no threshold are chosen by k-fold cross-validation on the training file (the
threshold that maximises out-of-fold F1, with items re-weighted to the real stream's
base rate when the file marks a ``random`` stratum), so the stored threshold is calibrated
on predictions the model did not see. The stance model reads the narrative's
``stance_lexicon`` features beside the sentence vectors. The narrative anchors' vectors are
stored in the head so loading it needs no embedding. Narratives with too few positive examples keep
the untrained prototype + lexicon score.

Heads are saved as JSON (numbers only, never pickle); the version is a hash of the
content, so retraining on the same labels gives the same version and does not make
``tracker enrich`` re-score anything.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.base.errors import ConfigError
from tracker.base.settings import Settings
from tracker.enrich.classifier import FEATURES, STANCE_FEATURES, Classifier
from tracker.enrich.head import (
    HEAD_FILE,
    STANCE_CLASSES,
    Head,
    NarrativeHead,
    StanceHead,
    head_version,
    save_head,
)

#: Narratives whose ``require`` groups are a hard rule (issue 13: both sides must be named).
GATED = frozenset({"ai_to_crypto_rotation"})


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))

DEFAULT_LAMBDAS = (0.3, 1.0, 3.0)
#: With 384 embedding inputs beside the 9 features, stronger penalties (chosen by CV on train).
EMBEDDING_LAMBDAS = (10.0, 30.0, 100.0)
#: Inputs whose spread is below this are not standardised (MiniLM has dead dimensions with
#: spread ~1e-9: dividing by it would turn float noise into huge inputs).
MIN_SCALE = 1e-4
#: The inverse penalty of the stance model (multinomial logistic regression); with the weight
#: below, chosen by 5-fold CV on the train split's members (issue 13 round 2).
STANCE_C = 0.1
#: The stance lexicon features are standardised then multiplied by this, so the penalty on them
#: is 1/100 of that on the 768 vector inputs (few, direct inputs must not drown).
STANCE_LEXICON_WEIGHT = 10.0
#: The random stratum needs this many members of a narrative before its rate is trusted as the
#: stream's prevalence (rotation has 1 or 2: it keeps its unweighted precision-floor rule).
MIN_RANDOM_POSITIVES = 10
#: Stance needs this many labelled members per narrative.
MIN_STANCE_MEMBERS = 15
#: Gated narratives (``require`` as a hard rule) pick the best-F1 threshold at this precision.
GATED_MIN_PRECISION = 0.8
#: The ``sampled_by`` value of items drawn at random from the real stream.
RANDOM_STRATUM = "random"


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
    scale[scale < MIN_SCALE] = 1.0
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


def f1_at(
    y: np.ndarray, scores: np.ndarray, threshold: float, weights: np.ndarray | None = None
) -> float:
    """F1 of the yes/no decision ``scores >= threshold`` (items counted with ``weights``)."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    pred = scores >= threshold
    tp = float(np.sum(w[pred & (y > 0)]))
    fp = float(np.sum(w[pred & (y <= 0)]))
    fn = float(np.sum(w[~pred & (y > 0)]))
    return 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0


def precision_at(
    y: np.ndarray, scores: np.ndarray, threshold: float, weights: np.ndarray | None = None
) -> float:
    """Precision of the yes/no decision ``scores >= threshold`` (1.0 when nothing is chosen)."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    pred = scores >= threshold
    return float(np.sum(w[pred & (y > 0)]) / np.sum(w[pred])) if pred.any() else 1.0


def stream_weights(y: np.ndarray, strata: Sequence[str] | None) -> tuple[np.ndarray | None, float]:
    """Class weights that give the labelled items the real stream's base rate, and that rate.

    The labelled set is enriched with positives (keyword and embedding strata); only the
    ``random`` stratum is a random draw of the real stream, so its member rate estimates the
    stream's prevalence p. Positives get weight p / (their share), negatives (1 - p) / (their
    share): a prior-shift correction that keeps the within-class score distributions as
    labelled. ``None`` when there is no random stratum or it has no member (no estimate).
    """
    if strata is None:
        return None, float("nan")
    rnd = np.array([s == RANDOM_STRATUM for s in strata])
    if not rnd.any():
        return None, float("nan")
    prevalence = float(np.mean(y[rnd] > 0))
    share = float(np.mean(y > 0))
    if prevalence <= 0 or share <= 0 or share >= 1:
        return None, prevalence
    w = np.where(y > 0, prevalence / share, (1 - prevalence) / (1 - share))
    return w, prevalence


def best_threshold(
    y: np.ndarray,
    scores: np.ndarray,
    min_precision: float = 0.0,
    weights: np.ndarray | None = None,
) -> tuple[float, float]:
    """The threshold on a 0.05 grid that maximises F1 (ties: the middle one), and that F1.

    With ``min_precision`` only cuts whose precision reaches it compete (if any does);
    ``weights`` count items unequally (see :func:`stream_weights`).
    """
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    f1s = np.array([f1_at(y, scores, t, weights) for t in grid])
    if min_precision > 0:
        ok = np.array(
            [precision_at(y, scores, t, weights) >= min_precision for t in grid]
        ) & (f1s > 0)
        if ok.any():
            f1s = np.where(ok, f1s, -1.0)
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
    #: Member rate of the random stratum the threshold was weighted to (None: unweighted).
    stream_prevalence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary."""
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}


@dataclass
class TrainReport:
    """What :func:`train_head` produced."""

    head: Head
    fits: dict[str, NarrativeFit] = field(default_factory=dict)
    path: Path | None = None


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling (a, b): P = sigmoid(a z + b), fitted on out-of-fold logits."""
    from sklearn.linear_model import LogisticRegression

    # Effectively unpenalised: two parameters, thousands of rows.
    lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    lr.fit(logits.reshape(-1, 1), (y > 0).astype(int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def fit_stance(x: np.ndarray, stance: np.ndarray, n_lexicon: int = 0) -> StanceHead | None:
    """Multinomial logistic regression of stance (-1/0/1) on members' inputs.

    Inputs: ``n_lexicon`` stance lexicon features first (up-weighted, see
    ``STANCE_LEXICON_WEIGHT``), then the [mean, title] vectors.
    """
    from sklearn.linear_model import LogisticRegression

    present = sorted({int(v) for v in stance})
    if len(stance) < MIN_STANCE_MEMBERS or present != list(STANCE_CLASSES):
        return None
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < MIN_SCALE] = 1.0
    # Dividing the scale is multiplying the standardised input: a lighter penalty on it.
    scale[:n_lexicon] /= STANCE_LEXICON_WEIGHT
    lr = LogisticRegression(C=STANCE_C, solver="lbfgs", max_iter=5000)
    lr.fit((x - mean) / scale, stance.astype(int))
    order = [list(lr.classes_).index(c) for c in STANCE_CLASSES]
    return StanceHead(mean, scale, lr.coef_[order].copy(), lr.intercept_[order].copy())


def fit_head(
    classifier: Classifier,
    features: dict[str, np.ndarray],
    embeddings: np.ndarray,
    labels: Sequence[frozenset[str]],
    *,
    titles: np.ndarray | None = None,
    stances: Sequence[Mapping[str, int]] | None = None,
    stance_lexicon: Mapping[str, np.ndarray] | None = None,
    strata: Sequence[str] | None = None,
    min_positives: int = 15,
    lambdas: Sequence[float] | None = None,
    folds: int = 5,
    with_embedding: bool = True,
    labels_sha256: str = "",
) -> TrainReport:
    """Fit one head per narrative from precomputed article features and embeddings.

    Per narrative: penalty by k-fold CV F1 on these labels only, Platt scaling on the
    out-of-fold logits, the threshold on the calibrated out-of-fold scores (with ``strata``,
    items re-weighted to the real stream's base rate, see :func:`stream_weights`), and (with
    ``titles`` and ``stances``) a stance model on the labelled members (with
    ``stance_lexicon`` features first when given).
    """
    if lambdas is None:
        lambdas = EMBEDDING_LAMBDAS if with_embedding else DEFAULT_LAMBDAS
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
        gate = n.id in GATED and bool(n.require)
        gate_mask = feats[:, FEATURES.index("require")] if gate else np.ones(len(y))
        min_p = GATED_MIN_PRECISION if gate else 0.0
        best: tuple[float, float, np.ndarray] | None = None
        for lam in lambdas:
            oof = out_of_fold(x, y, lam, folds)
            _, f1 = best_threshold(y, oof * gate_mask, min_p)
            if best is None or f1 > best[0]:
                best = (f1, lam, oof)
        assert best is not None
        _, lam, oof = best
        eps = 1e-9
        oof_logit = np.log(np.clip(oof, eps, 1 - eps) / np.clip(1 - oof, eps, 1 - eps))
        platt = fit_platt(oof_logit, y)
        calibrated = _sigmoid(platt[0] * oof_logit + platt[1]) * gate_mask
        weights, prevalence = stream_weights(y, strata)
        rnd_pos = (
            0 if strata is None
            else int(sum(1 for s_, v in zip(strata, y, strict=True) if s_ == RANDOM_STRATUM and v))
        )
        if rnd_pos < MIN_RANDOM_POSITIVES:
            weights = None
        threshold, cv_f1 = best_threshold(y, calibrated, min_p, weights)
        mean, scale, coef, intercept = fit_logistic(x, y, lam)
        stance_head = None
        if titles is not None and stances is not None:
            members = y > 0
            parts = [embeddings, titles]
            if stance_lexicon is not None:
                parts.insert(0, stance_lexicon[n.id])
            sx = np.hstack(parts)[members]
            sy = np.array([int(st.get(n.id, 0)) for st, m in zip(stances, members, strict=True) if m])
            n_lex = stance_lexicon[n.id].shape[1] if stance_lexicon is not None else 0
            stance_head = fit_stance(sx, sy, n_lex)
        heads[n.id] = NarrativeHead(
            n.definition_hash, mean, scale, coef, intercept, threshold, platt, gate, stance_head
        )
        fits[n.id] = NarrativeFit(
            pos, len(y), True, lam=lam, threshold=threshold, cv_f1=round(cv_f1, 4),
            prior_f1=round(prior_f1, 4),
            stream_prevalence=round(prevalence, 4) if weights is not None else None,
        )
    metadata: dict[str, object] = {
        "features": list(FEATURES) + (["embedding"] if with_embedding else []),
        "with_embedding": with_embedding,
        "stance_inputs": (list(STANCE_FEATURES) if stance_lexicon is not None else [])
        + ["mean", "title"],
        "threshold_rule": "best out-of-fold F1, items weighted to the random stratum's member "
        f"rate when it has >= {MIN_RANDOM_POSITIVES} members",
        "labels_sha256": labels_sha256,
        "items": len(labels),
        "folds": folds,
        "fits": {k: v.to_dict() for k, v in fits.items()},
    }
    anchors = classifier.anchors()
    head = Head(classifier.embedder.name, classifier.embedder.dim, "", heads, metadata, anchors)
    head = Head(head.embedder, head.dim, head_version(head), heads, metadata, anchors)
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
    with_embedding: bool = True,
    progress: bool = False,
) -> TrainReport:
    """Read labelled texts, fit the head on them and save it to ``out``."""
    from tracker.learn.evaluate import check_labels, read_labels

    items = read_labels(labels_path)
    check_labels(items, classifier.narratives, Path(labels_path))
    features, embeddings, titles = article_inputs(classifier, [i.article for i in items], progress)
    report = fit_head(
        classifier,
        features,
        embeddings,
        [i.labels for i in items],
        titles=titles,
        stances=[i.stance for i in items],
        stance_lexicon=classifier.stance_inputs([i.article for i in items]),
        strata=[i.stratum for i in items],
        min_positives=min_positives,
        with_embedding=with_embedding,
        labels_sha256=labels_digest(labels_path),
    )
    if not any(fit.fitted for fit in report.fits.values()):
        # A head with nothing fitted would replace a working one with the untrained scoring.
        raise ConfigError(
            f"{labels_path}: no narrative has {min_positives} positive and {min_positives} negative "
            f"items, so nothing was fitted and {out} was left as it was. Fix: label more items, "
            "or lower --min-positives."
        )
    report.path = save_head(report.head, out)
    return report


def article_inputs(
    classifier: Classifier, articles: Sequence[Any], progress: bool = False, batch_size: int = 64
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Features, mean embeddings and title vectors for many articles, in batches."""
    feats: dict[str, list[np.ndarray]] = {n.id: [] for n in classifier.narratives}
    means: list[np.ndarray] = []
    titles: list[np.ndarray] = []
    bar: Any = None
    if progress:
        import click

        bar = click.progressbar(length=len(articles), label="embed", file=sys.stderr)
        bar.__enter__()
    try:
        for start in range(0, len(articles), batch_size):
            batch = articles[start : start + batch_size]
            f, m, t = classifier.article_inputs(batch)
            for nid in feats:
                feats[nid].append(f[nid])
            means.append(m)
            titles.append(t)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    return {k: np.vstack(v) for k, v in feats.items()}, np.vstack(means), np.vstack(titles)


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
    with_embedding: bool = True,
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
