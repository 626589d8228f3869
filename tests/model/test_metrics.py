"""Validation figures on cases whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from openscore.model import metrics as m
from openscore.model.format import Scaling


def test_perfect_and_inverted_ranking() -> None:
    y = np.array([1, 1, 0, 0])
    assert m.auc(y, [1, 2, 3, 4]) == 1.0  # bads score low: perfect
    assert m.auc(y, [4, 3, 2, 1]) == 0.0
    assert m.ks(y, [1, 2, 3, 4]) == 1.0
    assert m.gini(y, [1, 2, 3, 4]) == 1.0


def test_psi_is_zero_for_the_same_distribution_and_grows_with_shift() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=5000)
    assert m.psi(a, a) == pytest.approx(0.0)
    assert m.psi(a, a + 1.0) > 0.25


def test_band_table_and_fall() -> None:
    scale = Scaling()
    score = np.array([400, 420, 560, 580, 620, 660, 720, 800])
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    bands = m.band_table(y, score, scale)
    assert [b["rows"] for b in bands] == [2, 2, 1, 1, 2]
    assert [b["bad_rate"] for b in bands] == [1.0, 0.5, 0.0, 0.0, 0.0]
    assert not m.bad_rate_falls(bands)  # 0 → 0 does not fall
    assert bands[0]["predicted_bad_rate"] > bands[-1]["predicted_bad_rate"]


def test_scaling_reference_points() -> None:
    s = Scaling()
    assert s.bad_rate_of_score(600) == pytest.approx(1 / 21)
    assert s.bad_rate_of_score(640) == pytest.approx(1 / 41)
    assert s.intercept_of_logit(-np.log(20)) == pytest.approx(600)
