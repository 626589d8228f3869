"""What-if, the SQL export and the public surface of ``openscore.scoring``/``model``."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import openscore.model
import openscore.scoring
from openscore.errors import InputError
from openscore.model.format import Feature, NumericBinning, Scaling, Term, build_scorecard
from openscore.scoring import score_person, score_table, scoring_sql, what_if

from .strategies import feature_rows, scorecards
from .test_equivalence import arrow_rows, batch


def utilisation_card():
    b = NumericBinning((0.1, 0.3, 0.7))
    late = NumericBinning((1.0, 3.0))
    terms = [
        Term(
            "utilisation",
            ("utilisation",),
            "credit_history",
            (b,),
            (18, 9, -4, -21, 0),
            tuple(b.labels()),
            "Credit used is high",
            "Keep balances below 30 %",
        ),
        Term(
            "late_12m",
            ("late_12m",),
            "credit_history",
            (late,),
            (20, -10, -40, 0),
            tuple(late.labels()),
            "Late payments",
            "No late payment for 12 months",
        ),
    ]
    return build_scorecard(
        method="expert",
        scaling=Scaling(),
        intercept_points=560,
        features=[Feature("utilisation", "credit_history"), Feature("late_12m", "credit_history")],
        terms=terms,
    )


def test_what_if_returns_new_score_and_change() -> None:
    card = utilisation_card()
    person = {"utilisation": 0.8, "late_12m": 2}
    w = what_if(card, person, {"utilisation": 0.1, "late_12m": 0})
    assert w.before.score == 560 - 21 - 10
    assert w.after.score == 560 + 9 + 20
    assert w.change == 60
    assert w.contribution_changes == {"utilisation": 30, "late_12m": 30}
    assert [r.code for r in w.before.reasons] == ["utilisation", "late_12m"]
    assert [r.code for r in w.after.reasons] == ["utilisation"]
    with pytest.raises(InputError, match="no feature 'salary'"):
        what_if(card, person, {"salary": 1})


def test_what_if_not_sharing_is_neutral() -> None:
    card = utilisation_card()
    w = what_if(card, {"utilisation": 0.8, "late_12m": 0}, {"utilisation": None})
    assert w.after.contributions["utilisation"] == 0


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_sql_export_scores_like_the_expression(data: st.DataObject) -> None:
    card = data.draw(scorecards())
    rows = data.draw(feature_rows(card, n=6))
    con = duckdb.connect()
    table = arrow_rows(card, rows)
    con.register("src", table)
    con.execute("CREATE TABLE features AS SELECT * FROM src")
    sql = scoring_sql(card, id_column="row_id")
    got = con.sql(sql.rstrip().rstrip(";") + " ORDER BY row_id").to_arrow_table().to_pylist()
    assert got == batch(card, rows)


def test_missing_columns_are_named() -> None:
    import ibis

    card = utilisation_card()
    t = ibis.memtable(pa.table({"utilisation": [0.2], "other": [1]}))
    with pytest.raises(InputError, match="lacks columns the model needs: late_12m"):
        score_table(card, t)


def test_person_rejects_text_for_a_numeric_feature() -> None:
    with pytest.raises(InputError, match="not a number"):
        score_person(utilisation_card(), {"utilisation": "high"})


@pytest.mark.parametrize("module", [openscore.model, openscore.scoring])
def test_public_names_are_sorted_and_exist(module) -> None:
    assert module.__all__ == sorted(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)


def test_boolean_categories_compare_as_sql_text() -> None:
    """A boolean column is the category 'true'/'false' in Python, DuckDB and Spark alike."""
    import ibis

    from openscore.model.format import CategoricalBinning

    b = CategoricalBinning((("true",), ("false",)))
    card = build_scorecard(
        method="expert",
        scaling=Scaling(),
        intercept_points=600,
        features=[Feature("verified", "identity", "categorical")],
        terms=[Term("verified", ("verified",), "identity", (b,), (10, -5, 0, 0))],
    )
    t = ibis.memtable(pa.table({"verified": pa.array([True, False, None])}))
    got = ibis.duckdb.connect().to_pyarrow(score_table(card, t)).to_pylist()
    want = [score_person(card, {"verified": v}).score for v in (True, False, None)]

    def order(v: int | None) -> tuple[bool, int]:
        return (v is None, v or 0)

    # a row with nothing on file is not scored (no number) on both paths alike
    assert sorted((r["score"] for r in got), key=order) == sorted(want, key=order)
    assert sorted(want, key=order)[:2] == [595, 610]
