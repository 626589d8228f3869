"""The numpy kernel on Arrow batches (batch scoring) == the Ibis expression (the SQL
export) == the one-person scorer, on random scorecards and rows."""

from __future__ import annotations

import math

import duckdb
import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.errors import InputError
from openscore.features import FEATURE_NAMES
from openscore.features.expert import expert_scorecard
from openscore.scoring import score_person, score_table, scoring_sql
from openscore.scoring.eligibility import ScoringRule
from openscore.scoring.kernel import ScoringKernel, score_arrow

from .strategies import feature_rows, scorecards
from .test_equivalence import arrow_rows, assert_row_is_person, batch


@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_kernel_equals_expression_and_person(data: st.DataObject) -> None:
    card = data.draw(scorecards())
    rows = data.draw(feature_rows(card))
    got = score_arrow(card, arrow_rows(card, rows), "row_id", as_of="2026-06-30").to_pylist()
    want = batch(card, rows)
    for g, w in zip(got, want, strict=True):
        assert g.pop("as_of") == "2026-06-30"
        assert g == w  # every column, the reasons' order and the unscorable rows included
    for row, g in zip(rows, got, strict=True):
        assert_row_is_person(g, score_person(card, row))


@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_kernel_equals_the_sql_export_without_texts_and_in_small_batches(
    data: st.DataObject,
) -> None:
    card = data.draw(scorecards())
    rows = data.draw(feature_rows(card, n=7))
    table = arrow_rows(card, rows)
    con = duckdb.connect()
    con.register("features", table)
    sql = scoring_sql(card, id_column="row_id")
    exported = con.sql(sql.rstrip().rstrip(";") + " ORDER BY row_id").to_arrow_table()
    kernel = ScoringKernel(card, "row_id")
    streamed = pa.Table.from_batches(
        [kernel.score_batch(b) for b in table.to_batches(max_chunksize=3)]
    )
    assert streamed.schema == exported.schema
    assert streamed.to_pylist() == exported.to_pylist()
    short = score_arrow(card, table, "row_id", texts=False)
    ibis_con = ibis.duckdb.connect()
    expr = score_table(card, ibis.memtable(table), "row_id", texts=False).order_by("row_id")
    assert short.to_pylist() == ibis_con.to_pyarrow(expr).to_pylist()


@settings(max_examples=6, deadline=None)
@given(data=st.data())
def test_a_batch_scored_a_few_rows_at_a_time_is_the_same(data: st.DataObject) -> None:
    """A row's score depends on that row only: the batch cut into 3-row slices (as the
    threads cut it, at any offset) scores the same, row for row."""
    card = data.draw(scorecards())
    table = arrow_rows(card, data.draw(feature_rows(card)))
    whole = score_arrow(card, table, "row_id")
    kernel = ScoringKernel(card, "row_id")
    batch = table.combine_chunks().to_batches()[0]
    cut = pa.Table.from_batches(
        [kernel.score_batch(batch.slice(i, 3)) for i in range(0, batch.num_rows, 3)],
        schema=whole.schema,
    )
    assert cut.equals(whole)


