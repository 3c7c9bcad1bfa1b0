"""The narrative head's file format: a JSON file of numbers (never pickle) and its loader.

Written by :mod:`tracker.learn.train`, read by :mod:`tracker.enrich.classifier`. The version
is a hash of the content, so refitting on the same labels gives the same version.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.base.errors import ModelError
from tracker.base.resources import model_file

HEAD_FORMAT = "tracker-narrative-head/2"
#: Formats this loader reads: /1 heads have no calibration, gate or stance (all optional in /2).
READABLE_FORMATS = ("tracker-narrative-head/1", HEAD_FORMAT)
HEAD_FILE = Path("heads") / "narratives.json"
#: Stance classes, in the order a stance head's coefficient rows use them.
STANCE_CLASSES = (-1, 0, 1)

def head_path(models_dir: Path | None) -> Path:
    """The trained head: the user's copy under ``models_dir`` if present, else the packaged one."""
    return model_file(models_dir, HEAD_FILE)


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    """The logistic function, clipped so it never overflows."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


@dataclass(frozen=True)
class StanceHead:
    """Multinomial logistic regression: stance class (-1, 0, 1) from [mean, title] vectors."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, inputs)
    intercept: np.ndarray  # (classes,)

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (rows x STANCE_CLASSES) for raw inputs."""
        z = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.coef.T + self.intercept
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def stance(self, x: np.ndarray) -> np.ndarray:
        """Stance in [-1, 1]: P(positive direction) - P(negative direction)."""
        p = self.probabilities(x)
        return np.asarray(p[:, 2] - p[:, 0])


@dataclass(frozen=True)
class NarrativeHead:
    """Logistic regression for one narrative over standardised [features, embedding].

    ``platt`` = (a, b) maps the raw logit z to the calibrated probability sigmoid(a z + b)
    (fitted on out-of-fold scores); ``gate_require`` makes an article whose text misses a
    ``require`` group a non-member whatever its score (rotation: both sides must be named).
    """

    definition_hash: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    platt: tuple[float, float] = (1.0, 0.0)
    gate_require: bool = False
    stance: StanceHead | None = None

    def logit(self, x: np.ndarray) -> np.ndarray:
        """The uncalibrated logit for rows of raw (unstandardised) inputs."""
        return np.asarray(((x - self.mean) / self.scale) @ self.coef + self.intercept)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated P(member) for rows of raw (unstandardised) inputs."""
        a, b = self.platt
        return sigmoid(a * self.logit(x) + b)


@dataclass(frozen=True)
class Anchors:
    """Anchor vectors (positive, negative) per narrative, embedded once at train time.

    Valid only for the embedder and the narratives.yaml (sha256) they were computed with; the
    classifier embeds the anchors itself when either differs (issue 13: no embedding on every
    cold start).
    """

    embedder: str
    narratives_sha256: str
    vectors: Mapping[str, tuple[np.ndarray, np.ndarray]]

    def matches(self, embedder: str, narratives_sha256: str) -> bool:
        """True if these vectors were embedded by ``embedder`` from this narratives file."""
        return self.embedder == embedder and self.narratives_sha256 == narratives_sha256


@dataclass(frozen=True)
class Head:
    """Trained heads for some narratives, tied to one embedder."""

    embedder: str
    dim: int
    version: str
    narratives: Mapping[str, NarrativeHead]
    metadata: Mapping[str, object] = field(default_factory=dict)
    anchors: Anchors | None = None


def _b64(matrix: np.ndarray) -> str:
    # float32 little-endian bytes: exact (no rounding) and 4x smaller than decimal text.
    return base64.b64encode(np.ascontiguousarray(matrix, dtype="<f4").tobytes()).decode("ascii")


def _from_b64(text: str, dim: int) -> np.ndarray:
    flat = np.frombuffer(base64.b64decode(text.encode("ascii"), validate=True), dtype="<f4")
    if dim <= 0 or flat.size % dim:
        raise ValueError(f"anchor vectors of {flat.size} numbers do not split into rows of {dim}")
    return flat.reshape(-1, dim).astype(np.float32)


def _anchors_payload(anchors: Anchors | None) -> dict[str, Any] | None:
    if anchors is None:
        return None
    return {
        "embedder": anchors.embedder,
        "narratives_sha256": anchors.narratives_sha256,
        "vectors": {
            nid: {"positive": _b64(pos), "negative": _b64(neg)}
            for nid, (pos, neg) in sorted(anchors.vectors.items())
        },
    }


