"""Monotone where the meaning is: a declared direction of risk holds in the exported points,
whatever the data say — even when the data's own shape bends the other way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openscore.errors import InputError
from openscore.features import FEATURES
from openscore.jobs.train import feature_meta
from openscore.model import FeatureMeta, Scaling
from openscore.model.ebm import EBMScorecard, project_monotone
from openscore.model.format import NumericBinning, Term
from openscore.model.selection import make_estimator
from openscore.model.training import check_constraints, monotone_violations

FAST_EBM = {"outer_bags": 1, "interactions": 3, "max_rounds": 300, "n_jobs": 1}


def _frame(seed: int, n: int, bend: float) -> tuple[pd.DataFrame, np.ndarray]:
    """Risk rises with ``up`` but with a dip of size ``bend`` in the middle; falls with
    ``down`` but turns back up at the top; ``free`` has a U shape and no declared trend."""
    rng = np.random.default_rng(seed)
    up, down, free = rng.uniform(0, 10, n), rng.uniform(0, 10, n), rng.uniform(0, 10, n)
    logit = (
        0.3 * (up - 5)
        - bend * np.exp(-((up - 5) ** 2))
        - 0.3 * (down - 5)
        + bend * (down > 8.5)
        + 0.08 * (free - 5) ** 2
        - 1.0
        + rng.normal(0, 0.5, n)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame({"up": up, "down": down, "free": free})
    X.loc[rng.random(n) < 0.05, "up"] = np.nan
    return X, y


META = {
    "up": FeatureMeta(monotonic="ascending"),
    "down": FeatureMeta(monotonic="descending"),
    "free": FeatureMeta(monotonic="none"),
}


@pytest.mark.parametrize("method", ["scorecard", "ebm"])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), bend=st.floats(0.0, 2.0))
def test_declared_directions_hold_in_the_exported_points(method: str, seed: int, bend: float):
    X, y = _frame(seed, 1500, bend)
    est = make_estimator(method, META, Scaling(), {"ebm": FAST_EBM}.get(method)).fit(X, y)
    assert monotone_violations(est.terms_, META) == []
    for t in est.terms_:
        if t.features in (("up",), ("down",)):
            b = t.binnings[0]
            cells = np.array(t.points[: b.missing_index])
            steps = np.diff(cells)
            assert (steps <= 0).all() if t.features == ("up",) else (steps >= 0).all()
            assert t.points[b.missing_index] == 0
        # a pair over a declared feature moves its way for every bin of the other feature
        for axis, f in enumerate(t.features if t.is_pair else ()):
            if f not in ("up", "down"):
                continue
            n = t.binnings[axis].missing_index
            lines = np.moveaxis(np.asarray(t.points), axis, -1)[..., :n]
            steps = np.diff(lines.reshape(-1, n), axis=1)
            assert (steps <= 0).all() if f == "up" else (steps >= 0).all()


def test_the_up_and_down_pairs_are_fitted_and_kept_in_direction() -> None:
    """The second stage fits pairs over declared features (a sum of monotone terms is
    monotone); without it (``monotone_pairs=0``) there is none."""
    X, y = _frame(3, 3000, 1.0)
    rng = np.random.default_rng(0)
    # risk rises with ``up`` much faster where ``free`` is high: a pair worth fitting
    y = (
        rng.random(len(y)) < 1 / (1 + np.exp(-(0.6 * (X["up"] - 5) * (X["free"] > 5) - 1)))
    ).astype(int)
    with_pairs = make_estimator("ebm", META, Scaling(), FAST_EBM).fit(X, y)
    pairs = [t.features for t in with_pairs.terms_ if t.is_pair]
    assert ("up", "free") in pairs or ("free", "up") in pairs
    assert monotone_violations(with_pairs.terms_, META) == []
    scores = with_pairs.decision_function(X.iloc[:50])
    assert np.isfinite(scores).all()
    without = EBMScorecard(META, scaling=Scaling(), params=FAST_EBM, monotone_pairs=0).fit(X, y)
    assert not [t for t in without.terms_ if t.is_pair and {"up", "down"} & set(t.features)]


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    shape=st.tuples(st.integers(3, 9), st.integers(3, 7)),
    directions=st.sampled_from(
        [
            ("ascending", "none"),
            ("none", "descending"),
            ("ascending", "descending"),
            ("descending", "descending"),
        ]
    ),
)
def test_a_projected_pair_table_moves_the_declared_way_on_every_line(
    data: st.DataObject, shape: tuple[int, int], directions: tuple[str, str]
) -> None:
    cells = st.floats(-3, 3, allow_nan=False)
    scores = np.array(
        data.draw(st.lists(cells, min_size=shape[0] * shape[1], max_size=shape[0] * shape[1]))
    ).reshape(shape)
    weights = np.array(
        data.draw(st.lists(st.floats(0, 50), min_size=scores.size, max_size=scores.size))
    ).reshape(shape)
    out = project_monotone(scores, weights, directions)
    inner = out[1:-1, 1:-1]
    for axis, d in enumerate(directions):
        steps = np.diff(inner, axis=axis)
        if d == "ascending":
            assert (steps >= -1e-12).all()
        elif d == "descending":
            assert (steps <= 1e-12).all()
    # missing and unknown cells (first and last on each axis) are outside the order
    assert np.array_equal(out[0], scores[0]) and np.array_equal(out[:, -1], scores[:, -1])
    # a table already in order is left as it is
    assert np.allclose(project_monotone(out, weights, directions), out)


def test_a_table_against_its_direction_is_caught() -> None:
    b = NumericBinning((1.0, 2.0))
    term = Term(
        name="up",
        features=("up",),
        dimension="credit_history",
        binnings=(b,),
        points=(10, -5, 3, 0),
        labels=("< 1", "[1, 2)", ">= 2", "missing"),
    )
    assert monotone_violations([term], META) == [
        "up: risk declared ascending but points go from -5 to 3 at bin 2"
    ]
    with pytest.raises(InputError, match="not monotone where the meaning is"):
        check_constraints([term], META)


def test_every_catalog_direction_reaches_training() -> None:
    meta = feature_meta(Scaling(), inputs_only=False)
    for f in FEATURES:
        assert meta[f.name].monotonic == f.monotonic
    declared = [f.name for f in FEATURES if f.monotonic != "none"]
    assert {"current_dpd", "months_since_late", "paid_to_due_6m", "credit_limit"} <= set(declared)