#: event-mode rows: the ledger's features, each missing or a plausible number
event_rows = st.lists(
    st.fixed_dictionaries(
        {
            name: st.one_of(st.none(), st.floats(0, 400, allow_nan=False), st.integers(0, 12))
            for name in FEATURE_NAMES
        }
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=3, deadline=None)
@given(rows=event_rows)
def test_the_scoring_rule_and_the_expert_card_on_the_kernel(rows: list[dict]) -> None:
    card, rule = expert_scorecard(), ScoringRule()
    cols = {"person_id": pa.array([f"p{i:03d}" for i in range(len(rows))])}
    for name in FEATURE_NAMES:
        cols[name] = pa.array([r[name] for r in rows], type=pa.float64())
    table = pa.table(cols)
    got = score_arrow(card, table, "person_id", rule=rule).to_pylist()
    con = ibis.duckdb.connect()
    expr = score_table(card, ibis.memtable(table), "person_id", rule=rule)
    assert got == con.to_pyarrow(expr.order_by("person_id")).to_pylist()
    for row, g in zip(rows, got, strict=True):
        assert_row_is_person(g, score_person(card, row, rule=rule))


def test_categories_of_other_types_compare_as_sql_text() -> None:
    """Booleans, integers and dictionary-encoded strings: as ``CAST(x AS VARCHAR)``."""
    from openscore.model.format import CategoricalBinning, Feature, Scaling, Term, build_scorecard

    groups = (("true", "1"), ("false", "2"))
    b = CategoricalBinning(groups)
    card = build_scorecard(
        method="scorecard",
        scaling=Scaling(),
        intercept_points=600,
        features=[Feature("flag", "behaviour", "categorical")],
        terms=[Term("flag", ("flag",), "behaviour", (b,), (30, -20, 0, 5), ("a", "b", "m", "o"))],
    )
    con = ibis.duckdb.connect()
    for arr in (
        pa.array([True, False, None, True]),
        pa.array([1, 2, None, 3]),
        pa.array(["1", "false", None, "zz"]).dictionary_encode(),
    ):
        table = pa.table({"row_id": pa.array(range(4), pa.int64()), "flag": arr})
        got = score_arrow(card, table, "row_id").to_pylist()
        plain = (
            table.set_column(1, "flag", arr.cast(pa.string())) if arr.type != pa.bool_() else table
        )
        if pa.types.is_dictionary(arr.type):
            plain = table.set_column(1, "flag", arr.dictionary_decode())
        want = con.to_pyarrow(score_table(card, ibis.memtable(plain), "row_id").order_by("row_id"))
        assert got == want.to_pylist()
        for value, g in zip(arr.to_pylist(), got, strict=True):
            assert g["score"] == score_person(card, {"flag": value}).score


def test_bad_input_is_named() -> None:
    card = expert_scorecard()
    with pytest.raises(InputError, match="lacks columns the model needs: credit_age_months"):
        score_arrow(card, pa.table({"person_id": ["a"]}), "person_id")
    table = pa.table({name: pa.array([1.0]) for name in FEATURE_NAMES})
    with pytest.raises(InputError, match="id column 'person_id' is not in the table"):
        score_arrow(card, table, "person_id")
    bad = table.set_column(0, FEATURE_NAMES[0], pa.array(["lots"]))
    with pytest.raises(InputError, match=f"{FEATURE_NAMES[0]} is not a number"):
        score_arrow(card, bad)
    empty = score_arrow(card, table.slice(0, 0))
    assert empty.num_rows == 0 and empty.schema == ScoringKernel(card).schema()


def test_dictionary_texts_are_the_same_strings_and_read_back_plain(tmp_path) -> None:
    """The batch job writes texts as dictionary arrays without the Arrow schema: the file
    reads back as the plain columns of ``score_table``."""
    import pyarrow.parquet as pq

    card, rule = expert_scorecard(), ScoringRule()
    cols = {"person_id": pa.array([f"p{i}" for i in range(6)])}
    for j, name in enumerate(FEATURE_NAMES):
        cols[name] = pa.array(
            [None if i == 0 or (i + j) % 4 == 0 else float(i * j) for i in range(6)]
        )
    table = pa.table(cols)
    plain = score_arrow(card, table, "person_id", as_of="2026-06-30", rule=rule)
    kernel = ScoringKernel(card, "person_id", as_of="2026-06-30", rule=rule, dictionary=True)
    coded = kernel.score_batch(table.to_batches()[0])
    assert coded.to_pylist() == plain.to_pylist()
    assert plain["status"].to_pylist().count("unscorable") >= 1
    path = tmp_path / "s.parquet"
    with pq.ParquetWriter(path, coded.schema, store_schema=False) as writer:
        writer.write_batch(coded)
    back = pq.read_table(path)
    assert back.schema.equals(plain.schema) and back.equals(plain)


@st.composite
def many_edge_cards(draw: st.DrawFn) -> tuple:
    """A feature binned twice, each time with many edges (an EBM's main term and a pair),
    so the kernel locates it among the union of both binnings' edges by binary search."""
    from openscore.model.format import Feature, NumericBinning, Scaling, Term, build_scorecard

    values = st.floats(-1e5, 1e5, allow_nan=False, allow_infinity=False).map(lambda v: round(v))
    main = sorted(draw(st.lists(values, min_size=40, max_size=90, unique=True)))
    pair = sorted(
        draw(st.lists(st.sampled_from(main) | values, min_size=20, max_size=60, unique=True))
    )
    few = sorted(draw(st.lists(values, min_size=0, max_size=5, unique=True)))
    bx, bp, by = (
        NumericBinning(tuple(main)),
        NumericBinning(tuple(pair)),
        NumericBinning(tuple(few)),
    )
    pts = st.integers(-300, 300)

    def table(b: NumericBinning) -> tuple[int, ...]:
        out = draw(st.lists(pts, min_size=b.size, max_size=b.size))
        out[b.missing_index] = 0
        return tuple(out)

    grid = tuple(
        tuple(
            0 if i == bp.missing_index or j == by.missing_index else draw(pts)
            for j in range(by.size)
        )
        for i in range(bp.size)
    )
    card = build_scorecard(
        method="ebm",
        scaling=Scaling(),
        intercept_points=draw(st.integers(300, 1000)),
        features=[
            Feature("x", "credit_history", "numeric"),
            Feature("y", "credit_history", "numeric"),
        ],
        terms=[
            Term("x", ("x",), "credit_history", (bx,), table(bx), tuple(bx.labels()), "rx", "ix"),
            Term("y", ("y",), "credit_history", (by,), table(by), tuple(by.labels()), "ry", "iy"),
            Term("x & y", ("x", "y"), "credit_history", (bp, by), grid, (), "rp", "ip"),
        ],
    )
    cell = st.one_of(
        st.none(),
        st.just(math.nan),
        st.just(math.inf),
        st.just(-math.inf),
        st.sampled_from(main + pair),
        values,
    )
    rows = draw(st.lists(st.fixed_dictionaries({"x": cell, "y": cell}), min_size=1, max_size=30))
    return card, rows


@settings(max_examples=15, deadline=None)
@given(case=many_edge_cards())
def test_a_feature_with_many_edges_in_two_binnings(case: tuple) -> None:
    card, rows = case
    table = pa.table(
        {
            "row_id": pa.array(range(len(rows)), pa.int64()),
            "x": pa.array([r["x"] for r in rows], pa.float64(), from_pandas=False),
            "y": pa.array([r["y"] for r in rows], pa.float64(), from_pandas=False),
        }
    )
    got = score_arrow(card, table, "row_id").to_pylist()
    assert got == batch(card, rows)
    for row, g in zip(rows, got, strict=True):
        assert_row_is_person(g, score_person(card, row))


def test_threads_score_slices_in_order_to_the_same_rows() -> None:
    """``score_batches(threads=2)`` cuts large batches into slices scored on two threads:
    the stream is the same rows, in the same order, as one thread's."""
    import numpy as np

    from openscore.scoring.kernel import MIN_SLICE_ROWS

    card, rule = expert_scorecard(), ScoringRule()
    n = 3 * MIN_SLICE_ROWS + 1_001
    rng = np.random.default_rng(7)
    cols = {"person_id": pa.array([f"p{i:06d}" for i in range(n)])}
    for name in FEATURE_NAMES:
        values = rng.integers(0, 30, n).astype(float)
        cols[name] = pa.array(values, mask=rng.random(n) < 0.3)
    table = pa.table(cols)
    batches = table.to_batches(max_chunksize=n - 5_000)
    batches.append(batches[0].slice(0, 0))  # an empty batch scores to an empty one
    kernel = ScoringKernel(card, "person_id", rule=rule)
    one = list(kernel.score_batches(batches))
    two = list(kernel.score_batches(batches, threads=2))
    assert len(two) > len(one)  # the first batch was cut for the threads
    want = pa.Table.from_batches(one)
    got = pa.Table.from_batches(two, schema=want.schema)
    assert got.equals(want)
    assert got.num_rows == n and got["person_id"].to_pylist()[-1] == f"p{n - 1:06d}"
    assert 0 < got["status"].to_pylist().count("unscorable") < n
