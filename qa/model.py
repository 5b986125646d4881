"""Fitted linear models as JSON coefficients, applied with numpy.

A model file (``qa/models/selector.json``, ``qa/models/answerable.json``) is
written by ``policyqa train`` (:mod:`policyqa.qa.train`, scikit-learn) and
holds::

    {"name", "features": [...], "mean": [...], "scale": [...], "coef": [...],
     "intercept": float, "params": {thresholds chosen on the tune halves},
     "trained_on": {...}, "command": "policyqa train"}

``LinearModel.logits(X)`` imputes missing values (NaN) with the training mean,
standardises with (mean, scale) and returns ``X @ coef + intercept``;
``proba`` is its logistic.  No pickle, no scikit-learn at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

MODELS = Path(__file__).parent / "models"


@dataclass(frozen=True)
class LinearModel:
    name: str
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    params: Mapping[str, Any] = field(default_factory=dict)
    embedding_model: str = ""  # dense features were measured with this model ("" = unknown)

    def logits(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise ValueError(f"model {self.name} expects {len(self.features)} features, got shape {X.shape}")
        X = np.where(np.isnan(X), self.mean, X)
        return ((X - self.mean) / self.scale) @ self.coef + self.intercept

    def proba(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logits(X)))

    def to_json(self, **extra) -> dict:
        return {"name": self.name, "features": list(self.features), "mean": _r(self.mean), "scale": _r(self.scale),
                "coef": _r(self.coef), "intercept": round(float(self.intercept), 6), "params": dict(self.params),
                "embedding_model": self.embedding_model, **extra}

    @classmethod
    def from_json(cls, d: Mapping[str, Any], expected: Sequence[str] | None = None) -> "LinearModel":
        feats = tuple(d["features"])
        if expected is not None and tuple(expected) != feats:
            raise ValueError(f"model {d.get('name')} was trained on other features; refit with: policyqa train")
        arr = lambda k: np.asarray(d[k], dtype=np.float64)  # noqa: E731
        scale = arr("scale")
        scale = np.where(scale > 0, scale, 1.0)
        return cls(d["name"], feats, arr("mean"), scale, arr("coef"), float(d["intercept"]), dict(d.get("params") or {}),
                   str(d.get("embedding_model") or ""))


def _r(a: np.ndarray) -> list[float]:
    return [round(float(x), 6) for x in np.asarray(a).ravel()]


@lru_cache(maxsize=8)
def load_model(name: str, expected: tuple[str, ...] | None = None, folder: str = str(MODELS)) -> LinearModel:
    """``qa/models/<name>.json`` (checked against the expected feature names)."""
    path = Path(folder) / f"{name}.json"
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file {path}; create it with: policyqa train") from None
    return LinearModel.from_json(d, expected)
