"""The OpenDP measurements behind the city map, and why their privacy loss is what it is.

Privacy unit: one person, who appears in the input at most once (one city, one score —
``city_map.bounded_people`` enforces it). Neighbouring datasets differ by adding or
removing one person (OpenDP's symmetric distance 1).

Two statistics, each a vetted OpenDP chain with pure ε-DP (``delta = 0``):

* **band histogram** — ``make_count_by_categories`` over every (city, band) cell of the
  *public* city list (so the set of cells never depends on the data), then the discrete
  Laplace mechanism. A person changes one cell by one: L1 sensitivity 1, so scale
  ``1 / ε_hist``. Counts per city and band shares are post-processing of this one output.
* **score sum per city** — each score clamped to 350–950 and centred on 650 (so a person
  moves a sum by at most 300, not 950), summed as integers, then the discrete Laplace
  mechanism with scale ``300 / ε_sum``. The chain runs on each city's scores separately;
  cities are disjoint (each person is in one), so by parallel composition the release of
  all cities' sums costs ``ε_sum``, not ``ε_sum`` times the number of cities. That
  composition step is ours; OpenDP's ``map`` checks each chain's ``ε_sum``.

Basic composition of the two: ``ε = ε_hist + ε_sum``, recorded per release in the
registry (``dp_releases``). Integers throughout, so no floating-point attack on the noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from openscore.domain.bands import SCORE_MAX, SCORE_MIN

#: scores are clamped to the score range and centred, so one person moves a sum by 300
SCORE_LOW, SCORE_HIGH = SCORE_MIN, SCORE_MAX
SCORE_CENTRE = (SCORE_LOW + SCORE_HIGH) // 2
SCORE_HALF_RANGE = (SCORE_HIGH - SCORE_LOW) // 2


def _dp() -> Any:
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


@dataclass(frozen=True)
class MapMeasurements:
    """The two measurements of one release and their privacy losses (as OpenDP maps them)."""

    histogram: Any
    city_sum: Any
    cells: int
    epsilon_histogram: float
    epsilon_sum: float
    histogram_scale: float
    sum_scale: float

    @property
    def epsilon(self) -> float:
        """Basic composition of the two (the city sums compose in parallel)."""
        return self.epsilon_histogram + self.epsilon_sum


@lru_cache(maxsize=32)
def map_measurements(cells: int, epsilon_histogram: float, epsilon_sum: float) -> MapMeasurements:
    """Build the histogram over ``cells`` category codes (0 … cells−1; anything else falls
    into OpenDP's extra "other" count, never released) and the per-city centred sum."""
    dp = _dp()
    hist_scale = 1.0 / epsilon_histogram
    sum_scale = SCORE_HALF_RANGE / epsilon_sum
    histogram = dp.t.make_count_by_categories(
        dp.vector_domain(dp.atom_domain(T="i64")),
        dp.symmetric_distance(),
        categories=list(range(cells)),
        null_category=True,
        MO=dp.L1Distance["i64"],
        TOA="i64",
    ) >> dp.m.then_laplace(hist_scale)
    city_sum = (
        dp.t.make_clamp(
            dp.vector_domain(dp.atom_domain(T="i64")),
            dp.symmetric_distance(),
            bounds=(-SCORE_HALF_RANGE, SCORE_HALF_RANGE),
        )
        >> dp.t.then_sum()
        >> dp.m.then_laplace(sum_scale)
    )
    return MapMeasurements(
        histogram=histogram,
        city_sum=city_sum,
        cells=cells,
        epsilon_histogram=float(histogram.map(1)),
        epsilon_sum=float(city_sum.map(1)),
        histogram_scale=hist_scale,
        sum_scale=sum_scale,
    )


@lru_cache(maxsize=256)
def accuracy(scale: float, alpha: float = 0.05) -> float:
    """Half-width that the discrete Laplace noise of ``scale`` stays within with
    probability ``1 − alpha`` (data-independent: safe to publish)."""
    return float(_dp().discrete_laplacian_scale_to_accuracy(scale, alpha))
