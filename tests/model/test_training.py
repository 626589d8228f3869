"""Training: both methods export valid point tables that keep the promises of the format."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import NotFittedError

from openscore.errors import InputError
from openscore.model import BinningScorecard, EBMScorecard, FeatureMeta, Scaling, train_model
from openscore.model.apply import raw_points, scores_of
from openscore.model.metrics import auc
from openscore.model.tabular import prepare_tabular
from openscore.model.training import monotone_violations
from openscore.scoring import score_person

from .data import credit_table

FAST_EBM = {"outer_bags": 2, "max_rounds": 300, "interactions": 3, "n_jobs": 1}


def _monotone(values: list[int], direction: str) -> bool:
    pairs = list(zip(values, values[1:], strict=False))
    if direction == "ascending":  # risk grows with the value: points never rise
        return all(b <= a for a, b in pairs)
    return all(b >= a for a, b in pairs)


def _data(n: int, seed: int, direction: str) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 2.0, n)
    z = x + rng.normal(0, 1.5, n)  # collinear with x: may get a wrong-sign coefficient
    sign = 1 if direction == "ascending" else -1
    logit = sign * 0.4 * (x - 4) + rng.normal(0, 1, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"x": x, "z": z}), y


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), direction=st.sampled_from(["ascending", "descending"]))
def test_declared_monotonic_bins_stay_monotonic_in_points(seed: int, direction: str) -> None:
    X, y = _data(800, seed, direction)
    meta = {c: FeatureMeta(monotonic=direction) for c in X.columns}  # type: ignore[arg-type]
    model = BinningScorecard(meta, scaling=Scaling()).fit(X, y)
    for term in model.terms_:
        b = term.binnings[0]
        assert _monotone(list(term.points[: b.missing_index]), direction), term.points
        assert term.points[b.missing_index] == 0


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000), direction=st.sampled_from(["ascending", "descending"]))
def test_ebm_monotonic_features_move_their_way_for_everyone(seed: int, direction: str) -> None:
    X, y = _data(600, seed, direction)
    X["free"] = np.random.default_rng(seed).normal(size=len(X))
    meta = {"x": FeatureMeta(monotonic=direction), "z": FeatureMeta(), "free": FeatureMeta()}
    model = EBMScorecard(meta, scaling=Scaling(), params=FAST_EBM).fit(X, y)
    for term in model.terms_:
        if term.features == ("x",):
            b = term.binnings[0]
            assert _monotone(list(term.points[: b.missing_index]), direction)
    # a pair over x may bend within the room x's main table leaves it: the whole effect of
    # x (main table plus the worst line of every pair) moves x's way for everyone
    assert monotone_violations(model.terms_, meta) == []
    rows = X.dropna().head(100)
    edges = sorted(
        {
            e
            for t in model.terms_
            if "x" in t.features
            for e in t.binnings[t.features.index("x")].edges
        }
    )
    grid = np.array([edges[0] - 1.0, *edges]) if edges else np.array([0.0])
    swept = rows.loc[rows.index.repeat(len(grid))].copy()
    swept["x"] = np.tile(grid, len(rows))
    points = raw_points(0, model.terms_, swept).reshape(len(rows), len(grid))
    assert all(_monotone(list(line), direction) for line in points)


def test_missing_is_neutral_everyone_missing_scores_the_intercept() -> None:
    data = prepare_tabular(credit_table(), "default", id_column="customer_id")
    for method in ("scorecard", "ebm"):
        card = train_model(
            data.X, data.y, data.meta, method, params={"ebm": FAST_EBM}, scaling=Scaling()
        )
        for t in card.terms:
            assert all(v == 0 for idx, v in t.cells() if t.is_missing(idx))
        # a row with nothing in it is not scored at all (not enough data to score) ...
        r = score_person(card, {})
        assert (r.status, r.score) == ("unscorable", None)
        # ... and were its points added up, they would be the intercept alone
        blank = pd.DataFrame({c: [None] for c in data.X.columns}).astype(data.X.dtypes)
        lo, hi = card.scaling.score_min, card.scaling.score_max
        assert scores_of(card, blank)[0] == max(lo, min(hi, card.intercept_points))


def test_ebm_pairs_only_within_a_dimension() -> None:
    data = prepare_tabular(credit_table(), "default", id_column="customer_id")
    meta = dict(data.meta)
    meta["income"] = FeatureMeta(dimension="fulfilment_capacity", monotonic="none")
    meta["noise"] = FeatureMeta(dimension="fulfilment_capacity", monotonic="none")
    params = {**FAST_EBM, "interactions": 10}
    model = EBMScorecard(meta, scaling=Scaling(), params=params).fit(data.X, data.y)
    pairs = [t for t in model.terms_ if t.is_pair]
    assert pairs, "expected some interactions"
    for t in pairs:
        assert meta[t.features[0]].dimension == meta[t.features[1]].dimension == t.dimension
    fitted = [tuple(model.names_[i] for i in f) for f in model.ebm_.term_features_ if len(f) == 2]
    assert all(meta[a].dimension == meta[b].dimension for a, b in fitted)


def test_ebm_export_reproduces_ebm_ranking() -> None:
    data = prepare_tabular(credit_table(3000, seed=3), "default", id_column="customer_id")
    X, y = data.X, data.y
    model = EBMScorecard(data.meta, scaling=Scaling(), params=FAST_EBM).fit(X, y)
    exported = raw_points(model.intercept_points_, model.terms_, X)
    own = model.decision_function(X)
    complete = X.notna().all(axis=1).to_numpy()  # missing cells are forced neutral
    offset = Scaling().intercept_of_logit(0.0)
    expected = offset - Scaling().factor * own
    # rounding: at most half a point per term
    assert np.abs(exported - expected)[complete].max() <= 0.5 * len(model.terms_) + 1e-9
    # the ranking is EBM's wherever no cell was neutralised (missing values)
    yc = y[complete]
    assert abs(auc(yc, exported[complete]) - auc(yc, -own[complete])) < 0.002


def test_auto_reports_both_methods_and_keeps_the_better() -> None:
    data = prepare_tabular(credit_table(), "default", id_column="customer_id")
    card = train_model(
        data.X,
        data.y,
        data.meta,
        "auto",
        cv_folds=2,
        params={"ebm": FAST_EBM},
        excluded=data.excluded,
        scaling=Scaling(),
    )
    cv = card.metrics["cv"]
    assert cv["chosen"] == card.method
    best = max(("scorecard", "ebm"), key=lambda k: cv[k]["auc_mean"])
    assert card.method == best
    assert card.metrics["test"]["auc"] > 0.6
    assert card.training["excluded"]["SEX"].startswith("protected")
    assert {"bands", "psi", "roc", "score_distribution", "split"} <= set(card.metrics)
    assert set(card.metrics["psi"]["features"]) == set(card.feature_names)


def test_out_of_time_split_with_dates() -> None:
    data = prepare_tabular(credit_table(), "default", id_column="customer_id")
    dates = pd.Series(pd.date_range("2020-01-01", periods=len(data.y), freq="D"))
    card = train_model(data.X, data.y, data.meta, "scorecard", dates=dates, scaling=Scaling())
    assert card.metrics["oot"]["rows"] == pytest.approx(0.2 * len(data.y), abs=2)
    assert "out-of-time" in card.metrics["split"]["method"]


def test_training_refuses_protected_features_unless_audit_only() -> None:
    df = credit_table()
    X = df[["late_payments", "SEX"]].astype(float)
    meta = {c: FeatureMeta() for c in X.columns}
    with pytest.raises(InputError, match="protected attributes are never model inputs"):
        train_model(X, df["default"], meta, "scorecard")
    card = train_model(X, df["default"], meta, "scorecard", audit_only=True, scaling=Scaling())
    assert card.audit_only


def test_bad_training_input() -> None:
    X = pd.DataFrame({"a": np.arange(50.0)})
    with pytest.raises(InputError, match="one class only"):
        train_model(X, np.zeros(50), {"a": FeatureMeta()}, "scorecard")
    with pytest.raises(InputError, match="no FeatureMeta"):
        train_model(X, np.r_[np.zeros(25), np.ones(25)], {}, "scorecard")
    with pytest.raises(InputError, match="method must be"):
        train_model(X, np.r_[np.zeros(25), np.ones(25)], {"a": FeatureMeta()}, "forest")


def test_unfitted_estimators_raise() -> None:
    X = pd.DataFrame({"a": [1.0]})
    with pytest.raises(NotFittedError):
        BinningScorecard({"a": FeatureMeta()}).decision_function(X)
    with pytest.raises(NotFittedError):
        EBMScorecard({"a": FeatureMeta()}).decision_function(X)


@pytest.mark.parametrize("method", ["scorecard", "auto"])
def test_a_feature_never_or_rarely_present_is_left_out_and_recorded(method: str) -> None:
    """E.g. wallet features of a converted dataset that has no wallet events at all."""
    X, y = _data(1_500, 3, "ascending")
    X["never"] = np.nan
    X["rare"] = np.nan
    X.loc[:4, "rare"] = 1.0  # five rows: a CV fold may hold none
    meta = {c: FeatureMeta(dimension="credit_history", monotonic="ascending") for c in X.columns}
    card = train_model(X, y, meta, method, cv_folds=2, params={"ebm": FAST_EBM}, scaling=Scaling())
    excluded = card.training["excluded"]
    assert excluded["never"] == "present on 0 training rows (at least 20 needed)"
    assert excluded["rare"].startswith("present on ") and "at least 20 needed" in excluded["rare"]
    assert {"never", "rare"}.isdisjoint(card.feature_names) and "x" in card.feature_names
    one_value = X.assign(same=7.0)
    card = train_model(one_value, y, {**meta, "same": meta["x"]}, "scorecard", scaling=Scaling())
    assert card.training["excluded"]["same"].startswith("one value on every training row")
    only_missing = pd.DataFrame({"never": [np.nan] * 100})
    with pytest.raises(InputError, match="no feature has values"):
        train_model(only_missing, [0, 1] * 50, {"never": meta["never"]}, "scorecard")
