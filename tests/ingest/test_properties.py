"""Invariants of ingestion, checked on generated inputs."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger

from fixtures.data import make_events, write_events

POOL = make_events(60, seed=7)


@settings(max_examples=12, deadline=None)
@given(
    batches=st.lists(
        st.tuples(
            st.lists(st.integers(0, 59), min_size=1, max_size=25),
            st.sampled_from(["csv", "jsonl", "parquet", "csv.gz"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_ingestion_is_idempotent_whatever_the_batches(
    tmp_path_factory, batches: list[tuple[list[int], str]]
) -> None:
    """Any sequence of (overlapping, repeated) batches stores each distinct event once."""
    root = tmp_path_factory.mktemp("idem")
    ledger = Ledger(root / "ledger")
    from openscore.config import Settings

    settings_ = Settings(data_dir=root)
    seen: set[str] = set()
    for n, (idx, fmt) in enumerate(batches):
        table = POOL.take(idx)
        path = write_events(table, root / f"b{n}.{fmt}")
        result = Ingester(ledger, settings=settings_, consent_gate=no_consent_check).run(
            [path], "fx"
        )
        ids = [POOL["event_id"][i].as_py() for i in idx]
        new = {i for i in ids if i not in seen}
        assert result.accepted == len(new)
        assert result.duplicates == len({i for i in ids if i in seen})
        assert result.rejected == len(ids) - len(set(ids))  # repeats inside the batch
        seen |= set(ids)
    stored = [
        e for p in ledger.snapshot().paths for e in pq.read_table(p).column("event_id").to_pylist()
    ]
    assert sorted(stored) == sorted(seen)


def test_the_same_file_twice_adds_nothing(data_dir: Path, tmp_path: Path) -> None:
    path = write_events(make_events(100), tmp_path / "e.csv")
    ledger = Ledger(data_dir / "ledger")
    first = Ingester(ledger, consent_gate=no_consent_check).run([path], "fx")
    version = ledger.manifest().version
    second = Ingester(ledger, consent_gate=no_consent_check).run([path], "fx")
    assert (first.accepted, second.accepted, second.duplicates) == (100, 0, 100)
    assert ledger.manifest().version == version  # nothing committed
    assert not second.failed


def test_other_furnishers_may_reuse_an_event_id(data_dir: Path, tmp_path: Path) -> None:
    path = write_events(make_events(10), tmp_path / "e.csv")
    ledger = Ledger(data_dir / "ledger")
    assert Ingester(ledger, consent_gate=no_consent_check).run([path], "bank-a").accepted == 10
    assert Ingester(ledger, consent_gate=no_consent_check).run([path], "bank-b").accepted == 10
    assert ledger.manifest().rows == 20


def test_consent_gate_refuses_per_person_and_source(data_dir: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    events = make_events(160)
    path = write_events(events, tmp_path / "e.parquet")

    def gate(pairs: pa.Table) -> pa.Array:
        return pc.invert(pc.equal(pairs["source"], "wallet"))

    result = Ingester(Ledger(data_dir / "ledger"), consent_gate=gate).run([path], "fx")
    wallet = sum(1 for s in events.column("source").to_pylist() if s == "wallet")
    assert result.no_consent == wallet == result.rejected
    assert result.accepted == 160 - wallet


def _meanwhile(action):
    """A progress callback that does ``action`` when the segment is first written — after
    the ledger check, before the writer lock: another writer committing in between."""
    stages: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage == "writing segment" and stage not in stages:
            action()
        stages.append(stage)

    return progress


def _stored_ids(ledger: Ledger) -> list[str]:
    return sorted(
        e for p in ledger.snapshot().paths for e in pq.read_table(p).column("event_id").to_pylist()
    )


def test_a_batch_committed_meanwhile_makes_duplicates_not_copies(
    data_dir: Path, tmp_path: Path
) -> None:
    """Ids another run commits between this run's ledger check and its lock are found
    under the lock: stored once, counted as duplicates, and the segment written again."""
    events = make_events(100)
    path = write_events(events, tmp_path / "e.parquet")
    part = write_events(events.slice(0, 40), tmp_path / "part.csv")
    ledger = Ledger(data_dir / "ledger")
    other = Ingester(ledger, consent_gate=no_consent_check)
    result = Ingester(ledger, consent_gate=no_consent_check).run(
        [path], "fx", progress=_meanwhile(lambda: other.run([part], "fx"))
    )
    assert (result.accepted, result.duplicates, result.rejected) == (60, 40, 0)
    assert _stored_ids(ledger) == sorted(events.column("event_id").to_pylist())


def test_rows_removed_meanwhile_are_no_longer_duplicates(data_dir: Path, tmp_path: Path) -> None:
    """A duplicate found before the lock whose stored row is removed before the lock (an
    erasure, a resolved dispute) is stored after all: nothing is lost."""
    from openscore.ledger.rewrite import PersonRows, remove_rows

    events = make_events(110)
    ledger = Ledger(data_dir / "ledger")
    first = write_events(events.slice(0, 100), tmp_path / "first.csv")
    assert Ingester(ledger, consent_gate=no_consent_check).run([first], "fx").accepted == 100
    person = events.column("person_id")[0].as_py()
    theirs = events.slice(0, 100).column("person_id").to_pylist().count(person)
    assert 0 < theirs < 100

    def remove() -> None:
        remove_rows(ledger, PersonRows(person), reason={"why": "test"})

    path = write_events(events, tmp_path / "all.parquet")
    result = Ingester(ledger, consent_gate=no_consent_check).run(
        [path], "fx", progress=_meanwhile(remove)
    )
    assert (result.accepted, result.duplicates) == (10 + theirs, 100 - theirs)
    assert _stored_ids(ledger) == sorted(events.column("event_id").to_pylist())
