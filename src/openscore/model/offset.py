"""The relationships term, fitted with a base model's log-odds as an *offset*: one table
of points over ``network_trust``, constrained to be 0 for not sharing and for no trusted
connection, never negative, rising with trust, at most
:func:`~openscore.model.relationships.relationships_cap` points. Base terms and intercept
are kept as they are, so the model stays additive and the file format is unchanged
(``jobs/train.py`` runs the two stages on an engine).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from openscore.features.graph import GraphParams
from openscore.model import FeatureMeta
from openscore.model import metrics as m
from openscore.model.apply import raw_points, scores_of
from openscore.model.format import (
    Feature,
    NumericBinning,
    Scaling,
    Scorecard,
    Term,
    build_scorecard,
    with_metrics,
)
from openscore.model.training import check_constraints, split_rows, validate_scorecard

#: trust below this is "no trusted connection": its own bin, held at 0 points
NO_TRUST = 1e-6
#: bins of trust among people who have some (quantiles), before the fit merges any
TRUST_BINS = 5
#: folds of the held-out check a relationships term must pass to be kept
CV_FOLDS = 5


# -- stage 2: the relationships term ------------------------------------------------------


def add_relationships_term(
    base: Scorecard,
    X: pd.DataFrame,
    y: Any,
    meta: FeatureMeta,
    graph_params: GraphParams,
    *,
    feature: str = "network_trust",
    cv_folds: int = CV_FOLDS,
) -> Scorecard:
    """The base model plus a relationships term fitted with the base log-odds as offset.

    ``X`` holds every feature of the base model and ``feature``, rows in the order the
    base model was trained on (its split is re-made from the recorded seed). The term is
    fitted on the training part; the new model is validated on the test part like any
    other, and the base model's test AUC is kept beside it for comparison.
    """
    y = np.asarray(y, dtype=np.int8)
    split = base.metrics.get("split", {})
    parts = split_rows(
        y, test_size=split.get("test_size", 0.3), random_state=split.get("random_state", 42)
    )
    scaling = base.scaling
    raw = raw_points(base.intercept_points, base.terms, X)
    offset = (scaling.offset - raw) / scaling.factor  # the base model's log-odds of bad
    x = X[feature].to_numpy(dtype=float)
    tr = parts["train"]
    term, fit = fit_offset_term(feature, x[tr], offset[tr], y[tr], meta, scaling, cv_folds=cv_folds)
    relationships: dict[str, Any] = {
        "fit": "offset (base model's log-odds), constrained per-bin points",
        "graph": graph_params.to_dict(),
        "cap_points": meta.max_points,
        **fit,
    }
    if term is None:
        training = {**base.training, "relationships": relationships}
        excluded = {**training.get("excluded", {}), feature: fit["why_no_term"]}
        training["excluded"] = excluded
        card = build_scorecard(
            method=base.method,
            scaling=scaling,
            intercept_points=base.intercept_points,
            features=base.features,
            terms=base.terms,
            training=training,
            id_column=base.id_column,
            target=base.target,
        )
        return with_metrics(card, base.metrics)
    check_constraints([term], {feature: meta})
    card = build_scorecard(
        method=base.method,
        scaling=scaling,
        intercept_points=base.intercept_points,
        features=[
            *base.features,
            Feature(
                name=feature,
                dimension=meta.dimension,
                type="numeric",
                description=meta.description,
                improve=meta.improve,
                monotonic=meta.monotonic if meta.monotonic != "auto" else "none",
            ),
        ],
        terms=[*base.terms, term],
        training={**base.training, "relationships": relationships},
        id_column=base.id_column,
        target=base.target,
    )
    figures = validate_scorecard(card, X, y, parts, scaling=scaling)
    for key in ("cv", "split"):
        if key in base.metrics:
            figures[key] = base.metrics[key]
    te = parts["test"]
    shares = ~np.isnan(x[te])
    base_scores, full_scores = scores_of(base, X)[te], scores_of(card, X)[te]
    figures["relationships"] = {
        "test_auc_without": base.metrics["test"]["auc"],
        "test_auc_with": figures["test"]["auc"],
        "test_auc_gain": round(figures["test"]["auc"] - base.metrics["test"]["auc"], 6),
        "test_rows_sharing": int(shares.sum()),
        "test_auc_sharing_without": m.auc(y[te][shares], base_scores[shares]),
        "test_auc_sharing_with": m.auc(y[te][shares], full_scores[shares]),
        "mean_points_added_sharing": float(np.mean(full_scores[shares] - base_scores[shares]))
        if shares.any()
        else 0.0,
        "test_auc_gain_ci95": auc_gain_interval(y[te], base_scores, full_scores),
    }
    return with_metrics(card, figures)


def auc_gain_interval(
    y: np.ndarray, before: np.ndarray, after: np.ndarray, *, reps: int = 200, seed: int = 0
) -> list[float]:
    """95 % paired-bootstrap interval of ``AUC(after) − AUC(before)`` on the same rows:
    whether a gain this small is distinguishable from none."""
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(reps):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        gains.append(m.auc(y[i], after[i]) - m.auc(y[i], before[i]))
    if not gains:
        return [float("nan"), float("nan")]
    lo, hi = np.quantile(gains, [0.025, 0.975])
    return [round(float(lo), 6), round(float(hi), 6)]


def trust_edges(values: np.ndarray, bins: int = TRUST_BINS) -> tuple[float, ...]:
    """Bin edges: ``NO_TRUST`` (zero trust is a bin of its own), then quantiles above it."""
    some = values[values >= NO_TRUST]
    inner: list[float] = []
    if len(some):
        qs = np.quantile(some, np.linspace(0, 1, bins + 1)[1:-1])
        inner = sorted({round(float(q), 4) for q in qs if q > NO_TRUST})
    return (NO_TRUST, *inner)


def fit_offset_term(
    feature: str,
    x: np.ndarray,
    offset: np.ndarray,
    y: np.ndarray,
    meta: FeatureMeta,
    scaling: Scaling,
    *,
    min_rows: int = 50,
    cv_folds: int = CV_FOLDS,
    random_state: int = 42,
) -> tuple[Term | None, dict[str, Any]]:
    """Points per bin of ``x`` by maximum likelihood with a fixed offset, constrained.

    The model is ``logit P(bad) = offset + c − β[bin]`` over every row, missing ones in
    the no-trust bin (β = 0). ``c`` only absorbs the base model's overall miscalibration
    (the exported EBM, for one, is not exactly calibrated) so that β measures people with
    trusted connections against everyone else, not against the base model's error; it is
    not exported. Points are ``factor·β``: 0 for missing and no trust, ≥ 0 elsewhere
    (``only_raises``), non-decreasing in the value when risk is declared ``descending``
    (more trust, never fewer points), at most ``meta.max_points``.

    The term is kept only if it predicts: with ``cv_folds`` ≥ 2, β fitted on k − 1 folds
    of these (training) rows must raise the log-likelihood of the held-out fold, summed
    over the folds; points that only fit noise would raise sharers' scores for nothing.
    Returns the term (None when nothing is gained) and what was fitted, for the file.
    """
    binning = NumericBinning(trust_edges(x))
    shared = ~np.isnan(x)
    some = shared & (x >= NO_TRUST)
    info: dict[str, Any] = {
        "rows": int(len(x)),
        "rows_sharing": int(shared.sum()),
        "rows_with_trust": int(some.sum()),
        "edges": list(binning.edges),
    }
    if some.sum() < min_rows or len(np.unique(y[some])) < 2:
        info["why_no_term"] = f"fewer than {min_rows} training rows with trusted connections"
        return None, info
    k = len(binning.edges) + 1  # bins; bin 0 is "no trust", fixed at 0 like missing
    idx = np.zeros(len(x), dtype=np.int64)
    idx[shared] = np.searchsorted(np.asarray(binning.edges), x[shared], side="right")
    cap = (meta.max_points if meta.max_points is not None else 10**6) / scaling.factor
    cumulative = meta.monotonic == "descending"
    z, yy = offset.astype(float), y.astype(float)

    c, beta, converged = _solve(idx, z, yy, k, cap, cumulative)
    points = [int(round(scaling.factor * b)) for b in beta] + [0]  # + missing
    points[0] = 0
    points = meta.bound_points(points)
    if cumulative:
        points = [int(p) for p in np.maximum.accumulate(points[:-1])] + [0]
    c0, _, _ = _solve(idx, z, yy, k, 0.0, cumulative)  # calibration alone
    info.update(
        points=[int(p) for p in points],
        converged=converged,
        calibration_shift=round(float(c), 6),
        log_likelihood_gain=round(_loglik(idx, z, yy, c, beta) - _loglik(idx, z, yy, c0, 0), 4),
    )
    if max(points) == 0:
        info["why_no_term"] = "no gain from trusted connections on the training rows"
        return None, info
    if cv_folds >= 2:
        from sklearn.model_selection import StratifiedKFold

        held_out = 0.0
        folds = StratifiedKFold(cv_folds, shuffle=True, random_state=random_state)
        for fit, out in folds.split(idx, y):
            cf, bf, _ = _solve(idx[fit], z[fit], yy[fit], k, cap, cumulative)
            c0f, _, _ = _solve(idx[fit], z[fit], yy[fit], k, 0.0, cumulative)
            held_out += _loglik(idx[out], z[out], yy[out], cf, bf)
            held_out -= _loglik(idx[out], z[out], yy[out], c0f, 0)
        info["cv_folds"] = cv_folds
        info["cv_log_likelihood_gain"] = round(held_out, 4)
        if held_out <= 0:
            info["why_no_term"] = (
                f"no held-out gain: {cv_folds}-fold cross-validation on the training part "
                f"changes the log-likelihood by {held_out:+.2f}"
            )
            return None, info
    labels = ("no trusted connection", *binning.labels()[1:])
    return (
        Term(
            name=feature,
            features=(feature,),
            dimension=meta.dimension,
            binnings=(binning,),
            points=tuple(int(p) for p in points),
            labels=labels,
            reason=meta.reason,
            improve=meta.improve,
        ),
        info,
    )


def _loglik(idx: np.ndarray, z: np.ndarray, y: np.ndarray, c: float, beta: Any) -> float:
    eta = z + c - (np.asarray(beta)[idx] if np.ndim(beta) else beta)
    return float(-np.sum(np.logaddexp(0.0, eta) - y * eta))


def _solve(
    idx: np.ndarray, z: np.ndarray, y: np.ndarray, k: int, cap: float, cumulative: bool
) -> tuple[float, np.ndarray, bool]:
    """``c`` and ``β`` (β₀ = 0; 0 ≤ β ≤ cap, non-decreasing if ``cumulative``) maximising
    the likelihood of ``logit = z + c − β[idx]``."""
    from scipy.optimize import minimize

    n = float(len(idx))

    def betas(d: np.ndarray) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum(d) if cumulative else d])

    def nll(v: np.ndarray) -> tuple[float, np.ndarray]:
        eta = z + v[0] - betas(v[1:])[idx]
        loss = float(np.sum(np.logaddexp(0.0, eta) - y * eta)) / n
        resid = (1.0 / (1.0 + np.exp(-eta)) - y) / n  # d loss / d eta
        g_beta = -np.bincount(idx, weights=resid, minlength=k)[1:]
        g_d = np.cumsum(g_beta[::-1])[::-1] if cumulative else g_beta
        return loss, np.concatenate([[resid.sum()], g_d])

    constraints = (
        [
            {
                "type": "ineq",
                "fun": lambda v: cap - v[1:].sum(),
                "jac": lambda v: np.concatenate([[0.0], -np.ones(len(v) - 1)]),
            }
        ]
        if cumulative
        else []
    )
    res = minimize(
        nll,
        np.zeros(k),
        jac=True,
        method="SLSQP",
        bounds=[(None, None)] + [(0.0, cap)] * (k - 1),
        constraints=constraints,
        options={"ftol": 1e-10, "maxiter": 500},
    )
    return float(res.x[0]), np.clip(betas(res.x[1:]), 0.0, cap), bool(res.success)
