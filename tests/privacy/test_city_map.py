"""The DP city map: noise on every figure, small cells suppressed, ε as documented."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from openscore.errors import InputError
from openscore.privacy import (
    EPSILON_ABOVE_CAP,
    EPSILON_NOT_POSITIVE,
    K_BELOW_ONE,
    PEOPLE_COLUMNS,
    RELEASE_COLUMNS,
    check_parameters,
    map_measurements,
    measure_error,
    release_city_map,
    true_city_stats,
)
from openscore.privacy.city_map import SHARE_COLUMNS


def test_epsilon_is_split_between_the_histogram_and_the_sums_as_opendp_maps_them() -> None:
    m = map_measurements(25, 0.25, 0.75)
    assert m.histogram.map(1) == pytest.approx(0.25)  # one person: one cell ± 1
    assert m.city_sum.map(1) == pytest.approx(0.75)  # one person: a sum ± 300
    assert m.epsilon == pytest.approx(1.0)
    assert (m.histogram_scale, m.sum_scale) == (pytest.approx(4.0), pytest.approx(400.0))


def test_small_cells_are_suppressed_and_show_nothing_but_where_they_are(people, cities) -> None:
    figures = ["people", "mean_score", *SHARE_COLUMNS, "mean_score_margin", "share_margin"]
    shown_small = 0
    for _ in range(40):
        release = release_city_map(people, cities, epsilon=1.0, k=20)
        t = release.table.set_index("city")
        assert list(release.table.columns) == list(RELEASE_COLUMNS)
        assert t.loc[["Alpha", "Beta", "Gamma"], "published"].all()
        hidden = t[~t["published"]]
        assert hidden[figures].isna().all().all()
        assert hidden[["latitude", "longitude", "size_band"]].notna().all().all()
        shown_small += int(t.loc[["Delta", "Epsilon"], "published"].sum())
    # suppression reads the noisy count (sd ≈ 6.3 at ε = 1): a city of 3 people reaches
    # 20 in about 0.7 % of releases, an empty one in 0.2 % — with noisy figures only
    assert shown_small <= 4


def test_published_figures_are_noisy_never_the_true_ones(people, cities) -> None:
    truth = true_city_stats(people, cities).set_index("city_id")
    counts, means = [], []
    for _ in range(30):
        t = release_city_map(people, cities, epsilon=1.0, k=20).table.set_index("city_id")
        shown = t[t["published"]]
        counts.append(shown["people"].astype(float) - truth.loc[shown.index, "people"])
        means.append(shown["mean_score"] - truth.loc[shown.index, "mean_score"].round(1))
        shares = shown[list(SHARE_COLUMNS)].sum(axis=1)
        assert np.allclose(shares, 1.0, atol=1e-3)  # shares stay a distribution
    count_err = pd.concat(counts)
    mean_err = pd.concat(means)
    # a mean equal to the truth to 0.1 point is rare; a noise-free release would be all
    assert (mean_err == 0).mean() < 0.1
    assert (count_err != 0).mean() > 0.5
    # five bands, each with discrete Laplace noise of scale 2: sd of the count √40 ≈ 6.3
    assert 3.5 < count_err.std() < 10
    # the sums' noise (scale 600) over ~150-600 people moves means by points, not tens
    assert 0.3 < mean_err.abs().mean() < 15
    # and releases differ from one another: the noise is drawn each time
    assert len({tuple(c.round(3)) for c in counts}) > 1


def test_each_person_counts_once_and_people_off_the_list_in_no_cell(people, cities) -> None:
    truth = true_city_stats(people, cities).set_index("city_id")
    assert truth.loc[101, "people"] == 600  # p00000 repeated: the last row counts
    assert truth["people"].sum() == len(people) - 2
    assert truth.loc[101, "mean_score"] > truth.loc[103, "mean_score"] + 50


def test_measured_error_is_reported_per_city_size_band(people, cities) -> None:
    truth = true_city_stats(people, cities)
    release = release_city_map(people, cities, epsilon=1.0, k=20)
    error = measure_error(release, truth)
    assert set(error) == {"mega", "medium", "small", "all"}
    assert error["mega"]["published"] == 2 and error["small"]["published"] == 0
    assert error["mega"]["mean_score_mae_points"] < error["medium"]["mean_score_mae_points"] + 20
    assert math.isnan(error["small"]["mean_score_mae_points"])
    assert error["all"]["cities"] == 5
    assert release.expected_error["mega"]["median_mean_score_margin"] > 0


@pytest.mark.parametrize("epsilon", [0, -1, 0.0, float("nan"), float("inf")])
def test_an_epsilon_that_is_not_positive_is_refused(epsilon, people, cities) -> None:
    with pytest.raises(InputError) as err:
        release_city_map(people, cities, epsilon=epsilon)
    assert err.value.reason == EPSILON_NOT_POSITIVE.format(value=epsilon)
    assert err.value.field == "epsilon"


@pytest.mark.parametrize("k", [0, -3])
def test_a_k_below_one_is_refused(k, people, cities) -> None:
    with pytest.raises(InputError) as err:
        release_city_map(people, cities, k=k)
    assert err.value.reason == K_BELOW_ONE.format(value=k)


def test_more_than_the_per_release_cap_needs_raising_the_cap() -> None:
    with pytest.raises(InputError) as err:
        check_parameters(2.0, 20)
    assert err.value.reason == EPSILON_ABOVE_CAP.format(value=2.0, cap=1.0)
    check_parameters(2.0, 20, max_epsilon=2.0)


def test_people_without_the_needed_columns_are_refused(cities) -> None:
    with pytest.raises(InputError) as err:
        release_city_map(pd.DataFrame({"person_id": ["a"], "score": [600]}), cities)
    assert err.value.reason == PEOPLE_COLUMNS.format(missing="city_id")
