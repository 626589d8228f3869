"""SIGKILL during ingestion, compaction, expiry, erasure and revocation, at random moments.

Each trial runs one operation in a child process over the same world and kills it a
random time after it starts working (uniform over the length of a whole run, measured
first). Then, before anything else touches the world: the ledger holds exactly the
events it held before the operation or exactly those it holds after it (no partial
batch, no lost or doubled event), and the integrity check passes (``harness``). Then the
interrupted operation is finished — by the recovery the service runs, or by the caller
retrying it — and the check passes again with the world in the "after" state wherever
the registry says the operation happened.

``OPENSCORE_CRASH_TRIALS`` sets the number of trials (default sized for CI).
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from openscore.engines.duckdb import connect, parquet_list
from openscore.ledger import pending_operations
from openscore.ledger.expiry import expired_sql
from openscore.online import recover, registry_consent_gate
from openscore.registry import consent_map, person_exists, read_only
from openscore.registry.metadata import consents
from reliability.harness import (
    World,
    check_integrity,
    digest,
    fresh_events,
    id_set,
    make_world,
    run_child,
    start_child,
    trials,
)

from fixtures.data import write_events

pytestmark = pytest.mark.slow

OPS = ("ingest", "compact", "expire", "erase", "revoke")
EXPIRE_NOW = "2026-06-01T00:00:00+00:00"
RETENTION = 1


def _select_ids(world: World, where: str) -> frozenset[str]:
    snap = world.ledger.snapshot()
    if snap.empty:
        return frozenset()
    con = connect()
    try:
        rows = con.execute(
            f"SELECT furnisher_id || '/' || event_id FROM read_parquet({parquet_list(snap.paths)})"
            f" WHERE coalesce(({where}), false)"
        ).fetchall()
    finally:
        con.close()
    return frozenset(r[0] for r in rows)


def _shared_pairs(world: World) -> list[tuple[str, str]]:
    with read_only(world.engine).connect() as conn:
        shared = consent_map(conn)
    return sorted((p, s.value) for p, ss in shared.items() for s in ss)


def _plan(world: World, op: str, trial: int, tmp: Path, rng: random.Random):
    """(child arguments, the set of event ids once the operation is complete)."""
    before = id_set(world.ledger)
    if op == "ingest":
        table = fresh_events(world, 4_000, seed=trial, prefix=f"t{trial}-")
        path = write_events(table, tmp / f"in-{trial}.parquet")
        table = pq.read_table(path, columns=["event_id", "person_id", "source"])
        allowed = registry_consent_gate(world.engine)(table.select(["person_id", "source"]))
        new = {
            f"fx/{e}"
            for e, ok in zip(table["event_id"].to_pylist(), allowed.to_pylist(), strict=True)
            if ok
        }
        return [str(path), "fx"], before | new
    if op == "compact":
        return [], before
    if op == "expire":
        gone = _select_ids(world, expired_sql(datetime.fromisoformat(EXPIRE_NOW), RETENTION))
        return [str(RETENTION), EXPIRE_NOW], before - gone
    if op == "erase":
        with read_only(world.engine).connect() as conn:
            left = [p for p in world.people if person_exists(conn, p)]
        person = rng.choice(left)
        gone = _select_ids(world, f"person_id = '{person}' OR counterparty_id = '{person}'")
        return [person], before - gone
    person, source = rng.choice(_shared_pairs(world))
    gone = _select_ids(world, f"person_id = '{person}' AND source = '{source}'")
    return [person, source], before - gone


def _happened(world: World, op: str, args: list[str]) -> bool | None:
    """Whether the registry says the operation took place (None: not a registry operation)."""
    with read_only(world.engine).connect() as conn:
        if op == "erase":
            return not person_exists(conn, args[0])
        if op == "revoke":
            shared = consent_map(conn, [args[0]]).get(args[0], frozenset())
            return args[1] not in {s.value for s in shared}
    return None


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    rng = random.Random(20261123)
    durations: dict[str, float] = {}
    outcomes: Counter[str] = Counter()
    n = max(trials("crash", 10), len(OPS) * 2)
    for trial in range(n):
        op = OPS[trial % len(OPS)]
        args, after = _plan(world, op, trial, tmp_path, rng)
        before = id_set(world.ledger)
        if op not in durations:  # a whole run first: how long the operation takes
            run = run_child(world, op, *args, kill_after=None)
            assert run.returncode == 0, run.output
            durations[op] = run.seconds
            assert id_set(world.ledger) == after, op
            check_integrity(world)
            continue
        run = run_child(world, op, *args, kill_after=rng.uniform(0, durations[op] * 1.1))
        assert run.killed or run.returncode == 0, run.output
        state = id_set(world.ledger)
        assert state in (before, after), f"{op} left a partial state ({digest(state)})"
        check_integrity(world)  # holds even before recovery: pending work is on record
        if run.killed and trial % 2 and op in ("erase", "revoke", "ingest"):
            # the caller retries: the operation completes once, or says it already did
            again = run_child(world, op, *args, kill_after=None)
            assert (
                again.returncode == 0 or "NotFound" in again.output or "Conflict" in (again.output)
            ), (op, args, again)
        recover(world.engine, settings=world.settings, min_age_seconds=0)
        assert pending_operations(world.ledger) == []
        final = id_set(world.ledger)
        check_integrity(world)
        happened = _happened(world, op, args)
        if happened or (op == "ingest" and final != before):
            assert final == after, f"{op} is done in the registry, not in the ledger"
        else:
            assert final in (before, after)
        outcomes[
            f"{op}:{'killed' if run.killed else 'finished'}:"
            f"{'after' if final == after else 'before'}"
        ] += 1
    print("crash outcomes", dict(sorted(outcomes.items())), "durations", durations)
    # the first trial of each operation times a whole run; of the others, most are killed
    # (the kill lands uniformly over 1.1 runs, and a run can also end early by chance)
    assert sum(v for k, v in outcomes.items() if ":killed:" in k) >= (n - len(OPS)) // 2


def _kill_when(world: World, args: list[str], reached, timeout: float = 60) -> bool:
    """Start the child, SIGKILL it the moment ``reached()`` holds; whether it was still
    running then."""
    proc, lines = start_child(world, *args)
    deadline = time.monotonic() + timeout
    while not reached():
        assert proc.poll() is None or reached(), "".join(lines)
        assert time.monotonic() < deadline
        time.sleep(0.002)
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return alive


def test_sigkill_between_the_registry_and_the_ledger(tmp_path: Path) -> None:
    """Killed the moment the registry's step committed: the ledger's step is owed, on
    record, and recovery pays it — for an erasure and for a revocation."""
    world = make_world(tmp_path, batches=12, events=800)
    person = world.people[3]
    with read_only(world.engine).connect() as conn:
        assert person_exists(conn, person)

    def erased() -> bool:
        with read_only(world.engine).connect() as conn:
            return not person_exists(conn, person)

    alive = _kill_when(world, ["erase", person], erased)
    pending = pending_operations(world.ledger)
    if alive:  # the usual case: the ledger's rewrite takes far longer than a poll
        assert [(p.kind, p.person_id) for p in pending] == [("erasure", person)]
    check_integrity(world)
    recover(world.engine, settings=world.settings, min_age_seconds=0)
    assert pending_operations(world.ledger) == []
    check_integrity(world)
    assert not _select_ids(world, f"person_id = '{person}' OR counterparty_id = '{person}'")

    other, source = _shared_pairs(world)[5]

    def revoked() -> bool:
        with read_only(world.engine).connect() as conn:
            return (
                conn.execute(
                    sa.select(sa.func.count()).where(
                        consents.c.person_id == other,
                        consents.c.source == source,
                        consents.c.revoked_at.is_not(None),
                    )
                ).scalar_one()
                > 0
            )

    alive = _kill_when(world, ["revoke", other, source], revoked)
    if alive:
        assert [(p.kind, p.source) for p in pending_operations(world.ledger)] == [
            ("consent_purge", source)
        ]
    check_integrity(world)
    recover(world.engine, settings=world.settings, min_age_seconds=0)
    assert pending_operations(world.ledger) == []
    check_integrity(world)
    assert not _select_ids(world, f"person_id = '{other}' AND source = '{source}'")
