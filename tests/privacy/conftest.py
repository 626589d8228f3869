"""Hand-made populations for the map: a few public cities, people placed in them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

#: people per city: two large, a medium, a tiny (3 people) and an empty one
SIZES = {101: 600, 102: 400, 103: 150, 104: 3, 105: 0}


@pytest.fixture()
def cities() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "city_id": list(SIZES),
            "name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
            "latitude": [31.2, 39.9, 30.6, 25.0, 45.8],
            "longitude": [121.5, 116.4, 104.1, 102.7, 126.5],
            "population": [24_000_000, 19_000_000, 2_000_000, 600_000, 500_000],
            "size_band": ["mega", "mega", "medium", "small", "small"],
        }
    )


@pytest.fixture()
def people() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    city = np.repeat(list(SIZES), list(SIZES.values()))
    # cities differ: Alpha scores high, Gamma low
    shift = pd.Series({101: 40, 102: 0, 103: -40, 104: 0, 105: 0})[city].to_numpy()
    score = np.clip(rng.normal(600, 60, len(city)) + shift, 350, 950).round()
    frame = pd.DataFrame(
        {"person_id": [f"p{i:05d}" for i in range(len(city))], "city_id": city, "score": score}
    )
    # someone in no listed city, and a repeated person (only the last row counts)
    extra = pd.DataFrame(
        {"person_id": ["p99999", "p00000"], "city_id": [999, 101], "score": [900, 950]}
    )
    return pd.concat([frame, extra], ignore_index=True)
