"""The ledger's operations: compaction, expiry, erasure, verification, one-person reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import (
    Ledger,
    compact,
    erase_person,
    expire,
    latest_event,
    ledger_stats,
    purge_source,
    verify,
)

from fixtures.data import make_events, write_events


def all_rows(ledger: Ledger) -> pa.Table:
    snap = ledger.snapshot()
    return pa.concat_tables(pq.read_table(p) for p in snap.paths) if snap.paths else None


@pytest.fixture()
def ledger(data_dir: Path, tmp_path: Path) -> Ledger:
    led = Ledger(data_dir / "ledger")
    for i in range(3):
        path = write_events(make_events(300, seed=i, prefix=f"b{i}-"), tmp_path / f"b{i}.parquet")
        assert Ingester(led, consent_gate=no_consent_check).run([path], f"f{i % 2}").accepted == 300
    return led


def test_compaction_sorts_by_person_and_keeps_every_row(ledger: Ledger) -> None:
    before = all_rows(ledger).sort_by([("furnisher_id", "ascending"), ("event_id", "ascending")])
    out = compact(ledger, force=True)
    assert out["rows"] == 900
    segments = ledger.manifest().segments
    assert all(s.sorted for s in segments)
    after = all_rows(ledger)
    persons = after.column("person_id").to_pylist()
    assert persons == sorted(persons)
    key = [("furnisher_id", "ascending"), ("event_id", "ascending")]
    assert after.sort_by(key).to_pylist() == before.to_pylist()
    ranges = sorted((s.min_person, s.max_person) for s in segments)
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    assert compact(ledger)["rows"] == 0  # already compact: nothing to do
    assert verify(ledger).ok


def test_read_person_finds_exactly_their_rows(ledger: Ledger) -> None:
    compact(ledger)
    rows = all_rows(ledger)
    expected = sum(1 for p in rows.column("person_id").to_pylist() if p == "p00007")
    got = ledger.read_person("p00007")
    assert got.num_rows == expected > 0
    assert set(got.column("person_id").to_pylist()) == {"p00007"}


def test_erasure_leaves_no_trace_in_any_file(ledger: Ledger, data_dir: Path) -> None:
    victim = "p00003"
    rows = all_rows(ledger)
    mentions = sum(
        1
        for p, c in zip(
            rows.column("person_id").to_pylist(),
            rows.column("counterparty_id").to_pylist(),
            strict=True,
        )
        if victim in (p, c)
    )
    assert erase_person(ledger, victim) == mentions > 0
    for path in (data_dir / "ledger").rglob("*.parquet"):
        table = pq.read_table(path)
        for name in ("person_id", "counterparty_id"):
            assert victim not in set(table.column(name).to_pylist()), path
    assert ledger.manifest().rows == 900 - mentions
    assert ledger.manifest().removals[-1]["kind"] == "erasure"
    assert verify(ledger).ok


def test_purge_source_removes_only_that_source_of_that_person(ledger: Ledger) -> None:
    rows = all_rows(ledger)
    pairs = list(
        zip(rows.column("person_id").to_pylist(), rows.column("source").to_pylist(), strict=True)
    )
    target = sum(1 for p, s in pairs if p == "p00010" and s == "wallet")
    assert purge_source(ledger, "p00010", "wallet") == target > 0
    after = list(
        zip(
            all_rows(ledger).column("person_id").to_pylist(),
            all_rows(ledger).column("source").to_pylist(),
            strict=True,
        )
    )
    assert ("p00010", "wallet") not in after
    assert len(after) == len(pairs) - target


def test_expiry_drops_only_old_negative_records(data_dir: Path, tmp_path: Path) -> None:
    now = datetime(2031, 6, 1, tzinfo=UTC)
    led = Ledger(data_dir / "ledger")
    path = write_events(make_events(400), tmp_path / "e.parquet")
    Ingester(led, consent_gate=no_consent_check).run([path], "f")
    rows = all_rows(led).to_pylist()

    def negative_expired(r: dict) -> bool:
        cutoff = now - timedelta(days=365 * 5 + 2)
        if r["type"] == "public_record":
            return r["expires_at"] <= now
        if r["type"] in ("repayment", "bill_payment"):
            late = r["paid_date"] is None or r["paid_date"] > r["due_date"]
            return late and datetime.combine(r["due_date"], datetime.min.time(), UTC) < cutoff
        return False

    expected = sum(negative_expired(r) for r in rows)
    assert expire(led, retention_years=5, now=now) == expected > 0
    left = all_rows(led).to_pylist()
    assert not any(negative_expired(r) for r in left)
    # on-time repayments of the same age stay
    assert any(r["type"] == "repayment" and r["paid_date"] == r["due_date"] for r in left)


def test_verify_names_a_corrupted_and_a_missing_segment(ledger: Ledger) -> None:
    segs = ledger.manifest().segments
    bad = ledger.root / segs[0].file
    data = bytearray(bad.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    (ledger.root / segs[1].file).unlink()
    report = verify(ledger)
    assert not report.ok
    assert any(segs[0].file in p and "checksum" in p for p in report.problems)
    assert any(segs[1].file in p and "missing" in p for p in report.problems)


def test_stats_count_sources_types_and_people(ledger: Ledger) -> None:
    s = ledger_stats(ledger)
    assert s["total"] == 900 and s["segments"] == 3
    assert sum(s["by_source"].values()) == 900 == sum(s["by_type"].values())
    assert s["by_type"]["payment"] == 3 * 38
    assert 0 < s["people"] <= 50


def _ingest(led: Ledger, tmp_path: Path, n: int, seed: int, prefix: str) -> None:
    path = write_events(make_events(n, seed=seed, prefix=prefix), tmp_path / f"{prefix}.parquet")
    assert Ingester(led, consent_gate=no_consent_check).run([path], "f9").accepted == n


def test_a_run_cut_between_one_persons_rows_is_compact(ledger: Ledger) -> None:
    from openscore.ledger.compaction import tidy

    compact(ledger, force=True)
    rows = all_rows(ledger)
    persons = rows.column("person_id").to_pylist()
    cut = next(i for i in range(150, 900) if persons[i] == persons[i - 1])  # inside a person
    with ledger.writing() as txn:  # the same run cut into two files between their rows
        for segment in list(txn.manifest.segments):
            txn.drop_segment(segment)
        for part in (rows.slice(0, cut), rows.slice(cut)):
            tmp, final = txn.new_segment_path()
            pq.write_table(part, tmp)
            txn.add_segment(tmp, final, sorted=True, batch_id=None)
        txn.commit()
    a, b = ledger.manifest().segments
    assert a.max_person == b.min_person == persons[cut]
    assert compact(ledger)["rows"] == 0  # compact already: not rewritten
    assert tidy(ledger, above_segments=2) is None
    assert ledger.read_person(persons[cut]).num_rows == persons.count(persons[cut])


def test_tidy_merges_only_the_appended_segments(
    ledger: Ledger, tmp_path: Path, monkeypatch
) -> None:
    import openscore.ledger.compaction as compaction

    compact(ledger, force=True)
    run = {s.file for s in ledger.manifest().segments}
    for i in range(4):
        _ingest(ledger, tmp_path, 20, seed=10 + i, prefix=f"a{i}-")
    before = ledger.manifest().rows
    assert compaction.tidy(ledger, above_segments=4) is None  # four appended: not above
    _ingest(ledger, tmp_path, 20, seed=20, prefix="a4-")
    out = compaction.tidy(ledger, above_segments=4)
    assert out is not None and out["kind"] == "appended" and out["rows"] == 100
    segments = ledger.manifest().segments
    assert run <= {s.file for s in segments}  # the run was not rewritten
    appended = [s for s in segments if not s.sorted]
    assert len(appended) == 1
    rows = pq.read_table(ledger.root / appended[0].file).column("person_id").to_pylist()
    assert rows == sorted(rows)
    assert ledger.manifest().rows == before + 20
    assert verify(ledger).ok
    # appended rows past a quarter of the run: the whole ledger is rewritten
    _ingest(ledger, tmp_path, 300, seed=30, prefix="big-")
    for i in range(4):
        _ingest(ledger, tmp_path, 5, seed=40 + i, prefix=f"s{i}-")
    out = compaction.tidy(ledger, above_segments=4)
    assert out is not None and out["kind"] == "full"
    assert all(s.sorted for s in ledger.manifest().segments)
    assert ledger.manifest().rows == before + 20 + 320
    assert verify(ledger).ok


def test_the_manifest_keeps_a_bounded_history(ledger: Ledger, tmp_path: Path, monkeypatch) -> None:
    import openscore.ledger.store as store

    monkeypatch.setattr(store, "HISTORY_KEPT", 2)
    kept_by_a_segment = ledger.manifest().batches[0].batch_id
    for i in range(4):
        _ingest(ledger, tmp_path, 5, seed=50 + i, prefix=f"h{i}-")
        assert erase_person(ledger, f"p0000{i}") > 0
    manifest = ledger.manifest()
    assert len(manifest.removals) == 2
    ids = [b.batch_id for b in manifest.batches]
    assert kept_by_a_segment in ids  # its segment is still in the ledger
    named = {s.batch_id for s in manifest.segments if s.batch_id}
    assert named <= set(ids)
    compact(ledger, force=True)  # no segment names a batch any more
    _ingest(ledger, tmp_path, 5, seed=60, prefix="h9-")
    assert len(ledger.manifest().batches) == 2
    assert verify(ledger).ok


def test_read_person_fills_what_an_older_segment_lacks(ledger: Ledger) -> None:
    from openscore.domain.events import LEDGER_SCHEMA

    own = ledger.read_person("p00001")
    assert own.num_rows and own.schema == LEDGER_SCHEMA
    # a segment written before the schema had ``expires_at``, of someone found nowhere else
    older = own.drop_columns(["expires_at"]).set_column(
        own.schema.get_field_index("person_id"),
        "person_id",
        pa.array(["p99999"] * own.num_rows),
    )
    with ledger.writing() as txn:
        tmp, final = txn.new_segment_path()
        pq.write_table(older, tmp)
        txn.add_segment(tmp, final, sorted=False, batch_id=None)
        txn.commit()
    rows = ledger.read_person("p99999")
    assert rows.schema == LEDGER_SCHEMA and rows.num_rows == own.num_rows
    assert rows["expires_at"].null_count == own.num_rows
    assert rows["event_id"].to_pylist() == own["event_id"].to_pylist()
    assert ledger.read_person("p99999", columns=["source", "expires_at"]).column_names == [
        "source",
        "expires_at",
    ]
    assert ledger.read_person("p00001").equals(own)  # the others' rows are as they were
    assert ledger.read_person("p99998").num_rows == 0


def test_latest_event_is_the_latest_time_the_segments_hold(ledger: Ledger, data_dir: Path) -> None:
    """From the footers' statistics: the same time as the rows' maximum, before and after
    compaction; unknown for an empty ledger."""
    newest = max(all_rows(ledger).column("occurred_at").to_pylist())
    assert latest_event(ledger.snapshot()) == newest
    compact(ledger, force=True)
    assert latest_event(ledger.snapshot()) == newest
    assert latest_event(Ledger(data_dir / "empty").snapshot()) is None
