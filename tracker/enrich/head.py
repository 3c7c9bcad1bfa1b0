"""The narrative head's file format: a JSON file of numbers (never pickle) and its loader.

Written by :mod:`tracker.learn.train`, read by :mod:`tracker.enrich.classifier`. The version
is a hash of the content, so refitting on the same labels gives the same version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tracker.base.errors import ModelError
from tracker.base.resources import model_file

HEAD_FORMAT = "tracker-narrative-head/1"
HEAD_FILE = Path("heads") / "narratives.json"

def head_path(models_dir: Path | None) -> Path:
    """The trained head: the user's copy under ``models_dir`` if present, else the packaged one."""
    return model_file(models_dir, HEAD_FILE)


def sigmoid(z: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


@dataclass(frozen=True)
class NarrativeHead:
    """Logistic regression for one narrative over standardised [features, embedding]."""

    definition_hash: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float

    def probability(self, x: np.ndarray) -> np.ndarray:
        """P(member) for rows of raw (unstandardised) inputs."""
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return sigmoid(z)


@dataclass(frozen=True)
class Head:
    """Trained heads for some narratives, tied to one embedder."""

    embedder: str
    dim: int
    version: str
    narratives: Mapping[str, NarrativeHead]
    metadata: Mapping[str, object] = field(default_factory=dict)


def _head_payload(head: Head) -> dict[str, Any]:
    return {
        "format": HEAD_FORMAT,
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
            }
            for nid, h in sorted(head.narratives.items())
        },
    }


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
    if not isinstance(data, dict) or data.get("format") != HEAD_FORMAT:
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
            narratives[nid] = NarrativeHead(
                str(h["definition_hash"]), mean, scale, coef, float(h["intercept"]),
                float(h["threshold"]),
            )
        head = Head(str(data["embedder"]), dim, "", narratives, data.get("metadata") or {})
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: the trained head is malformed ({exc}). {fix}") from exc
    return Head(head.embedder, head.dim, head_version(head), narratives, head.metadata)
