"""The city credit map: per city, how many people are scored, their mean score and the
share in each band — released with differential privacy, small cells suppressed.

``release_city_map(people, cities, epsilon=1, k=20)`` is pure: it reads one row per person
(city, score), draws the noise (``mechanisms.py``) and returns only noisy figures; it
touches no registry and no disk. ``publish.py`` records the budget and writes the files.

* **Budget split.** ``ε`` is split evenly: half for the band histogram (which also gives
  the counts and the shares), half for the score sums (which give the means). Even,
  because at the sizes that matter (cities of 20–200 people) it keeps the mean's and the
  shares' errors of similar weight on the map; ``sum_share`` changes it.
* **Suppression on the noisy count.** A city is published when its *noisy* count reaches
  ``k``. That decision is post-processing of a DP output and costs no privacy. Deciding on
  the true count would not be DP at all: whether a city appears would itself reveal
  whether one person more or less lives there (a city of exactly k people). The price:
  near ``k`` a city with slightly more than ``k`` people may be suppressed and one with
  slightly fewer published — with noisy figures, as every published figure is.
* **Nothing true leaves.** The release holds the noisy count (sum of the noisy band
  counts), the noisy mean (650 + noisy centred sum ÷ noisy count, clamped to 350–950) and
  the shares (noisy band counts clamped at 0, over their sum); the public city list (name,
  coordinates, size band) is public information. ``true_city_stats`` exists only to
  measure the error on synthetic data (benchmarks, tests) and is never part of a release.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from openscore.domain import BAND_NAMES, BANDS
from openscore.errors import InputError
from openscore.privacy.mechanisms import (
    SCORE_CENTRE,
    SCORE_HALF_RANGE,
    SCORE_HIGH,
    SCORE_LOW,
    accuracy,
    map_measurements,
)

DEFAULT_EPSILON = 1.0
DEFAULT_K = 20
#: a single release may not spend more than this unless the caller raises it on purpose
MAX_RELEASE_EPSILON = 1.0
DEFAULT_SUM_SHARE = 0.5

EPSILON_NOT_POSITIVE = "epsilon must be a positive number, got {value}"
EPSILON_ABOVE_CAP = (
    "epsilon {value:g} is above the per-release cap of {cap:g}: a release spends at most "
    "{cap:g} (raise the cap on purpose if you must)"
)
K_BELOW_ONE = "k (the smallest published cell) must be a whole number of at least 1, got {value}"
SUM_SHARE_OUT_OF_RANGE = "sum_share must lie strictly between 0 and 1, got {value}"
PEOPLE_COLUMNS = "people need columns person_id, city_id and score (missing: {missing})"
CITIES_COLUMNS = (
    "the city list needs columns city_id, name, latitude, longitude, size_band (missing: {missing})"
)
DUPLICATE_CITIES = "the city list repeats city ids: {ids}"
NO_CITIES = "the city list is empty"

SHARE_COLUMNS = tuple(f"share_{b}" for b in BAND_NAMES)
#: the columns of a release table: public city facts, then noisy figures only
RELEASE_COLUMNS = (
    "city_id",
    "city",
    "latitude",
    "longitude",
    "size_band",
    "published",
    "people",
    "mean_score",
    *SHARE_COLUMNS,
    "mean_score_margin",
    "share_margin",
)
_BAND_LOWS = np.array([b.low for b in BANDS])


def check_parameters(epsilon: float, k: int, *, max_epsilon: float = MAX_RELEASE_EPSILON) -> None:
    """``InputError`` for an ε that is not a positive number or is above the cap, or a
    ``k`` below 1."""
    if (
        isinstance(epsilon, bool)
        or not isinstance(epsilon, (int, float))
        or not math.isfinite(epsilon)
        or epsilon <= 0
    ):
        raise InputError(EPSILON_NOT_POSITIVE.format(value=epsilon), field="epsilon")
    if epsilon > max_epsilon + 1e-12:
        raise InputError(EPSILON_ABOVE_CAP.format(value=epsilon, cap=max_epsilon), field="epsilon")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(K_BELOW_ONE.format(value=k), field="k")


def mean_score_margin(epsilon_sum: float, count: float, k: int, alpha: float = 0.05) -> float:
    """The half-width (points) that a city's noisy mean score stays within its noiseless
    value with probability ``1 − alpha``: the score sum's noise bound at the mechanism's
    scale (``SCORE_HALF_RANGE / ε_sum``) over the noisy count (at least ``k``). Computed
    only from the mechanism's parameters and released figures: post-processing, no
    privacy spent, the same number the release table carries."""
    return accuracy(SCORE_HALF_RANGE / epsilon_sum, alpha) / max(float(count), float(k))


def band_index(scores: np.ndarray) -> np.ndarray:
    """0 (poor) … 4 (excellent) for scores already clamped to 350–950."""
    return np.searchsorted(_BAND_LOWS, scores, side="right") - 1


def check_cities(cities: pd.DataFrame) -> pd.DataFrame:
    missing = [
        c
        for c in ("city_id", "name", "latitude", "longitude", "size_band")
        if c not in cities.columns
    ]
    if missing:
        raise InputError(CITIES_COLUMNS.format(missing=", ".join(missing)))
    if cities.empty:
        raise InputError(NO_CITIES)
    dup = cities["city_id"][cities["city_id"].duplicated()]
    if len(dup):
        raise InputError(DUPLICATE_CITIES.format(ids=", ".join(map(str, dup.head(5)))))
    return cities.reset_index(drop=True)


def bounded_people(people: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """One row per person (the last given wins), the city's position in the public list
    (−1: not on it, never released) and the score clamped to 350–950."""
    missing = [c for c in ("person_id", "city_id", "score") if c not in people.columns]
    if missing:
        raise InputError(PEOPLE_COLUMNS.format(missing=", ".join(missing)))
    one = people.drop_duplicates("person_id", keep="last")
    position = pd.Series(np.arange(len(cities)), index=cities["city_id"].to_numpy())
    idx = one["city_id"].map(position).fillna(-1).to_numpy(dtype=np.int64)
    score = pd.to_numeric(one["score"], errors="coerce").to_numpy(dtype=float)
    keep = ~np.isnan(score)
    return pd.DataFrame(
        {
            "city": idx[keep],
            "score": np.clip(np.rint(score[keep]), SCORE_LOW, SCORE_HIGH).astype(np.int64),
        }
    )


@dataclass
class CityMapRelease:
    """A DP release: the table (public city facts + noisy figures) and how it was made."""

    table: pd.DataFrame
    epsilon: float
    epsilon_histogram: float
    epsilon_sum: float
    k: int
    histogram_scale: float
    sum_scale: float
    #: per city-size band: cities, published, median 95 % margins (from the noise scales)
    expected_error: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def published(self) -> pd.DataFrame:
        return self.table[self.table["published"]]

    def parameters(self) -> dict[str, object]:
        return {
            "epsilon": self.epsilon,
            "delta": 0.0,
            "epsilon_histogram": self.epsilon_histogram,
            "epsilon_sum": self.epsilon_sum,
            "k": self.k,
            "mechanism": "discrete Laplace (OpenDP), pure epsilon-DP",
            "privacy_unit": "one person (one city, one score)",
            "histogram_scale": self.histogram_scale,
            "sum_scale": self.sum_scale,
            "score_clamp": [SCORE_LOW, SCORE_HIGH],
            "score_centre": SCORE_CENTRE,
            "suppression": f"a city is published when its noisy count is at least {self.k}",
        }


def release_city_map(
    people: pd.DataFrame,
    cities: pd.DataFrame,
    *,
    epsilon: float = DEFAULT_EPSILON,
    k: int = DEFAULT_K,
    sum_share: float = DEFAULT_SUM_SHARE,
    max_epsilon: float = MAX_RELEASE_EPSILON,
) -> CityMapRelease:
    """The DP city map of ``people`` (person_id, city_id, score) over the public city
    list ``cities`` (city_id, name, latitude, longitude, size_band)."""
    check_parameters(epsilon, k, max_epsilon=max_epsilon)
    if not (0 < sum_share < 1):
        raise InputError(SUM_SHARE_OUT_OF_RANGE.format(value=sum_share), field="sum_share")
    cities = check_cities(cities)
    rows = bounded_people(people, cities)
    n_cities, n_bands = len(cities), len(BANDS)
    m = map_measurements(n_cities * n_bands, epsilon * (1 - sum_share), epsilon * sum_share)

    on_list = rows["city"].to_numpy() >= 0
    city = rows["city"].to_numpy()
    score = rows["score"].to_numpy()
    codes = np.where(on_list, city * n_bands + band_index(score), -1).astype(np.int64)
    noisy = np.asarray(m.histogram(codes), dtype=np.int64)[: n_cities * n_bands]
    bands = noisy.reshape(n_cities, n_bands)
    counts = bands.sum(axis=1)

    centred = (score - SCORE_CENTRE).astype(np.int64)
    order = np.argsort(city, kind="stable")
    starts = np.searchsorted(city[order], np.arange(n_cities + 1))
    sums = np.empty(n_cities, dtype=np.int64)
    for c in range(n_cities):  # every city on the list gets noise, empty or not
        sums[c] = m.city_sum(centred[order[starts[c] : starts[c + 1]]])

    published = counts >= k
    denominator = np.maximum(counts, k).astype(float)
    mean = np.clip(SCORE_CENTRE + sums / denominator, SCORE_LOW, SCORE_HIGH)
    positive = np.clip(bands, 0, None).astype(float)
    totals = positive.sum(axis=1, keepdims=True)
    shares = np.divide(positive, totals, out=np.zeros_like(positive), where=totals > 0)
    # the same figure as ``mean_score_margin`` (which the public page recomputes)
    mean_margin = accuracy(SCORE_HALF_RANGE / m.epsilon_sum) / denominator
    share_margin = accuracy(m.histogram_scale) / denominator

    table = pd.DataFrame(
        {
            "city_id": cities["city_id"].to_numpy(),
            "city": cities["name"].astype(str).to_numpy(),
            "latitude": cities["latitude"].to_numpy(dtype=float),
            "longitude": cities["longitude"].to_numpy(dtype=float),
            "size_band": cities["size_band"].astype(str).to_numpy(),
            "published": published,
            "people": pd.array(np.where(published, counts, 0), dtype="Int64"),
            "mean_score": np.round(mean, 1),
            **{col: np.round(shares[:, j], 4) for j, col in enumerate(SHARE_COLUMNS)},
            "mean_score_margin": np.round(mean_margin, 1),
            "share_margin": np.round(share_margin, 4),
        }
    )
    # a suppressed city shows where it is and nothing else
    table.loc[~published, "people"] = pd.NA
    table.loc[~published, ["mean_score", *SHARE_COLUMNS, "mean_score_margin", "share_margin"]] = (
        np.nan
    )
    table = table[list(RELEASE_COLUMNS)]
    expected = {}
    for band, part in table.groupby("size_band", sort=False):
        shown = part[part["published"]]
        expected[str(band)] = {
            "cities": int(len(part)),
            "published": int(len(shown)),
            "median_mean_score_margin": float(shown["mean_score_margin"].median())
            if len(shown)
            else math.nan,
            "median_share_margin": float(shown["share_margin"].median())
            if len(shown)
            else math.nan,
        }
    return CityMapRelease(
        table=table,
        epsilon=m.epsilon,
        epsilon_histogram=m.epsilon_histogram,
        epsilon_sum=m.epsilon_sum,
        k=int(k),
        histogram_scale=m.histogram_scale,
        sum_scale=m.sum_scale,
        expected_error=expected,
    )


def true_city_stats(people: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """The exact figures per city — for measuring the noise on synthetic data only; never
    published. Same bounded inputs as the release (one row per person, clamped)."""
    cities = check_cities(cities)
    rows = bounded_people(people, cities)
    rows = rows[rows["city"] >= 0]
    n_bands = len(BANDS)
    out = pd.DataFrame(
        {
            "city_id": cities["city_id"].to_numpy(),
            "size_band": cities["size_band"].astype(str).to_numpy(),
        }
    )
    grouped = rows.groupby("city")["score"]
    out["people"] = grouped.size().reindex(range(len(cities)), fill_value=0).to_numpy()
    out["mean_score"] = grouped.mean().reindex(range(len(cities))).to_numpy()
    counts = np.zeros((len(cities), n_bands))
    np.add.at(counts, (rows["city"].to_numpy(), band_index(rows["score"].to_numpy())), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / counts.sum(axis=1, keepdims=True)
    for j, col in enumerate(SHARE_COLUMNS):
        out[col] = shares[:, j]
    return out


def measure_error(release: CityMapRelease, truth: pd.DataFrame, k: int | None = None) -> dict:
    """The error the noise adds, against the true figures, per city-size band (and all):
    mean absolute error of the mean score (points), of the band shares (share points,
    averaged over the five bands) and of the count, over the published cities; the
    between-city spread of the true means as the yardstick; cells misjudged by the
    noisy suppression."""
    k = k or release.k
    t = truth.set_index("city_id")
    r = release.table.set_index("city_id")
    both = r.join(t, rsuffix="_true")
    out: dict[str, dict] = {}
    for band, part in [*both.groupby("size_band", sort=False), ("all", both)]:
        shown = part[part["published"]]
        mean_err = (shown["mean_score"] - shown["mean_score_true"]).abs()
        share_err = (
            np.mean(
                [(shown[c] - shown[f"{c}_true"]).abs().to_numpy() for c in SHARE_COLUMNS], axis=0
            )
            if len(shown)
            else np.array([])
        )
        count_err = (shown["people"].astype(float) - shown["people_true"]).abs()
        spread = float(shown["mean_score_true"].std(ddof=1)) if len(shown) > 1 else math.nan
        mae = float(mean_err.mean()) if len(shown) else math.nan
        out[str(band)] = {
            "cities": int(len(part)),
            "published": int(len(shown)),
            "median_true_people": float(part["people_true"].median()),
            "mean_score_mae_points": mae,
            "share_mae_points": float(100 * share_err.mean()) if len(share_err) else math.nan,
            "count_mae": float(count_err.mean()) if len(shown) else math.nan,
            "count_mae_relative": float((count_err / shown["people_true"].clip(lower=1)).mean())
            if len(shown)
            else math.nan,
            "true_mean_spread_points": spread,
            "error_to_spread": mae / spread if spread and not math.isnan(spread) else math.nan,
            "suppressed_with_k_or_more": int(
                ((~part["published"]) & (part["people_true"] >= k)).sum()
            ),
            "published_with_fewer_than_k": int(
                (part["published"] & (part["people_true"] < k)).sum()
            ),
        }
    return out
