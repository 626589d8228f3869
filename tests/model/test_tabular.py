"""Tabular mode: automatic exclusions, protected attributes, target and map checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from openscore.errors import InputError
from openscore.model.protected import DEFAULT_PROTECTED_ATTRIBUTES, ProtectedAttributes
from openscore.model.tabular import binary_target, coerce_for_model, prepare_tabular

from .data import credit_table


def test_drops_index_id_constant_and_protected_with_reasons() -> None:
    data = prepare_tabular(credit_table(), "default", id_column="customer_id")
    assert set(data.X.columns) == {"late_payments", "utilisation", "income", "housing", "noise"}
    ex = data.excluded
    assert ex["Unnamed: 0"].startswith("unnamed index")
    assert "customer_id" not in ex and "customer_id" not in data.X.columns
    assert ex["constant"] == "constant: one value (1) on every row, nothing to learn from"
    assert ex["SEX"] == "protected attribute (sex/gender)"
    assert ex["age"] == "protected attribute (age)"
    assert data.meta["housing"].type == "categorical"
    assert data.meta["income"].monotonic == "auto"
    assert {m.dimension for m in data.meta.values()} == {"credit_history"}


@pytest.mark.parametrize(
    "name",
    [
        "SEX",
        "Gender",
        "MARRIAGE",
        "marital_status",
        "EDUCATION",
        "personal_status_and_sex",
        "foreign_worker",
        "AGE",
        "age_in_years",
        "Religion",
        "ethnicity",
        "health_status",
        "political_party",
    ],
)
def test_protected_names(name: str) -> None:
    assert DEFAULT_PROTECTED_ATTRIBUTES.category_of(name) is not None


@pytest.mark.parametrize(
    "name", ["age_of_oldest_account", "mortgage", "LIMIT_BAL", "PAY_0", "utilisation", "page"]
)
def test_not_protected(name: str) -> None:
    assert DEFAULT_PROTECTED_ATTRIBUTES.category_of(name) is None


def test_protected_list_is_configurable() -> None:
    from openscore.model.protected import ProtectedCategory

    custom = ProtectedAttributes({"caste": ProtectedCategory(("caste",), ())})
    data = prepare_tabular(credit_table(), "default", id_column="customer_id", protected=custom)
    assert "SEX" in data.X.columns and data.excluded == {
        k: v for k, v in data.excluded.items() if not v.startswith("protected")
    }


def test_map_naming_a_protected_column_is_refused_unless_audit_only() -> None:
    dims = {"credit_history": ["late_payments", "SEX"]}
    with pytest.raises(InputError, match="protected attributes are never model inputs: SEX"):
        prepare_tabular(credit_table(), "default", id_column="customer_id", dimensions=dims)
    data = prepare_tabular(
        credit_table(), "default", id_column="customer_id", dimensions=dims, audit_only=True
    )
    assert "SEX" in data.X.columns and data.protected_in_model == ["SEX"]


def test_map_naming_missing_columns_names_them() -> None:
    with pytest.raises(InputError, match="lacks: nope, gone"):
        prepare_tabular(
            credit_table(),
            "default",
            id_column="customer_id",
            dimensions={"behaviour": ["nope", "gone"]},
        )


def test_map_assigns_dimensions_and_excludes_the_rest() -> None:
    dims = {"credit_history": ["late_payments"], "fulfilment_capacity": ["income"]}
    data = prepare_tabular(credit_table(), "default", id_column="customer_id", dimensions=dims)
    assert data.meta["income"].dimension == "fulfilment_capacity"
    assert data.excluded["noise"] == "not in the dimensions map"


@pytest.mark.parametrize(
    ("values", "bad", "expected"),
    [
        ([0, 1, 1, 0], None, [0, 1, 1, 0]),
        ([True, False, True, True], None, [1, 0, 1, 1]),
        (["good", "bad", "good", "good"], None, [0, 1, 0, 0]),
        (["paid", "x", "paid", "x"], None, [0, 1, 0, 1]),
        (["A", "B", "A", "B"], "B", [0, 1, 0, 1]),
        ([1, 2, 1, 2], "2", [0, 1, 0, 1]),
    ],
)
def test_binary_target(values: list, bad: str | None, expected: list[int]) -> None:
    assert binary_target(pd.Series(values, name="t"), bad_value=bad).tolist() == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([0, 0, 0, 0], "one class only"),
        ([0, 1, 2, 1], "must be binary"),
        (["A", "B", "A", "B"], "give --bad-value"),
        ([1, 2, 1, 2], "must be 0/1"),
        ([0, 1, None, 1], "missing values"),
    ],
)
def test_bad_targets_are_clear_errors(values: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        binary_target(pd.Series(values, name="t"))


@pytest.mark.parametrize(
    ("name", "values", "why"),
    [
        ("customer_id", lambda n: [f"C{i:06d}" for i in range(n)], "named like an id"),
        ("ID", lambda n: np.arange(1, n + 1), "named like an id"),
        ("account", lambda n: np.arange(n) * 7 + 1000, "always increasing"),
    ],
)
def test_an_obvious_id_without_id_column_is_refused_before_training(name, values, why) -> None:
    df = credit_table(800).drop(columns=["customer_id"])
    df.insert(0, name, values(len(df)))
    message = f"column '{name}' looks like an id \\(.*{why}.*--id {name}"
    with pytest.raises(InputError, match=message):
        prepare_tabular(df, "default")
    data = prepare_tabular(df, "default", id_column=name)
    assert name not in data.X.columns
    # a dimensions map that leaves it out cannot make it a feature; one that names it can
    dims = {"credit_history": ["late_payments"]}
    assert list(prepare_tabular(df, "default", dimensions=dims).X.columns) == ["late_payments"]
    with pytest.raises(InputError, match=message):
        prepare_tabular(df, "default", dimensions={"credit_history": ["late_payments", name]})


def test_unique_numbers_that_are_not_an_id_stay_features() -> None:
    df = credit_table(800, seed=1)
    df["balance"] = np.random.default_rng(2).permutation(len(df)) * 13.5
    data = prepare_tabular(df, "default", id_column="customer_id")
    assert "balance" in data.X.columns


def test_fewer_than_200_rows_of_a_class_is_refused_before_training() -> None:
    df = credit_table(400, seed=4)
    bads = int(df["default"].sum())
    assert bads < 200 < len(df) - bads
    with pytest.raises(InputError, match=f"only {bads} bad rows; .* at least 200 goods"):
        prepare_tabular(df, "default", id_column="customer_id")


def test_a_target_that_is_not_binary_is_refused() -> None:
    df = credit_table(800)
    df["default"] = df["default"] + (np.arange(len(df)) % 3 == 0)
    with pytest.raises(InputError, match="target must be binary; it has 3 distinct values"):
        prepare_tabular(df, "default", id_column="customer_id")


def test_a_feature_with_one_value_is_dropped_with_its_value_or_refused_when_named() -> None:
    df = credit_table(800)
    df["branch"] = "north"
    data = prepare_tabular(df, "default", id_column="customer_id")
    assert "branch" not in data.X.columns
    assert (
        data.excluded["branch"]
        == "constant: one value ('north') on every row, nothing to learn from"
    )
    dims = {"credit_history": ["late_payments", "branch"]}
    with pytest.raises(
        InputError, match="names column 'branch', which has one value .'north'. on every row"
    ):
        prepare_tabular(df, "default", id_column="customer_id", dimensions=dims)


def test_absent_target_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="target column 'nope' is not in the table"):
        prepare_tabular(credit_table(), "nope")


def test_numbers_with_missing_markers_are_numeric() -> None:
    df = credit_table(1000)
    df["with_marks"] = df["income"].astype(str)
    df.loc[::5, "with_marks"] = "?"
    data = prepare_tabular(df, "default", id_column="customer_id")
    assert data.meta["with_marks"].type == "numeric"
    assert data.X["with_marks"].isna().sum() == 200
    from openscore.model.format import Feature

    scored = coerce_for_model(df, [Feature("with_marks", "credit_history", "numeric")])
    assert np.isnan(scored["with_marks"].iloc[0])
    df.loc[1, "with_marks"] = "lots"
    with pytest.raises(InputError, match="numeric feature holds text"):
        coerce_for_model(df, [Feature("with_marks", "credit_history", "numeric")])
