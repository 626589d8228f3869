"""The audit's figures on hand-made frames, where every number can be worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from openscore.errors import InputError
from openscore.fairness import (
    LENGTH_MISMATCH,
    MIN_GROUP_SIZE_BELOW_ONE,
    MISSING_GROUP_COLUMN,
    NO_GROUPS,
    OUTCOME_NOT_BINARY,
    SMALL_GROUP,
    TOO_FEW_GROUPS,
    audit_frame,
    check_groups,
    derive_groups,
)
from openscore.fairness.groups import MISSING_LABEL
from openscore.model.format import Scaling


def hand_made() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Group a: 10 people, 5 score 620 (approved at 600), 5 score 560.
    Group b: 10 people, 8 score 620, 2 score 560. Group c: one person, 700.
    Defaults: in a, two of the declined; in b, one declined and one approved."""
    scores = [620] * 5 + [560] * 5 + [620] * 8 + [560] * 2 + [700]
    y_bad = [0] * 5 + [1, 1, 0, 0, 0] + [1] + [0] * 7 + [1, 0] + [0]
    groups = pd.DataFrame({"grp": ["a"] * 10 + ["b"] * 10 + ["c"]})
    return np.array(scores), np.array(y_bad), groups


def test_four_fifths_ratio_is_lowest_over_highest_approval_rate() -> None:
    scores, y, groups = hand_made()
    audit = audit_frame(scores, y, groups, thresholds={600: ["bike"]}, min_group_size=2)
    rows = audit.by_group.loc["grp"]
    assert rows.loc["a", "approval_600"] == pytest.approx(0.5)
    assert rows.loc["b", "approval_600"] == pytest.approx(0.8)
    cmp = audit.comparison.loc["grp"]
    assert cmp["approval_ratio_600"] == pytest.approx(0.5 / 0.8)  # 0.625
    assert not cmp["four_fifths_600"]
    assert (cmp["lowest_600"], cmp["highest_600"]) == ("a", "b")
    # false negatives: repaid but declined. a: 8 repaid, 3 of them declined; b: 8 repaid,
    # 1 declined
    assert rows.loc["a", "fnr_600"] == pytest.approx(3 / 8)
    assert rows.loc["b", "fnr_600"] == pytest.approx(1 / 8)
    assert cmp["fnr_gap_600"] == pytest.approx(2 / 8)
    assert audit.overall["approval_600"] == pytest.approx(14 / 21)


def test_a_ratio_at_or_above_four_fifths_passes() -> None:
    scores = np.array([650] * 8 + [500] * 2 + [650] * 10)
    y = np.zeros(20, dtype=int)
    groups = pd.DataFrame({"g": ["x"] * 10 + ["y"] * 10})
    cmp = audit_frame(scores, y, groups, thresholds={600: ["p"]}, min_group_size=1).comparison
    assert cmp.loc["g", "approval_ratio_600"] == pytest.approx(0.8)
    assert cmp.loc["g", "four_fifths_600"]


def test_a_group_below_the_minimum_is_named_by_size_only() -> None:
    scores, y, groups = hand_made()
    audit = audit_frame(scores, y, groups, thresholds={600: ["bike"]}, min_group_size=2)
    c = audit.by_group.loc[("grp", "c")]
    assert c["people"] == 1 and not c["compared"]
    figures = c.drop(["people", "compared"])
    assert figures.isna().all()  # a group of one would reveal its member's score
    assert audit.notices == [SMALL_GROUP.format(name="grp", group="c", size=1, min_size=2)]
    # c (approval 1.0) takes no part in the ratio
    assert audit.comparison.loc["grp", "approval_ratio_600"] == pytest.approx(0.625)


def test_auc_and_calibration_need_enough_defaults_in_the_group() -> None:
    scores, y, groups = hand_made()
    audit = audit_frame(scores, y, groups, thresholds={600: ["bike"]}, min_group_size=2)
    assert math.isnan(audit.by_group.loc[("grp", "a"), "auc"])  # 2 defaults only
    assert math.isnan(audit.by_group.loc[("grp", "a"), "calibration_gap_points"])


