"""A Parquet file that DuckDB reads straight into validation (``Ingester._stage_direct``)
gives exactly what the careful reading in batches gives — the same rows stored, the same
rejections — whatever its text holds: text that breaks what the direct reading assumed
sends the file to the careful reading, and dates are judged at the same boundaries."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.config import Settings
from openscore.ingest import Ingester, IngestResult, no_consent_check
from openscore.ingest import ingester as ingester_module
from openscore.ledger import Ledger

from fixtures.data import make_events

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POOL = make_events(40, seed=11)
TEXT = ["event_id", "type", "person_id", "source", "channel", "currency", "account_id"]
TEXT += ["merchant_category", "product", "rental_outcome", "bill_kind", "fact_value"]
DATES = ["due_date", "paid_date"]

#: what a furnisher's text may hold that a clean file does not
TEXT_CHANGES = {
    "leading blank": lambda v: " " + v,
    "trailing blank": lambda v: v + "  ",
    "capitals": str.upper,
    "empty": lambda v: "",
    "control character": lambda v: v[:1] + "\x01" + v[1:],
    "too long": lambda v: v + "x" * 600,
    "beyond ASCII": lambda v: v + "é",
    "unknown value": lambda v: "zzz",
}
DATE_CHANGES = {
    "before 1900": date(1899, 12, 31),
    "first allowed": date(1900, 1, 1),
    "the latest day allowed": date(2026, 6, 2),  # NOW plus a day of clock skew
    "a day later": date(2026, 6, 3),
    "far future": date(2200, 1, 1),
    "just before far future": date(2199, 12, 31),
}

change = st.one_of(
    st.tuples(st.integers(0, 39), st.sampled_from(TEXT), st.sampled_from(sorted(TEXT_CHANGES))),
    st.tuples(st.integers(0, 39), st.sampled_from(DATES), st.sampled_from(sorted(DATE_CHANGES))),
)


def _apply(changes: list[tuple[int, str, str]]) -> pa.Table:
    rows = POOL.to_pylist()
    for i, column, what in changes:
        if column in DATES:
            rows[i][column] = DATE_CHANGES[what]
        elif rows[i][column] is not None:
            rows[i][column] = TEXT_CHANGES[what](rows[i][column])
    return pa.Table.from_pylist(rows, schema=POOL.schema)


def _ingest(path: Path, root: Path) -> tuple[IngestResult, list[dict], list[tuple]]:
    ledger = Ledger(root / "ledger")
    result = Ingester(
        ledger, settings=Settings(data_dir=root), consent_gate=no_consent_check, now=NOW
    ).run([path], "fx")
    stored = sorted(
        (
            {k: v for k, v in row.items() if k not in ("batch_id", "ingested_at")}
            for p in ledger.snapshot().paths
            for row in pq.read_table(p).to_pylist()
        ),
        key=lambda r: r["event_id"],
    )
    report: list[tuple] = []
    if result.report_path:
        with open(result.report_path, newline="") as fh:
            report = sorted(tuple(r) for r in csv.reader(fh))
    return result, stored, report


def _careful():
    """Every Parquet file read the careful way (the direct reading declines it)."""
    return mock.patch.object(ingester_module, "direct_parquet_types", lambda raw, columns: None)


def _counts(r: IngestResult) -> tuple:
    return (r.rows_read, r.accepted, r.rejected, r.duplicates, r.unreadable)


@settings(max_examples=25, deadline=None)
@given(changes=st.lists(change, max_size=6))
def test_direct_reading_stores_and_rejects_what_the_careful_one_does(
    tmp_path_factory, changes: list[tuple[int, str, str]]
) -> None:
    root = tmp_path_factory.mktemp("direct")
    path = root / "events.parquet"
    pq.write_table(_apply(changes), path)
    direct = _ingest(path, root / "direct")
    with _careful():
        careful = _ingest(path, root / "careful")
    assert _counts(direct[0]) == _counts(careful[0])
    assert direct[1] == careful[1]
    assert direct[2] == careful[2]


def _batches_read(path: Path, root: Path) -> tuple[int, IngestResult]:
    """How many times the careful reading was started, and the result."""
    calls = 0
    real = ingester_module.iter_batches

    def counting(*args, **kwargs):
        nonlocal calls
        calls += 1
        return real(*args, **kwargs)

    with mock.patch.object(ingester_module, "iter_batches", counting):
        result = _ingest(path, root)[0]
    return calls, result


def test_a_clean_file_is_read_directly_and_capitals_send_it_to_the_careful_reading(
    tmp_path: Path,
) -> None:
    clean = tmp_path / "clean.parquet"
    pq.write_table(POOL, clean)
    assert _batches_read(clean, tmp_path / "a") == (0, mock.ANY)

    shouting = tmp_path / "shouting.parquet"
    pq.write_table(_apply([(3, "type", "capitals")]), shouting)
    calls, result = _batches_read(shouting, tmp_path / "b")
    # read directly first, then again carefully: still one row per line, all stored
    assert calls == 1 and (result.rows_read, result.accepted) == (40, 40)


def test_a_file_duckdb_cannot_read_is_read_carefully_and_said_to_be_damaged(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cut.parquet"
    pq.write_table(POOL, path, row_group_size=10)
    data = path.read_bytes()
    # the third row group's pages overwritten: the footer still reads
    middle = len(data) // 2
    path.write_bytes(data[:middle] + b"\xff" * 64 + data[middle + 64 :])
    calls, result = _batches_read(path, tmp_path / "a")
    assert calls == 1
    assert result.accepted == 0 and result.file_errors
    assert "Parquet" in result.file_errors[0]


@pytest.mark.parametrize(
    ("column", "day", "reason"),
    [
        ("due_date", date(1899, 12, 31), "before 1900"),
        ("due_date", date(1900, 1, 1), None),
        ("due_date", date(2199, 12, 31), None),
        ("due_date", date(2200, 1, 1), "implausibly far in the future"),
        ("paid_date", date(2026, 6, 2), None),  # the day of NOW plus the clock skew
        ("paid_date", date(2026, 6, 3), "in the future"),
    ],
)
def test_dates_are_judged_at_their_boundaries(
    tmp_path: Path, column: str, day: date, reason: str | None
) -> None:
    rows = [r for r in POOL.to_pylist() if r["type"] == "repayment"][:1]
    assert rows
    rows[0][column] = day
    path = tmp_path / "one.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=POOL.schema), path)
    result, _, report = _ingest(path, tmp_path / "d")
    if reason is None:
        assert (result.accepted, result.rejected) == (1, 0)
    else:
        assert result.rejected == 1
        assert any(r[2] == column and r[4] == reason for r in report), report
