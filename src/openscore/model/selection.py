"""``auto``: pick scorecard or EBM by stratified k-fold cross-validation on training rows.

Only the training part of the split is ever passed here, so the test split stays unseen
until the chosen model is measured on it. Each fold is scored with the *exported* integer
points, so the comparison is between the models as they would be published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from openscore.model.apply import clipped_scores
from openscore.model.binning_scorecard import BinningScorecard
from openscore.model.ebm import EBMScorecard
from openscore.model.format import FeatureMeta, Scaling
from openscore.model.metrics import auc

METHODS = ("scorecard", "ebm")


def make_estimator(
    method: str,
    meta: Mapping[str, FeatureMeta],
    scaling: Scaling,
    params: Mapping[str, Any] | None = None,
    random_state: int = 42,
) -> BinningScorecard | EBMScorecard:
    """An unfitted trainer for ``method`` (``scorecard`` or ``ebm``)."""
    if method == "scorecard":
        return BinningScorecard(meta, scaling=scaling, **dict(params or {}))
    if method == "ebm":
        return EBMScorecard(meta, scaling=scaling, params=params, random_state=random_state)
    raise ValueError(f"unknown method {method!r}")


def cross_validate(
    method: str,
    X: pd.DataFrame,
    y: np.ndarray,
    meta: Mapping[str, FeatureMeta],
    *,
    scaling: Scaling,
    folds: int = 5,
    random_state: int = 42,
    params: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[float]:
    """AUC of the exported, clipped scores on each of ``folds`` stratified folds."""
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    aucs = []
    for k, (tr, va) in enumerate(skf.split(X, y), start=1):
        est = make_estimator(method, meta, scaling, params, random_state).fit(X.iloc[tr], y[tr])
        s = clipped_scores(est.intercept_points_, est.terms_, X.iloc[va], scaling)
        aucs.append(auc(y[va], s))
        if progress:
            progress(f"{method} fold {k}/{folds}: AUC {aucs[-1]:.4f}")
    return aucs


def choose_method(
    X: pd.DataFrame,
    y: np.ndarray,
    meta: Mapping[str, FeatureMeta],
    *,
    scaling: Scaling,
    folds: int = 5,
    random_state: int = 42,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The method with the higher mean CV AUC (ties go to the simpler scorecard)."""
    report: dict[str, Any] = {"folds": folds, "random_state": random_state}
    for method in METHODS:
        aucs = cross_validate(
            method,
            X,
            y,
            meta,
            scaling=scaling,
            folds=folds,
            random_state=random_state,
            params=(params or {}).get(method),
            progress=progress,
        )
        report[method] = {
            "auc_mean": float(np.mean(aucs)),
            "auc_std": float(np.std(aucs)),
            "aucs": [float(a) for a in aucs],
        }
    best = max(METHODS, key=lambda m: (report[m]["auc_mean"], m == "scorecard"))
    report["chosen"] = best
    return best, report