def test_calibration_gap_is_positive_for_a_group_that_repays_better_than_its_scores() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    scores = rng.integers(450, 750, n)
    groups = pd.DataFrame({"g": np.where(np.arange(n) % 2 == 0, "safer", "riskier")})
    pd_true = 1 / (1 + np.exp((scores - 560) / 40))
    # the same scores, but 'safer' defaults half as often as its scores say
    pd_true = np.where(groups["g"] == "safer", pd_true / 2, np.minimum(pd_true * 1.5, 1))
    y = (rng.random(n) < pd_true).astype(int)
    audit = audit_frame(scores, y, groups, thresholds={600: ["p"]}, scaling=Scaling())
    gaps = audit.by_group.loc["g", "calibration_gap_points"]
    assert gaps["safer"] > 10 > -10 > gaps["riskier"]
    auc = audit.by_group.loc["g", "auc"]
    assert (auc > 0.6).all()


def test_a_missing_group_column_is_named() -> None:
    source = pd.DataFrame({"sex": ["f", "m"], "age": [30, 40]})
    with pytest.raises(InputError) as err:
        derive_groups(source, ["sex", "marital_status"])
    assert err.value.reason == MISSING_GROUP_COLUMN.format(
        name="marital_status", looked="'marital_status', 'MARRIAGE'", available="sex, age"
    )
    assert err.value.field == "marital_status"


def test_a_column_with_one_group_cannot_be_compared() -> None:
    groups = pd.DataFrame({"sex": ["female"] * 30 + ["male"]})
    with pytest.raises(InputError) as err:
        check_groups(groups, min_size=5)
    assert err.value.reason == TOO_FEW_GROUPS.format(
        name="sex", eligible=1, min_size=5, sizes="female: 30, male: 1"
    )


def test_bad_arguments_are_named() -> None:
    scores, y, groups = hand_made()
    with pytest.raises(InputError) as err:
        audit_frame(scores, y, groups, thresholds={600: ["p"]}, min_group_size=0)
    assert err.value.reason == MIN_GROUP_SIZE_BELOW_ONE.format(value=0)
    with pytest.raises(InputError) as err:
        audit_frame(scores[:-1], y, groups, thresholds={600: ["p"]})
    assert err.value.reason == LENGTH_MISMATCH.format(lengths="20, 21, 21")
    with pytest.raises(InputError) as err:
        audit_frame(scores, y * 2, groups, thresholds={600: ["p"]}, min_group_size=1)
    assert err.value.reason == OUTCOME_NOT_BINARY.format(values=["0", "2"])
    with pytest.raises(InputError) as err:
        derive_groups(groups, [])
    assert err.value.reason == NO_GROUPS


def test_known_attributes_get_words_and_bands() -> None:
    taiwan = pd.DataFrame(
        {
            "SEX": [1, 2, 2],
            "EDUCATION": [0, 2, 6],
            "MARRIAGE": [1, 0, 3],
            "AGE": [21, 35, None],
        }
    )
    g = derive_groups(taiwan, ["sex", "education", "marital_status", "age_band"])
    assert g["sex"].tolist() == ["male", "female", "female"]
    assert g["education"].tolist() == ["unknown", "university", "unknown"]
    assert g["marital_status"].tolist() == ["married", "unknown", "other"]
    assert g["age_band"].tolist() == ["18-24", "35-44", MISSING_LABEL]
    synth = pd.DataFrame({"e_literacy": [0.1, 0.5, 0.95], "city_size_band": ["small"] * 3})
    g = derive_groups(synth, ["e_literacy_band", "city_size"])
    assert g["e_literacy_band"].tolist() == ["low", "medium", "high"]
    assert g["city_size"].tolist() == ["small"] * 3
