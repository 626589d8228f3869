"""Every input format brings the same events into the ledger, unchanged."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger

from fixtures.data import make_events, write_events

EVENT_KEYS = [
    "event_id",
    "type",
    "person_id",
    "source",
    "occurred_at",
    "amount",
    "due_date",
    "paid_date",
    "verified",
    "deposit_waived",
    "returned_at",
    "counterparty_id",
    "expires_at",
]


def ledger_rows(ledger: Ledger) -> pa.Table:
    snap = ledger.snapshot()
    if snap.empty:
        return pa.table({k: [] for k in EVENT_KEYS})
    table = pa.concat_tables(pq.read_table(p) for p in snap.paths)
    return table.select(EVENT_KEYS).sort_by("event_id")


@pytest.mark.parametrize("name", ["ev.csv", "ev.csv.gz", "ev.jsonl", "ev.jsonl.gz", "ev.parquet"])
def test_each_format_stores_every_event_exactly(data_dir: Path, tmp_path: Path, name: str) -> None:
    events = make_events(120)
    path = write_events(events, tmp_path / name)
    ledger = Ledger(data_dir / "ledger")
    result = Ingester(ledger, consent_gate=no_consent_check).run([path], "fx")
    assert (result.accepted, result.rejected, result.duplicates) == (120, 0, 0)
    assert not result.failed
    stored = ledger_rows(ledger)
    expected = events.select(EVENT_KEYS).sort_by("event_id")
    assert stored.to_pylist() == expected.to_pylist()
    assert set(pq.read_table(ledger.snapshot().paths[0]).column("furnisher_id").to_pylist()) == {
        "fx"
    }


def test_a_directory_is_read_recursively_as_one_batch(data_dir: Path, tmp_path: Path) -> None:
    events = make_events(90)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    write_events(events.slice(0, 30), tmp_path / "in" / "a.csv")
    write_events(events.slice(30, 30), tmp_path / "in" / "sub" / "b.jsonl")
    write_events(events.slice(60, 30), tmp_path / "in" / "sub" / "c.parquet")
    ledger = Ledger(data_dir / "ledger")
    result = Ingester(ledger, consent_gate=no_consent_check).run([tmp_path / "in"], "fx")
    assert result.files == 3 and result.accepted == 90
    assert len(ledger.manifest().batches) == 1
    assert ledger.manifest().rows == 90


def test_a_file_with_several_types_is_split_by_the_type_column(
    data_dir: Path, tmp_path: Path
) -> None:
    events = make_events(16)
    path = write_events(events, tmp_path / "mixed.csv")
    ledger = Ledger(data_dir / "ledger")
    Ingester(ledger, consent_gate=no_consent_check).run([path], "fx")
    stored = pq.read_table(ledger.snapshot().paths[0])
    assert sorted(set(stored.column("type").to_pylist())) == sorted(
        [
            "payment",
            "repayment",
            "bill_payment",
            "rental",
            "profile_fact",
            "credit_account",
            "relationship",
            "public_record",
        ]
    )
