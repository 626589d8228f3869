"""Event mode: features of the ledger as of the observation date, joined to outcomes.

Training runs in two stages because the relationships feature is made of other people's
standing, which needs a model first:

1. the **base model** (every dimension but relationships) is trained by ``train_model``
   as in tabular mode — split, method choice, fit, validation;
2. its scores give everyone's standing, trust is propagated over the graph
   (``jobs/graph.py``), and the **relationships term** is fitted with the base model's
   log-odds as an *offset*: one table of points over ``network_trust``, constrained to
   be 0 for not sharing and for no trusted connection, never negative, rising with
   trust, at most :func:`~openscore.jobs.graph.relationships_cap` points. Base terms and
   intercept are kept as they are, so the model stays additive, the file format is
   unchanged, nobody who does not share ``social`` scores differently from the base model,
   and stage 1 at scoring time (the model minus its relationships term) is exactly the
   base model whose standing the term was fitted on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from openscore.domain import Dimension
from openscore.engines.base import Engine
from openscore.errors import InputError
from openscore.features import FEATURE_NAMES, FEATURES, build_features
from openscore.features.graph import GRAPH_FEATURES, GraphParams
from openscore.jobs.graph import compute_graph, relationships_cap
from openscore.ledger import Ledger
from openscore.model import FeatureMeta, Scorecard, train_model
from openscore.model import metrics as m
from openscore.model.apply import raw_points, scores_of
from openscore.model.format import (
    Feature,
    NumericBinning,
    Scaling,
    Term,
    build_scorecard,
    with_metrics,
)
from openscore.model.tabular import fingerprint
from openscore.model.training import check_constraints, split_rows, validate_scorecard

#: trust below this is "no trusted connection": its own bin, held at 0 points
NO_TRUST = 1e-6
#: bins of trust among people who have some (quantiles), before the fit merges any
TRUST_BINS = 5
#: folds of the held-out check a relationships term must pass to be kept
CV_FOLDS = 5


def feature_meta(scaling: Scaling | None = None) -> dict[str, FeatureMeta]:
    """What training needs to know of each event feature (dimension, direction, texts).

    Relationships features may only raise a score, by at most their cap; features marked
    ``only_raises`` in the catalog (wallet activity) may only raise it, uncapped.
    """
    cap = relationships_cap(scaling or Scaling.from_settings())
    out = {}
    for f in FEATURES:
        rel = f.dimension == Dimension.RELATIONSHIPS
        out[f.name] = FeatureMeta(
            dimension=f.dimension.value,
            type="numeric",
            monotonic=f.monotonic,
            description=f.description,
            reason=f.reason,
            improve=f.improve,
            only_raises=rel or f.only_raises,
            max_points=cap if rel else None,
        )
    return out


def read_outcomes(path: Path) -> tuple[pd.DataFrame, date]:
    """``outcomes.parquet`` (person_id, as_of, defaulted_12m): the frame and its as-of date."""
    if not Path(path).exists():
        raise InputError("outcomes file not found", path=str(path))
    df = pd.read_parquet(path)
    target = next((c for c in ("defaulted_12m", "default", "defaulted") if c in df.columns), None)
    missing = [c for c in ("person_id", "as_of") if c not in df.columns]
    if missing or target is None:
        raise InputError(
            "outcomes need columns person_id, as_of and defaulted_12m "
            f"(missing: {', '.join(missing or ['defaulted_12m'])})",
            path=str(path),
        )
    dates = pd.to_datetime(df["as_of"]).dt.date.unique()
    if len(dates) != 1:
        raise InputError(
            "outcomes hold several as-of dates; give one observation date",
            path=str(path),
            field="as_of",
        )
    return df.rename(columns={target: "defaulted_12m"}), dates[0]


def _frame(
    engine: Engine,
    events: ir.Table,
    outcomes: pd.DataFrame,
    as_of: date,
    graph: ir.Table | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Features of the people with an outcome, in person_id order, and their outcomes."""
    people = engine.table(outcomes[["person_id"]], "train_people")
    features = engine.to_pandas(build_features(events, as_of, people, graph))
    frame = outcomes[["person_id", "defaulted_12m"]].merge(features, on="person_id", how="left")
    frame = frame.sort_values("person_id").reset_index(drop=True)
    return frame[list(FEATURE_NAMES)].astype("float64"), frame["defaulted_12m"].astype("int8")


def event_training_frame(
    engine: Engine, ledger: Ledger, outcomes_path: Path
) -> tuple[pd.DataFrame, pd.Series, date]:
    """X (features of people with an outcome), y (1 = defaulted) and the as-of date.

    The relationships features are missing here: they need a model (stage 2).
    """
    outcomes, as_of = read_outcomes(outcomes_path)
    events = engine.ledger(ledger.snapshot().paths)
    X, y = _frame(engine, events, outcomes, as_of)
    return X, y, as_of


def train_from_events(
    engine: Engine,
    ledger: Ledger,
    outcomes_path: Path,
    *,
    method: str = "auto",
    progress: Callable[[str], None] | None = None,
    params: dict | None = None,
    graph_params: GraphParams | None = None,
    relationships: bool = True,
    relationships_cv: int = CV_FOLDS,
) -> Scorecard:
    """Train on the ledger's features as of the outcomes' observation date (two stages).

    ``relationships=False`` stops after the base model (no relationships term);
    ``relationships_cv``: folds of the held-out check the term must pass (0: none).
    """
    say = progress or (lambda _msg: None)
    outcomes, as_of = read_outcomes(outcomes_path)
    events = engine.ledger(ledger.snapshot().paths)
    X, y = _frame(engine, events, outcomes, as_of)
    meta = feature_meta()
    base_columns = [c for c in FEATURE_NAMES if c not in GRAPH_FEATURES]
    base = train_model(
        X[base_columns],
        y,
        {c: meta[c] for c in base_columns},
        method=method,
        as_of=as_of.isoformat(),
        target="defaulted_12m",
        id_column="person_id",
        progress=progress,
        params=params,
    )
    # the rows' fingerprint is taken over the event features as anyone recomputing them
    # from the ledger without a graph run gets them (graph features missing), so that a
    # later reader (the fairness audit) recognises the training rows and their split
    stage_one_rows = fingerprint(X, y)
    if not relationships:
        return _with_fingerprint(base, stage_one_rows)
    graph_params = graph_params or GraphParams()
    say("stage 2: standing from the base model, trust over mutual connections")
    graph = compute_graph(engine, ledger, base, as_of, graph_params, store=False, events=events)
    X, y = _frame(engine, events, outcomes, as_of, graph)
    say("stage 2: fitting the relationships term with the base score as offset")
    card = add_relationships_term(
        base, X, y, meta["network_trust"], graph_params, cv_folds=relationships_cv
    )
    return _with_fingerprint(card, stage_one_rows)


def _with_fingerprint(card: Scorecard, rows: str) -> Scorecard:
    return replace(card, training={**card.training, "fingerprint": rows})


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
