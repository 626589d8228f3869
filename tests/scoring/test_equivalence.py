"""The batch scorer (Ibis on DuckDB) and the one-person scorer agree on every row."""

from __future__ import annotations

import ibis
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from openscore.domain import band_of
from openscore.model.format import Scorecard
from openscore.scoring import ScoreResult, score_person, score_table
from openscore.scoring.reasons import MAX_HELPS, MAX_REASONS, missing_texts

from .strategies import feature_rows, scorecards


def arrow_rows(card: Scorecard, rows: list[dict]) -> pa.Table:
    """NaN and null stay distinct (pandas would fold NaN into null)."""
    cols = {"row_id": pa.array(range(len(rows)), pa.int64())}
    for f in card.features:
        typ = pa.float64() if f.type == "numeric" else pa.string()
        cols[f.name] = pa.array([r[f.name] for r in rows], type=typ, from_pandas=False)
    return pa.table(cols)


def batch(card: Scorecard, rows: list[dict]) -> list[dict]:
    con = ibis.duckdb.connect()
    expr = score_table(card, ibis.memtable(arrow_rows(card, rows)), "row_id")
    out = con.to_pyarrow(expr.order_by("row_id")).to_pylist()
    con.disconnect()
    return out


def assert_row_is_person(got: dict, want: ScoreResult) -> None:
    """One scored row (batch or kernel) says what the one-person scorer says."""
    assert got["score"] == want.score
    assert got["band"] == want.band
    assert got["status"] == want.status
    for dim, value in want.dimensions.items():
        assert got[f"dim_{dim}"] == value, dim
    codes = [got[f"reason_{k}"] for k in range(1, MAX_REASONS + 1)]
    want_codes = [r.code for r in want.reasons]
    assert codes == want_codes + [None] * (MAX_REASONS - len(want_codes))
    texts = [got[f"reason_{k}_text"] for k in range(1, len(want_codes) + 1)]
    assert texts == [r.text for r in want.reasons]
    improves = [got[f"reason_{k}_improve"] for k in range(1, len(want_codes) + 1)]
    assert improves == [r.improve for r in want.reasons]
    points = [got[f"reason_{k}_points"] for k in range(1, len(want_codes) + 1)]
    assert points == [r.points_lost for r in want.reasons]
    missing = [got[f"reason_{k}_missing"] for k in range(1, len(want_codes) + 1)]
    assert missing == [r.missing for r in want.reasons]
    helps = [
        (got[f"help_{k}"], got[f"help_{k}_text"], got[f"help_{k}_points"])
        for k in range(1, MAX_HELPS + 1)
    ]
    want_helps = [(h.code, h.text, h.points) for h in want.helps]
    assert helps == want_helps + [(None, None, None)] * (MAX_HELPS - len(want_helps))


@given(data=st.data())
def test_batch_equals_person(data: st.DataObject) -> None:
    card = data.draw(scorecards())
    rows = data.draw(feature_rows(card))
    for row, got in zip(rows, batch(card, rows), strict=True):
        assert_row_is_person(got, score_person(card, row))


@given(data=st.data())
def test_a_missing_term_is_never_worded_as_a_fault(data: st.DataObject) -> None:
    """Not sharing is neutral: its reason says nothing is on file and what sharing could
    add, never the term's own adverse text; a known value gets the term's text."""
    card = data.draw(scorecards())
    rows = data.draw(feature_rows(card))
    for row in rows:
        result = score_person(card, row)
        terms = {t.name: t for t in card.terms}
        for reason in result.reasons:
            term = terms[reason.code]
            values = [row.get(f) for f in term.features]
            if term.is_missing(term.index_of(values)):
                assert (reason.text, reason.improve) == missing_texts(card, term)
                assert reason.text.startswith("Not on file: ")
                assert "scored as an average person who shares it" in reason.text
                assert reason.missing
                assert f"up to {term.best} points" in reason.improve
                assert reason.points_lost == term.best
            else:
                assert (reason.text, reason.improve) == (term.reason, term.improve)
    # everything missing: not enough data to score, so no reasons at all
    empty = score_person(card, {})
    assert empty.status == "unscorable" and empty.reasons == []


@given(data=st.data())
def test_score_is_clipped_sum_of_contributions(data: st.DataObject) -> None:
    card = data.draw(scorecards())
    for row in data.draw(feature_rows(card)):
        r = score_person(card, row)
        if r.status == "unscorable":
            assert all(row.get(f.name) is None or row[f.name] != row[f.name] for f in card.features)
            continue
        total = card.intercept_points + sum(r.contributions.values())
        assert r.score == max(350, min(950, total))
        assert 350 <= r.score <= 950
        assert r.band == band_of(r.score)
        assert all(v is None or 0 <= v <= 100 for v in r.dimensions.values())
        assert len(r.reasons) <= MAX_REASONS
        losses = [x.points_lost for x in r.reasons]
        assert losses == sorted(losses, reverse=True) and all(v > 0 for v in losses)


@given(card=scorecards())
def test_everything_missing_is_unscorable_on_both_paths(card: Scorecard) -> None:
    """A row with nothing in it never gets the intercept (or any number) as a score."""
    r = score_person(card, {})
    assert (r.score, r.band, r.status) == (None, None, "unscorable")
    assert set(r.dimensions.values()) == {None} and not r.contributions and not r.helps
    (got,) = batch(card, [{f.name: None for f in card.features}])
    assert (got["score"], got["band"], got["status"]) == (None, None, "unscorable")
    assert all(got[f"dim_{d}"] is None for d in card.dimensions)
    assert all(got[f"reason_{k}"] is None for k in range(1, MAX_REASONS + 1))


@given(data=st.data())
def test_batch_equals_person_with_every_term_lifted(data: st.DataObject) -> None:
    """The binary-lifting path (EBM-sized terms) agrees too, whatever the term size."""
    from unittest import mock

    with mock.patch("openscore.scoring.compile.TREE_MAX_LEAVES", 0):
        test_batch_equals_person.hypothesis.inner_test(data)  # type: ignore[attr-defined]