def _anchors_from(data: Any, dim: int) -> Anchors | None:
    if data is None:
        return None
    vectors = {
        str(nid): (_from_b64(v["positive"], dim), _from_b64(v["negative"], dim))
        for nid, v in data["vectors"].items()
    }
    return Anchors(str(data["embedder"]), str(data["narratives_sha256"]), vectors)


def _head_payload(head: Head) -> dict[str, Any]:
    return {
        "format": HEAD_FORMAT,
        "anchors": _anchors_payload(head.anchors),
        "embedder": head.embedder,
        "dim": head.dim,
        "metadata": head.metadata,
        "narratives": {
            nid: {
                "definition_hash": h.definition_hash,
                "threshold": h.threshold,
                "intercept": round(h.intercept, 8),
                "mean": [round(float(v), 8) for v in h.mean],
                "scale": [round(float(v), 8) for v in h.scale],
                "coef": [round(float(v), 8) for v in h.coef],
                "platt": [round(float(v), 8) for v in h.platt],
                "gate_require": h.gate_require,
                "stance": _stance_payload(h.stance),
            }
            for nid, h in sorted(head.narratives.items())
        },
    }


def _round(values: np.ndarray) -> list[Any]:
    return [round(float(v), 8) for v in np.ravel(values)]


def _stance_payload(st: StanceHead | None) -> dict[str, Any] | None:
    if st is None:
        return None
    return {
        "classes": list(STANCE_CLASSES),
        "mean": _round(st.mean),
        "scale": _round(st.scale),
        "coef": [_round(row) for row in st.coef],
        "intercept": _round(st.intercept),
    }


def _stance_from(data: Any) -> StanceHead | None:
    if data is None:
        return None
    if list(data["classes"]) != list(STANCE_CLASSES):
        raise ValueError(f"stance classes {data['classes']} != {list(STANCE_CLASSES)}")
    st = StanceHead(
        np.asarray(data["mean"], dtype=np.float64),
        np.asarray(data["scale"], dtype=np.float64),
        np.asarray(data["coef"], dtype=np.float64),
        np.asarray(data["intercept"], dtype=np.float64),
    )
    if st.coef.shape != (len(STANCE_CLASSES), st.mean.shape[0]) or st.scale.shape != st.mean.shape:
        raise ValueError("stance mean/scale/coef sizes differ")
    return st


def head_version(head: Head) -> str:
    """sha256 (12 hex) of the head's content: same fit, same version."""
    canonical = json.dumps(_head_payload(head), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def save_head(head: Head, path: Path) -> Path:
    """Write the head as JSON (numbers and strings only)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": head.version, **_head_payload(head)}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_head(path: Path, n_features: int) -> Head | None:
    """Read a head saved by :func:`save_head` (``n_features`` article features); ``None`` if absent."""
    path = Path(path)
    if not path.exists():
        return None
    fix = f"Fix: retrain with `tracker train --labels FILE`, or delete {path} to score without it."
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: cannot read the trained head ({exc}). {fix}") from exc
    if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
        raise ModelError(f"{path}: not a narrative head (format {HEAD_FORMAT!r} expected). {fix}")
    try:
        dim = int(data["dim"])
        narratives: dict[str, NarrativeHead] = {}
        for nid, h in data["narratives"].items():
            mean = np.asarray(h["mean"], dtype=np.float64)
            scale = np.asarray(h["scale"], dtype=np.float64)
            coef = np.asarray(h["coef"], dtype=np.float64)
            if not (mean.shape == scale.shape == coef.shape) or mean.ndim != 1:
                raise ValueError(f"narrative {nid}: mean/scale/coef sizes differ")
            if coef.shape[0] not in (n_features, n_features + dim):
                raise ValueError(
                    f"narrative {nid}: {coef.shape[0]} inputs, expected {n_features} "
                    f"features (this version of the code) or {n_features + dim}"
                )
            platt = h.get("platt") or [1.0, 0.0]
            narratives[nid] = NarrativeHead(
                str(h["definition_hash"]), mean, scale, coef, float(h["intercept"]),
                float(h["threshold"]), (float(platt[0]), float(platt[1])),
                bool(h.get("gate_require", False)), _stance_from(h.get("stance")),
            )
        head = Head(
            str(data["embedder"]), dim, "", narratives, data.get("metadata") or {},
            _anchors_from(data.get("anchors"), dim),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: the trained head is malformed ({exc}). {fix}") from exc
    return Head(
        head.embedder, head.dim, head_version(head), narratives, head.metadata, head.anchors
    )
