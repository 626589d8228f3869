"""Features rounded to decimals are the same double on DuckDB and on Spark.

``round(x, 4)`` is not: DuckDB rounds the double, Spark the double's shortest decimal
text half up, so a ratio that prints as a tie (145 / 100,000 prints 0.00145 but is just
below it) went to different sides (10 of 99,428 people's ``utilisation`` in
``benchmarks/engines.py`` at 100,000 people). ``features.frame.rounded`` is one IEEE
operation a step, so both engines give the same bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from openscore.engines.duckdb import DuckDBEngine
from openscore.features.frame import rounded

pytestmark = pytest.mark.spark


def _values() -> np.ndarray:
    # ratios of whole cents that print as ties, their negatives, exact halves, and noise
    ties = [n / d for d in (100_000, 200_000, 400_000, 20_000) for n in range(1, 4001)]
    halves = [0.00005, 0.00015, 1.00005, 2.675, 0.125, 0.5, 1.5, 2.5, 1e-12, 0.0]
    rng = np.random.default_rng(5)
    noise = rng.uniform(-3, 3, 2000).tolist() + (10.0 ** rng.uniform(-6, 9, 500)).tolist()
    values = np.array(ties + halves + noise)
    return np.concatenate([values, -values])


def _rounded_on(engine: Any, values: np.ndarray, digits: int) -> np.ndarray:
    t = engine.table(pa.table({"i": np.arange(len(values)), "x": values}), f"r{digits}")
    frame = engine.to_pandas(t.select(t.i, y=rounded(t.x, digits))).sort_values("i")
    return frame["y"].to_numpy(dtype=np.float64)


@pytest.mark.parametrize("digits", [2, 4])
def test_rounded_is_the_same_double_on_both_engines(spark_engine: Any, digits: int) -> None:
    values = _values()
    duck = DuckDBEngine()
    try:
        want = _rounded_on(duck, values, digits)
    finally:
        duck.close()
    got = _rounded_on(spark_engine, values, digits)
    assert np.array_equal(got, want)  # to the bit (no NaN among them)
    # and it is rounding: within half a unit of the last decimal, a whole number of them
    scale = 10.0**digits
    assert np.all(np.abs(want - values) <= 0.5 / scale + np.abs(values) * 1e-15)
    units = want * scale
    assert np.all(np.abs(units - np.round(units)) <= 1e-6 * np.maximum(1.0, np.abs(units)))


def test_rounded_takes_exact_halves_away_from_zero() -> None:
    """As DuckDB's ``round()`` did, so the values the models were trained on stay put."""
    duck = DuckDBEngine()
    try:
        t = duck.table(pa.table({"x": [0.5, -0.5, 2.5, -2.5, 0.125, -0.125, 0.0]}), "halves")
        got = duck.to_pandas(t.select(a=rounded(t.x, 0), b=rounded(t.x, 2)))
    finally:
        duck.close()
    assert got["a"].tolist() == [1.0, -1.0, 3.0, -3.0, 0.0, 0.0, 0.0]
    assert got["b"].tolist() == [0.5, -0.5, 2.5, -2.5, 0.13, -0.13, 0.0]


def test_rounded_gives_what_duckdb_round_gave() -> None:
    """On every test value (the ties above among them), so models trained on DuckDB's
    features before this rule see the same values."""
    values = _values()
    duck = DuckDBEngine()
    try:
        t = duck.table(pa.table({"x": values}), "before")
        for digits in (2, 4):
            got = duck.to_pandas(t.select(a=rounded(t.x, digits), b=t.x.round(digits)))
            assert np.array_equal(got["a"].to_numpy(), got["b"].to_numpy()), digits
    finally:
        duck.close()
