"""Monotone where the meaning is: a declared direction of risk holds in the exported points,
whatever the data say — even when the data's own shape bends the other way."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openscore.errors import InputError
from openscore.features import FEATURES
from openscore.jobs.train import feature_meta
from openscore.model import FeatureMeta, Scaling
from openscore.model.apply import raw_points
from openscore.model.ebm import EBMScorecard, project_monotone
from openscore.model.format import NumericBinning, Term
from openscore.model.monotone import keep_room
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
    # whoever the person is, moving a declared feature up moves their points its way
    assert_whole_effects_monotone(est.terms_, X)


def assert_whole_effects_monotone(terms, X: pd.DataFrame, people: int = 150) -> None:
    """Sweep each declared feature over every edge of every table over it, for real
    people (their other values kept): the points of the whole model never go the wrong
    way. Independent of ``monotone_violations``, which reasons on the tables."""
    for f, sign in (("up", -1), ("down", 1)):
        edges = sorted(
            {e for t in terms if f in t.features for e in t.binnings[t.features.index(f)].edges}
        )
        if not edges:
            continue
        grid = np.array([edges[0] - 1.0, *edges])
        rows = X.dropna().head(people)
        swept = rows.loc[rows.index.repeat(len(grid))].copy()
        swept[f] = np.tile(grid, len(rows))
        points = raw_points(0, terms, swept).reshape(len(rows), len(grid))
        steps = np.diff(points, axis=1)
        assert (sign * steps >= 0).all(), f"{f}: {steps[(sign * steps < 0).any(axis=1)][:3]}"


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
    assert_whole_effects_monotone(with_pairs.terms_, X)
    # projected on their own (no room from the main tables), every pair line keeps it too
    strict = EBMScorecard(META, scaling=Scaling(), params=FAST_EBM, pair_slack=False).fit(X, y)
    for t in strict.terms_:
        for axis, f in enumerate(t.features if t.is_pair else ()):
            if f not in ("up", "down"):
                continue
            n = t.binnings[axis].missing_index
            lines = np.moveaxis(np.asarray(t.points), axis, -1)[..., :n]
            steps = np.diff(lines.reshape(-1, n), axis=1)
            assert (steps <= 0).all() if f == "up" else (steps >= 0).all()
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


def _main(name: str, edges: tuple[float, ...], points: tuple[int, ...]) -> Term:
    b = NumericBinning(edges)
    return Term(
        name=name,
        features=(name,),
        dimension="credit_history",
        binnings=(b,),
        points=points,
        labels=tuple(b.labels()),
    )


def _pair(rows: list[list[int]], up_edges: tuple[float, ...] = (2.0,)) -> Term:
    a, b = NumericBinning(up_edges), NumericBinning((0.5,))
    return Term(
        name="up x free",
        features=("up", "free"),
        dimension="credit_history",
        binnings=(a, b),
        points=tuple(tuple(r) for r in rows),
        labels=(tuple(a.labels()), tuple(b.labels())),
    )


def test_a_pair_may_bend_by_the_room_its_main_table_leaves_and_no_more() -> None:
    # risk ascending in ``up``: the main table falls by 5 points at 2, so a pair line may
    # rise by up to 5 there; the person's whole effect of ``up`` still falls
    main = _main("up", (1.0, 2.0), (10, 5, 0, 0))
    within = _pair([[0, 0, 0], [5, -2, 0], [0, 0, 0]])
    assert monotone_violations([main, within], META) == []
    beyond = _pair([[0, 0, 0], [6, -2, 0], [0, 0, 0]])
    assert monotone_violations([main, beyond], META) == [
        "up: risk declared ascending but its terms (up, up x free) together can rise by 1 "
        "points at 2"
    ]
    # at an edge where the main table does not move (1.5 is inside its bin [1, 2)) a pair
    # has no room at all
    inside = _pair([[0, 0, 0], [1, 0, 0], [0, 0, 0]], up_edges=(1.5,))
    assert monotone_violations([main, inside], META) != []
    # the guarantee puts a pair back within its room, and leaves one within it unchanged
    fixed = keep_room([main, beyond], {"up": "ascending"})
    assert monotone_violations(list(fixed), META) == []
    assert keep_room([main, within], {"up": "ascending"})[1] == within
    # two pairs over ``up`` share the room: 5 points, 2 each
    other = replace(within, name="up x down", features=("up", "down"))
    shared = keep_room([main, within, other], {"up": "ascending", "down": "descending"})
    assert monotone_violations(list(shared), META) == []


@settings(max_examples=60, deadline=None)
@given(data=st.data(), up=st.sampled_from(["ascending", "descending"]))
def test_keep_room_gives_whole_effects_in_the_declared_direction(
    data: st.DataObject, up: str
) -> None:
    """Random main tables in the declared direction and random pair tables (other edges,
    other directions on the second axis): after ``keep_room`` no declared feature's whole
    effect goes the wrong way, and applying it again changes nothing."""
    meta = {"up": FeatureMeta(monotonic=up), "down": FeatureMeta(monotonic="descending")}
    grid = st.lists(st.integers(0, 8), min_size=1, max_size=5, unique=True).map(
        lambda v: tuple(float(x) for x in sorted(v))
    )
    main_edges = data.draw(grid)
    steps = data.draw(
        st.lists(st.integers(0, 6), min_size=len(main_edges), max_size=len(main_edges))
    )
    core = np.concatenate([[0], np.cumsum(steps)]) * (-1 if up == "ascending" else 1)
    main = _main("up", main_edges, (*map(int, core), 0))
    terms: list[Term] = [main]
    for other in data.draw(st.lists(st.sampled_from(["free", "down"]), max_size=2, unique=True)):
        a, b = NumericBinning(data.draw(grid)), NumericBinning(data.draw(grid))
        cells = st.integers(-9, 9)
        rows = [[data.draw(cells) for _ in range(b.size)] for _ in range(a.size)]
        rows = [
            [0 if i == a.missing_index or j == b.missing_index else v for j, v in enumerate(r)]
            for i, r in enumerate(rows)
        ]
        terms.append(
            Term(
                name=f"up x {other}",
                features=("up", other),
                dimension="credit_history",
                binnings=(a, b),
                points=tuple(tuple(r) for r in rows),
                labels=(tuple(a.labels()), tuple(b.labels())),
            )
        )
    directions = {"up": up, "down": "descending", "free": "none"}
    kept = keep_room(terms, directions)
    assert monotone_violations(list(kept), meta) == []
    assert keep_room(kept, directions) == kept
