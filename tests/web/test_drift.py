"""The console's score drift is the model's PSI (one function), on the card's bins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from openscore.model.metrics import psi_from_counts
from openscore.web.reports import Distribution, score_drift

EDGES = [350, 375, 400, 425]


def _now(counts: list[int]) -> Distribution:
    return Distribution(EDGES, counts, sum(counts), None, [], {})


def _card(good: list[int], bad: list[int]) -> dict:
    return {"score_distribution": {"edges": EDGES, "good": good, "bad": bad}}


def test_drift_is_the_model_psi() -> None:
    card = _card([30, 50, 10], [10, 0, 0])
    assert score_drift(card, _now([40, 50, 10])) == pytest.approx(0.0)
    shifted = score_drift(card, _now([5, 20, 75]))
    expected = psi_from_counts(np.array([40.0, 50.0, 10.0]), np.array([5.0, 20.0, 75.0]))
    assert shifted == expected and shifted > 0.25
    # an empty bin is floored (1e-4), not infinite
    assert math.isfinite(score_drift(card, _now([0, 0, 100])))


def test_no_drift_without_comparable_figures() -> None:
    card = _card([30, 50, 10], [10, 0, 0])
    assert score_drift(card, _now([0, 0, 0])) is None
    assert score_drift({}, _now([1, 2, 3])) is None
    other = Distribution([350, 400, 450, 500], [1, 2, 3], 6, None, [], {})
    assert score_drift(card, other) is None
