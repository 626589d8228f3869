"""Small synthetic credit tables for the model tests (fast, with a known signal)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def credit_table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Numeric, skewed, categorical and missing values, plus columns that must be dropped."""
    rng = np.random.default_rng(seed)
    late = rng.poisson(0.7, n).astype(float)
    util = rng.beta(2, 5, n)
    income = np.exp(rng.normal(10, 1, n))  # skewed
    housing = rng.choice(["own", "rent", "free"], n, p=[0.5, 0.4, 0.1])
    logit = -1.2 + 0.9 * late + 2.5 * (util - 0.3) - 0.4 * (np.log(income) - 10)
    logit += np.where(housing == "rent", 0.5, 0.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    util[rng.random(n) < 0.1] = np.nan
    df = pd.DataFrame(
        {
            "Unnamed: 0": np.arange(n),
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "late_payments": late,
            "utilisation": util,
            "income": income.round(2),
            "housing": housing,
            "constant": 1,
            "SEX": rng.choice([1, 2], n),
            "age": rng.integers(18, 80, n),
            "noise": rng.normal(size=n),
            "default": y,
        }
    )
    return df
