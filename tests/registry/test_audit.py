"""The audit log: appended in the changing transaction, verified end to end, tamper
evident down to a single byte, with inclusion and consistency proofs."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import InputError, IntegrityError, NotFound
from openscore.registry import audit, merkle
from openscore.registry.metadata import (
    audit_entries,
    audit_heads,
    audit_links,
    audit_state,
    consents,
    file_locks,
)

from .conftest import NOW
from fixtures.postgres import TEST_SECRET_KEY

KEY = registry.derive_audit_key(TEST_SECRET_KEY)
N_ENTRIES = 40


def _fill(engine: Engine, person: str, n: int) -> None:
    """``n`` entries in all: system ones and ones about ``person``."""
    with engine.begin() as conn:
        have = audit.tree_size(conn)
        for i in range(have, n):
            if i % 3:
                audit.append(conn, action="test.system", actor="system", details={"i": i})
            else:
                audit.append(
                    conn,
                    action="test.person",
                    actor="subject",
                    person_id=person,
                    details={"i": i},
                    linked={"thing": f"thing-{i}"},
                )


def _size(engine: Engine) -> int:
    with engine.connect() as conn:
        return audit.tree_size(conn)


def test_a_change_that_fails_leaves_no_entry(engine: Engine, alice: str) -> None:
    before = _size(engine)
    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            registry.grant_consent(conn, alice, "wallet", actor="subject")
            assert audit.tree_size(conn) == before + 1  # appended, in this transaction
            raise RuntimeError("the request failed after the change")
    assert _size(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(consents)).scalar() == 0
        assert audit.verify(conn).ok

    before = _size(engine)
    # The entry is written, then a later statement of the same change fails (here: a
    # duplicate key): the entry goes with the rollback.
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            registry.lock_file(conn, alice, actor="subject")
            assert audit.tree_size(conn) == before + 1
            conn.execute(file_locks.insert().values(person_id=alice, locked_at=NOW))
    assert _size(engine) == before
    with engine.begin() as conn:  # and the next append takes the same seq: no gap
        entry = audit.append(conn, action="test.after", actor="system")
    assert entry.seq == before
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_verify_recomputes_everything(engine: Engine, alice: str) -> None:
    _fill(engine, alice, N_ENTRIES)
    with engine.begin() as conn:
        head = audit.sign_tree_head(conn, now=NOW)
        result = audit.verify(conn)
        current = audit.current_head(conn)
    assert result.ok and result.problem is None and result.first_bad is None
    assert (result.tree_size, result.heads_checked, result.macs_checked) == (N_ENTRIES, 1, True)
    assert result.root == head.root == current.root
    with engine.connect() as conn:
        leaves = [merkle.leaf_hash(e.entry) for e in audit.list_entries(conn, limit=N_ENTRIES)]
    assert result.root == merkle.root_hash(leaves)
    result.raise_for_problem()  # no-op when ok

    other = registry.create_registry_engine(  # the right hashes under another key
        engine.url.render_as_string(hide_password=False), secret_key="another-secret"
    )
    try:
        with other.connect() as conn:
            result = audit.verify(conn)
        assert (result.ok, result.first_bad) == (False, 0)
    finally:
        other.dispose()


def _tamper(engine: Engine, seq: int, column: str, position: int, xor: int) -> bytes:
    with engine.begin() as conn:
        original = bytes(
            conn.execute(
                sa.select(audit_entries.c[column]).where(audit_entries.c.seq == seq)
            ).scalar_one()
        )
        changed = bytearray(original)
        changed[position % len(changed)] ^= xor
        conn.execute(
            audit_entries.update()
            .where(audit_entries.c.seq == seq)
            .values({column: bytes(changed)})
        )
    return original


def _restore(engine: Engine, seq: int, column: str, original: bytes) -> None:
    with engine.begin() as conn:
        conn.execute(
            audit_entries.update().where(audit_entries.c.seq == seq).values({column: original})
        )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seq=st.integers(0, 29),
    position=st.integers(0, 10_000),
    xor=st.integers(1, 255),
    column=st.sampled_from(["entry", "entry", "entry", "leaf_hash", "tree_root", "head_mac"]),
)
def test_any_single_byte_changed_anywhere_is_found_and_named(
    engine: Engine, alice: str, seq: int, position: int, xor: int, column: str
) -> None:
    _fill(engine, alice, 30)
    original = _tamper(engine, seq, column, position, xor)
    try:
        with engine.connect() as conn:
            result = audit.verify(conn)
        assert not result.ok
        assert result.first_bad == seq
        assert f"audit entry {seq}" in (result.problem or "")
        with pytest.raises(IntegrityError, match=f"audit entry {seq}"):
            result.raise_for_problem()
    finally:
        _restore(engine, seq, column, original)
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_rewriting_history_without_the_key_is_named_by_the_mac(engine: Engine, alice: str) -> None:
    _fill(engine, alice, 12)
    # An attacker with write access but not the key rewrites entry 5 and recomputes every
    # hash after it, consistently: only the MACs can tell.
    with engine.begin() as conn:
        rows = list(conn.execute(sa.select(audit_entries).order_by(audit_entries.c.seq)))
        frontier: list[bytes] = []
        for row in rows:
            entry = bytes(row.entry)
            if row.seq == 5:
                entry = entry.replace(b'"i":5', b'"i":6')
            leaf = merkle.leaf_hash(entry)
            frontier = merkle.frontier_append(frontier, row.seq, leaf)
            conn.execute(
                audit_entries.update()
                .where(audit_entries.c.seq == row.seq)
                .values(entry=entry, leaf_hash=leaf, tree_root=merkle.frontier_root(frontier))
            )
        conn.execute(audit_state.update().values(frontier=b"".join(frontier)))
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert (result.ok, result.first_bad) == (False, 5)
    assert "MAC" in (result.problem or "")


def test_missing_entries_and_truncation_are_named(engine: Engine, alice: str) -> None:
    _fill(engine, alice, 10)
    with engine.begin() as conn:
        audit.sign_tree_head(conn)
        conn.execute(audit_entries.delete().where(audit_entries.c.seq == 4))
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert (result.first_bad, result.problem) == (4, "audit entry 4 is missing (the next one is 5)")

    with engine.begin() as conn:  # cut the tail instead, and roll the state back to match
        conn.execute(audit_entries.delete().where(audit_entries.c.seq >= 4))
        leaves = [
            bytes(h)
            for h in conn.execute(
                sa.select(audit_entries.c.leaf_hash).order_by(audit_entries.c.seq)
            ).scalars()
        ]
        frontier: list[bytes] = []
        for i, leaf in enumerate(leaves):
            frontier = merkle.frontier_append(frontier, i, leaf)
        conn.execute(audit_state.update().values(size=4, frontier=b"".join(frontier)))
    with engine.connect() as conn:
        result = audit.verify(conn)
    # The signed head of size 10 still remembers what was there.
    assert (result.ok, result.first_bad) == (False, 4)
    assert "signed tree head covers 10" in (result.problem or "")


def test_inclusion_proofs_for_every_entry_of_every_size(engine: Engine, alice: str) -> None:
    _fill(engine, alice, N_ENTRIES)
    with engine.connect() as conn:
        for n in range(1, N_ENTRIES + 1):
            for i in range(n):
                proof = audit.inclusion_proof(conn, i, size=n)
                assert proof.tree_size == n and proof.verify(KEY), (i, n)
                assert audit.verify_inclusion_proof(proof, key=KEY)
        proof = audit.inclusion_proof(conn, 17)  # default: the whole log
        assert proof.tree_size == N_ENTRIES and proof.root == audit.current_head(conn).root

        from dataclasses import replace

        flipped = bytes([proof.path[0][0] ^ 1]) + proof.path[0][1:]
        altered = [
            replace(proof, path=(flipped, *proof.path[1:])),
            replace(proof, entry=proof.entry.replace(b'"i":', b'"j":')),
            replace(proof, seq=proof.seq + 1),
            replace(proof, root=bytes(32)),
            replace(proof, tree_size=proof.tree_size + 1),  # the MAC binds the size
            replace(proof, head_mac=bytes(32)),
        ]
        for bad in altered:
            assert not bad.verify(KEY)
        assert proof.to_json()["path"] == [p.hex() for p in proof.path]

        with pytest.raises(NotFound):
            audit.inclusion_proof(conn, N_ENTRIES)
        with pytest.raises(InputError):
            audit.inclusion_proof(conn, 5, size=3)


def test_consistency_between_signed_heads(engine: Engine, alice: str) -> None:
    _fill(engine, alice, 10)
    with engine.begin() as conn:
        old = audit.sign_tree_head(conn, now=NOW)
        assert audit.sign_tree_head(conn) == old  # same size: the same head
    _fill(engine, alice, 27)
    with engine.begin() as conn:
        new = audit.sign_tree_head(conn, now=NOW + timedelta(hours=1))
        assert [h.tree_size for h in audit.tree_heads(conn)] == [10, 27]
        proof = audit.consistency_proof(conn, old.tree_size, new.tree_size)
    assert (proof.first_root, proof.second_root) == (old.root, new.root)
    assert proof.verify()
    assert merkle.verify_consistency(10, 27, old.root, new.root, proof.path)
    assert not merkle.verify_consistency(10, 27, bytes(32), new.root, proof.path)
    assert new.to_json()["tree_size"] == 27

    with engine.begin() as conn:  # a stored head that no longer matches is named
        conn.execute(
            audit_heads.update().where(audit_heads.c.tree_size == 10).values(root=bytes(32))
        )
    with engine.connect() as conn:
        result = audit.verify(conn)
    assert (result.ok, result.first_bad) == (False, 9)
    assert "signed tree head of size 10" in (result.problem or "")


def test_concurrent_appends_stay_gapless_and_verify(engine: Engine, alice: str) -> None:
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(8):
                with engine.begin() as conn:
                    audit.append(
                        conn, action="test.concurrent", actor="system", details={"w": w, "i": i}
                    )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with engine.connect() as conn:
        result = audit.verify(conn)
        assert result.ok and result.tree_size == 1 + 32
        seqs = [e.seq for e in audit.list_entries(conn, limit=100)]
    assert seqs == list(range(33))


def test_append_many_writes_exactly_what_as_many_appends_would(
    engine: Engine, alice: str, bob: str
) -> None:
    """A batch (the decision path appends a decision and its inquiry together) holds the
    same bytes, leaves, roots, MACs and person links as one ``append`` per entry."""
    one = audit.PendingEntry(
        "test.first",
        "partner:bikes",
        person_id=alice,
        details={"n": 1},
        linked={"thing": "a", "absent": None},
        at=NOW,
    )
    system = audit.PendingEntry("test.system", "system", details={"n": 2}, at=NOW)
    two = audit.PendingEntry(
        "test.second", "partner:bikes", person_id=alice, linked={"x": "b"}, at=NOW
    )
    other = audit.PendingEntry("test.other", "subject", person_id=bob, at=NOW)
    links = sa.select(audit_links.c.person_id, audit_links.c.seq).order_by(audit_links.c.seq)
    # one person (the lock and the salt in one statement), none, and two people
    for batch in ([one, two], [system], [one, system, other, two]):
        with engine.connect() as conn, conn.begin():
            start = audit.tree_size(conn)
            savepoint = conn.begin_nested()
            singly = [
                audit.append(
                    conn,
                    action=p.action,
                    actor=p.actor,
                    person_id=p.person_id,
                    subject=p.subject,
                    details=p.details,
                    linked=p.linked,
                    at=p.at,
                )
                for p in batch
            ]
            linked_singly = conn.execute(links.where(audit_links.c.seq >= start)).all()
            savepoint.rollback()
            assert audit.tree_size(conn) == start
            batched = audit.append_many(conn, batch)
            assert batched == singly
            assert [e.seq for e in batched] == list(range(start, start + len(batch)))
            assert conn.execute(links.where(audit_links.c.seq >= start)).all() == linked_singly
            assert audit.tree_size(conn) == start + len(batch)
    with engine.connect() as conn:
        assert audit.verify(conn, batch=3).ok
        assert audit.append_many(conn, []) == []
    with pytest.raises(NotFound):  # an unknown person: nothing is written
        with engine.begin() as conn:
            audit.append_many(conn, [system, audit.PendingEntry("test.x", "system", "ghost")])
    with engine.connect() as conn:
        assert audit.verify(conn).ok
