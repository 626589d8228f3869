"""Validation figures of a score: discrimination, stability, calibration by band.

Conventions (scores are *high = good*, outcomes ``1 = bad``):

- AUC is the probability that a random good scores above a random bad (ties count ½);
  Gini = 2·AUC − 1; KS is the largest gap between the cumulative score distributions of
  goods and bads.
- PSI = Σ (a − e)·ln(a / e) over bins, shares floored at 1e-4 so empty bins stay finite;
  the usual reading: < 0.1 stable, 0.1–0.25 watch, > 0.25 shifted.
- Calibration compares, per band, the observed bad rate with the bad rate the scaling
  promises for each person's score (``Scaling.bad_rate_of_score``), averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

from openscore.domain import BANDS
from openscore.model.format import Scaling

PSI_FLOOR = 1e-4


def auc(y_bad: Sequence[int] | np.ndarray, score: Sequence[float] | np.ndarray) -> float:
    """AUC of a high-is-good score against bad outcomes."""
    y = np.asarray(y_bad, dtype=int)
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, -np.asarray(score, dtype=float)))


def gini(y_bad: Any, score: Any) -> float:
    return 2.0 * auc(y_bad, score) - 1.0


def ks(y_bad: Any, score: Any) -> float:
    """Kolmogorov–Smirnov distance between the score distributions of goods and bads."""
    y = np.asarray(y_bad, dtype=int)
    s = np.asarray(score, dtype=float)
    if y.min() == y.max():
        return float("nan")
    values = np.unique(s)
    bads = np.sort(s[y == 1])
    goods = np.sort(s[y == 0])
    cdf_b = np.searchsorted(bads, values, side="right") / len(bads)
    cdf_g = np.searchsorted(goods, values, side="right") / len(goods)
    return float(np.max(np.abs(cdf_b - cdf_g)))


def psi_from_counts(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected / max(expected.sum(), 1), PSI_FLOOR)
    a = np.maximum(actual / max(actual.sum(), 1), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(expected: Any, actual: Any, *, bins: int = 10) -> float:
    """PSI of a numeric quantity, bins at the expected (training) deciles."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e = e[~np.isnan(e)]
    a = a[~np.isnan(a)]
    if len(e) == 0 or len(a) == 0:
        return float("nan")
    edges = np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))
    ce = np.bincount(np.searchsorted(edges, e, side="right"), minlength=len(edges) + 1)
    ca = np.bincount(np.searchsorted(edges, a, side="right"), minlength=len(edges) + 1)
    return psi_from_counts(ce.astype(float), ca.astype(float))


def psi_of_indices(expected: np.ndarray, actual: np.ndarray, size: int) -> float:
    """PSI over already-binned values (a term's bin indices, missing included)."""
    ce = np.bincount(expected, minlength=size).astype(float)
    ca = np.bincount(actual, minlength=size).astype(float)
    return psi_from_counts(ce, ca)


def band_table(y_bad: Any, score: Any, scaling: Scaling) -> list[dict[str, Any]]:
    """Rows, bads, observed and predicted bad rate for each band (poor → excellent)."""
    y = np.asarray(y_bad, dtype=int)
    s = np.asarray(score, dtype=float)
    predicted = np.array([scaling.bad_rate_of_score(v) for v in s]) if len(s) else s
    out = []
    for band in BANDS:
        mask = (s >= band.low) & (s <= band.high)
        n = int(mask.sum())
        out.append(
            {
                "band": band.name,
                "low": band.low,
                "high": band.high,
                "rows": n,
                "bads": int(y[mask].sum()) if n else 0,
                "bad_rate": float(y[mask].mean()) if n else None,
                "predicted_bad_rate": float(predicted[mask].mean()) if n else None,
            }
        )
    return out


def bad_rate_falls(bands: list[dict[str, Any]]) -> bool:
    """Whether the observed bad rate falls from band to band (bands with rows only)."""
    rates = [b["bad_rate"] for b in bands if b["rows"]]
    return all(b < a for a, b in zip(rates, rates[1:], strict=False))


def roc_points(y_bad: Any, score: Any, *, max_points: int = 101) -> dict[str, list[float]]:
    """A thinned ROC curve (false/true positive rate of catching bads by low score)."""
    fpr, tpr, _ = roc_curve(np.asarray(y_bad, dtype=int), -np.asarray(score, dtype=float))
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max_points).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return {"fpr": [round(float(v), 5) for v in fpr], "tpr": [round(float(v), 5) for v in tpr]}


def score_distribution(
    y_bad: Any, score: Any, scaling: Scaling, *, width: int = 25
) -> dict[str, list[Any]]:
    """Histogram of scores by outcome on fixed ``width``-point bins over the score range."""
    y = np.asarray(y_bad, dtype=int)
    s = np.asarray(score, dtype=float)
    edges = np.arange(scaling.score_min, scaling.score_max + width, width)
    good, _ = np.histogram(s[y == 0], bins=edges)
    bad, _ = np.histogram(s[y == 1], bins=edges)
    return {"edges": [int(e) for e in edges], "good": good.tolist(), "bad": bad.tolist()}


def discrimination(y_bad: Any, score: Any) -> dict[str, float]:
    a = auc(y_bad, score)
    return {"auc": a, "gini": 2 * a - 1, "ks": ks(y_bad, score), "rows": int(len(score))}
