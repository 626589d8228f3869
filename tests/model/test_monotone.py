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
        assert not (t.is_pair and {"up", "down"} & set(t.features))


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
