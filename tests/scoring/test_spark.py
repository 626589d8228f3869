"""The same compiled expression gives the same answers on PySpark as on DuckDB."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openscore.scoring import score_table

from .strategies import feature_rows, scorecards
from .test_equivalence import batch

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture()
def spark_con(spark_engine) -> object:
    """The Ibis connection of the shared test session (tests/fixtures/spark.py)."""
    return spark_engine.con


@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_spark_equals_duckdb(spark_con, data: st.DataObject) -> None:
    card = data.draw(scorecards())
    rows = data.draw(feature_rows(card, n=8))
    # an explicit schema: Spark cannot infer the type of an all-null column, and pandas 3
    # would hold missing strings as NaN (which Spark turns into the text "nan")
    from pyspark.sql import types as T

    fields = [T.StructField("row_id", T.LongType())]
    for f in card.features:
        kind = T.DoubleType() if f.type == "numeric" else T.StringType()
        fields.append(T.StructField(f.name, kind))
    records = [(i, *[row[f.name] for f in card.features]) for i, row in enumerate(rows)]
    name = f"features_{uuid.uuid4().hex[:8]}"
    session = spark_con._session
    session.createDataFrame(records, T.StructType(fields)).createOrReplaceTempView(name)
    table = spark_con.table(name)
    want = batch(card, rows)
    for tree_max in (48, 0):  # CASE trees, then binary lifting for every term
        with mock.patch("openscore.scoring.compile.TREE_MAX_LEAVES", tree_max):
            expr = score_table(card, table, "row_id")
        got = sorted(spark_con.to_pyarrow(expr).to_pylist(), key=lambda r: r["row_id"])
        assert [r["score"] for r in got] == [r["score"] for r in want]
        assert got == want
