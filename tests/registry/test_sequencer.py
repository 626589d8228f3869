"""Queued audit entries, receipts and the sequencer, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import InputError
from openscore.registry import audit, leases, sequencer
from openscore.registry.metadata import audit_pending, audit_state


def _queue(engine: Engine, person_id: str, n: int = 1, partner: str = "bikes") -> list:
    entries = [
        audit.PendingEntry(
            action="inquiry.recorded",
            actor=f"partner:{partner}",
            person_id=person_id,
            details={"partner": partner, "purpose": "rental"},
            linked={"inquiry": f"inq-{i}"},
        )
        for i in range(n)
    ]
    with engine.begin() as conn:
        return sequencer.append_queued(conn, entries)


def _integrate_all(engine: Engine) -> int:
    total = 0
    while True:
        with engine.begin() as conn:
            step = sequencer.integrate(conn, limit=7)
        total += step.integrated
        if not step.still_queued:
            return total


def test_queued_entries_get_receipts_and_are_integrated_in_order(
    engine: Engine, alice: str, bob: str
) -> None:
    with engine.connect() as conn:
        before = audit.tree_size(conn)
    receipts = _queue(engine, alice, 3) + _queue(engine, bob, 20)
    with engine.connect() as conn:
        assert audit.tree_size(conn) == before  # nothing in the tree yet: no lock was taken
        assert sequencer.queue_state(conn).queued == 23
        assert sequencer.check_receipt(conn, receipts[0]).status == "queued"
    assert _integrate_all(engine) == 23
    with engine.connect() as conn:
        assert audit.tree_size(conn) == before + 23
        assert sequencer.queue_state(conn).queued == 0
        checks = [sequencer.check_receipt(conn, r) for r in receipts]
        assert [c.status for c in checks] == ["integrated"] * 23
        assert [c.seq for c in checks] == list(range(before, before + 23))  # queue order
        assert audit.verify(conn).ok
        entry = audit.get_entry(conn, before)
        assert entry.content["receipt"] == receipts[0].entry_hash.hex()
        assert audit.concerns(conn, alice, entry)
        assert alice.encode() not in entry.entry
        # the queued row keeps only what a receipt needs
        row = conn.execute(sa.select(audit_pending).where(audit_pending.c.seq == before)).one()
        assert row.body is None and row.person_id is None
        assert [e.seq for e in audit.person_entries(conn, alice)][-3:] == [
            before,
            before + 1,
            before + 2,
        ]


def test_a_queued_entry_rolls_back_with_its_transaction(engine: Engine, alice: str) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        sequencer.append_queued(
            conn, [audit.PendingEntry(action="inquiry.recorded", actor="system", person_id=alice)]
        )
        raise RuntimeError("the decision failed")
    with engine.connect() as conn:
        assert sequencer.queue_state(conn).queued == 0


def test_a_tampered_or_foreign_receipt_is_reported(engine: Engine, alice: str) -> None:
    (receipt,) = _queue(engine, alice)
    _integrate_all(engine)
    as_json = receipt.to_json()
    forged = sequencer.Receipt.from_json({**as_json, "entry_hash": "00" * 32})
    with engine.connect() as conn:
        check = sequencer.check_receipt(conn, forged)
        assert check.status == "mismatch" and "MAC does not verify" in check.message
        unknown = sequencer.Receipt.from_json({**as_json, "receipt_id": "f" * 32})
        assert sequencer.check_receipt(conn, unknown).status == "mismatch"
    with pytest.raises(InputError) as bad:
        sequencer.Receipt.from_json({**as_json, "mac": "xyz"})
    assert bad.value.field == "mac"
    with pytest.raises(InputError) as bad:
        sequencer.Receipt.from_json({k: v for k, v in as_json.items() if k != "queued_at"})
    assert bad.value.field == "queued_at"


def test_a_corrupt_queued_entry_halts_the_sequencer_and_queueing_goes_on(
    engine: Engine, alice: str
) -> None:
    good = _queue(engine, alice, 2)
    bad = _queue(engine, alice, 1)[0]
    where = audit_pending.c.id == bad.receipt_id
    with engine.begin() as conn:
        body = bytes(conn.execute(sa.select(audit_pending.c.body).where(where)).scalar_one())
        conn.execute(
            audit_pending.update().where(where).values(body=body.replace(b"rental", b"lending"))
        )
        size = audit.tree_size(conn)
    with pytest.raises(sequencer.SequencerHalted, match=bad.receipt_id) as halted:
        with engine.begin() as conn:
            sequencer.integrate(conn)
    assert "does not match its receipt" in str(halted.value)
    with engine.connect() as conn:
        assert audit.tree_size(conn) == size  # the whole batch waits, nothing half-written
        assert sequencer.check_receipt(conn, good[0]).status == "queued"
    later = _queue(engine, alice, 1)  # receipts are still issued
    assert later[0].mac


def test_a_gap_in_the_tree_halts_the_sequencer(engine: Engine, alice: str) -> None:
    _queue(engine, alice, 1)
    with engine.begin() as conn:
        conn.execute(audit_state.update().values(size=audit_state.c.size + 1))
    with pytest.raises(sequencer.SequencerHalted, match="gap"), engine.begin() as conn:
        sequencer.integrate(conn)


def test_an_entry_of_a_person_erased_while_queued_is_integrated_unlinkably(
    engine: Engine, alice: str
) -> None:
    (receipt,) = _queue(engine, alice)
    with engine.begin() as conn:
        registry.erase_person(conn, alice, actor="system")
    assert _integrate_all(engine) == 1
    with engine.connect() as conn:
        check = sequencer.check_receipt(conn, receipt)
        assert check.status == "integrated"
        assert audit.verify(conn).ok


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.integers(1, 9), min_size=1, max_size=6), limit=st.integers(1, 10))
def test_integration_in_any_batch_size_gives_the_same_gapless_log(
    registry_engine: Engine, batches: list[int], limit: int
) -> None:
    engine = registry_engine
    with engine.begin() as conn:
        person = registry.create_person(conn, actor="system").id
        start = audit.tree_size(conn)
    receipts = []
    for n in batches:
        receipts += _queue(engine, person, n)
        with engine.begin() as conn:
            sequencer.integrate(conn, limit=limit)
    _integrate_all(engine)
    with engine.connect() as conn:
        seqs = [sequencer.resolve_seq(conn, r.receipt_id) for r in receipts]
        assert seqs == list(range(start, start + len(receipts)))
        assert audit.verify(conn).ok


def test_one_lease_holder_at_a_time(engine: Engine) -> None:
    with engine.begin() as conn:
        assert leases.acquire(conn, "job", "a", 30)
    with engine.begin() as conn:
        assert not leases.acquire(conn, "job", "b", 30)
        assert leases.acquire(conn, "job", "a", 30)  # renewal
    with engine.begin() as conn:
        later = registry.utc_now() + timedelta(seconds=31)
        assert leases.acquire(conn, "job", "b", 30, now=later)  # a's lease ran out
        assert not leases.acquire(conn, "job", "a", 30, now=later)


def test_racing_processes_never_share_a_lease(engine: Engine) -> None:
    """Eight threads (own connections) race for a fresh lease, many times: one wins each."""
    for round_ in range(5):
        name = f"race-{round_}"
        wins: list[str] = []
        barrier = threading.Barrier(8)

        def race(
            holder: str,
            name: str = name,
            wins: list[str] = wins,
            barrier: threading.Barrier = barrier,
        ) -> None:
            barrier.wait()
            for _ in range(20):
                try:
                    with engine.begin() as conn:
                        if leases.acquire(conn, name, holder, 60):
                            wins.append(holder)
                except sa.exc.OperationalError:
                    pass  # SQLite "database is locked" under a race: a lost try, not a win

        threads = [threading.Thread(target=race, args=(f"h{i}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(set(wins)) == 1, wins
