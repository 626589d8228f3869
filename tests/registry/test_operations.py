"""Idempotency keys, file locks, the DP budget and ingestion runs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict, InputError, NotFound
from openscore.registry.metadata import idempotency_keys

from .conftest import NOW, OPERATOR


def test_idempotency_replays_the_first_result_and_refuses_a_different_body(
    engine: Engine, alice: str
) -> None:
    calls: list[int] = []

    def report() -> dict[str, object]:
        calls.append(1)
        return {"accepted": 1, "call": len(calls)}

    body = {"event_id": "e1", "type": "rental", "returned": True}
    with engine.begin() as conn:
        first = registry.run_idempotent(
            conn, principal="bikes", key="abc-1", request=body, action=report, person_id=alice
        )
    with engine.begin() as conn:
        again = registry.run_idempotent(
            conn,
            principal="bikes",
            key="abc-1",
            request={"returned": True, "type": "rental", "event_id": "e1"},  # same, reordered
            action=report,
        )
    assert (first.replayed, again.replayed) == (False, True)
    assert again.response == first.response == {"accepted": 1, "call": 1}
    assert len(calls) == 1

    with pytest.raises(Conflict, match="different request"):
        with engine.begin() as conn:
            registry.run_idempotent(
                conn, principal="bikes", key="abc-1", request={**body, "lost": 1}, action=report
            )
    with engine.begin() as conn:  # keys are per principal
        other = registry.run_idempotent(
            conn, principal="lender", key="abc-1", request=body, action=report
        )
    assert not other.replayed and len(calls) == 2

    def failing() -> dict[str, object]:
        raise RuntimeError("ledger write failed")

    with pytest.raises(RuntimeError):
        with engine.begin() as conn:
            registry.run_idempotent(
                conn, principal="bikes", key="abc-2", request=body, action=failing
            )
    with engine.begin() as conn:  # the failed attempt did not use the key up
        retried = registry.run_idempotent(
            conn, principal="bikes", key="abc-2", request=body, action=report
        )
    assert not retried.replayed

    with pytest.raises(InputError) as err:
        with engine.begin() as conn:
            registry.run_idempotent(
                conn, principal="bikes", key="has space", request=body, action=report
            )
    assert err.value.field == "Idempotency-Key"

    with engine.begin() as conn:  # erasing the person removes the responses tied to them
        registry.erase_person(conn, alice, actor="subject")
        keys = set(conn.execute(sa.select(idempotency_keys.c.principal, idempotency_keys.c.key)))
        assert keys == {("lender", "abc-1"), ("bikes", "abc-2")}
        assert (
            registry.purge_idempotency_keys(
                conn, older_than=registry.utc_now() + timedelta(seconds=1)
            )
            == 2
        )


def test_file_lock(engine: Engine, alice: str, bob: str) -> None:
    with engine.begin() as conn:
        since = registry.lock_file(conn, alice, actor="subject", now=NOW)
        assert registry.lock_file(conn, alice, actor="subject") == since == NOW
        assert registry.is_locked(conn, alice) and not registry.is_locked(conn, bob)
        registry.ensure_unlocked(conn, bob)
        registry.unlock_file(conn, alice, actor="subject")
        registry.unlock_file(conn, alice, actor="subject")
        assert not registry.is_locked(conn, alice)
        actions = [e.action for e in registry.audit.person_entries(conn, alice)]
    assert actions == ["person.created", "file.locked", "file.unlocked"]


def test_dp_budget(engine: Engine) -> None:
    def release(name: str, epsilon: float) -> registry.DpRelease:
        with engine.begin() as conn:
            return registry.record_dp_release(
                conn,
                scope="city_map",
                release=name,
                epsilon=epsilon,
                delta=1e-8,
                epsilon_budget=1.0,
                actor=OPERATOR,
                details={"cells": 120},
            )

    release("map-2025-01", 0.5)
    release("map-2025-02", 0.5)
    with pytest.raises(Conflict, match="exhausted"):
        release("map-2025-03", 0.01)
    with pytest.raises(Conflict, match="already exists"):  # release names are global
        with engine.begin() as conn:
            registry.record_dp_release(
                conn,
                scope="other",
                release="map-2025-01",
                epsilon=0.1,
                delta=0,
                epsilon_budget=1,
                actor=OPERATOR,
            )
    with pytest.raises(InputError) as err:
        release("map-bad", -1)
    assert err.value.field == "epsilon"
    with engine.connect() as conn:
        spent = registry.dp_budget_spent(conn, "city_map")
        assert (spent.epsilon, spent.releases) == (1.0, 2)
        assert [r.release for r in registry.list_dp_releases(conn, "city_map")] == [
            "map-2025-01",
            "map-2025-02",
        ]


def test_ingestion_runs(engine: Engine) -> None:
    with engine.begin() as conn:
        run = registry.start_ingestion_run(
            conn, furnisher_id="bank-1", actor="system:ingest", now=NOW
        )
    with engine.begin() as conn:
        done = registry.finish_ingestion_run(
            conn,
            run.id,
            status="committed",
            accepted=980,
            rejected=20,
            duplicates=3,
            report_path="runs/x/rejects.csv",
            actor="system:ingest",
            now=NOW + timedelta(seconds=5),
        )
    assert (done.status, done.accepted, done.finished_at) == (
        "committed",
        980,
        NOW + timedelta(seconds=5),
    )
    with engine.connect() as conn:
        assert registry.get_ingestion_run(conn, run.id) == done
        assert registry.list_ingestion_runs(conn, furnisher_id="bank-1") == [done]
        assert registry.list_ingestion_runs(conn, furnisher_id="other") == []
        with pytest.raises(NotFound):
            registry.get_ingestion_run(conn, "nope")
        actions = [e.action for e in registry.audit.list_entries(conn)]
    assert actions == ["ingestion.started", "ingestion.committed"]
    with pytest.raises(Conflict):
        with engine.begin() as conn:
            registry.finish_ingestion_run(
                conn,
                run.id,
                status="failed",
                accepted=0,
                rejected=0,
                duplicates=0,
                actor="system:ingest",
            )


def test_concurrent_twins_act_once(engine: Engine) -> None:
    calls: list[int] = []
    results: list[registry.IdempotentResult] = []

    def slow() -> dict[str, object]:
        calls.append(1)
        time.sleep(0.3)  # the twin arrives while this one is still in flight
        return {"accepted": 1}

    def request() -> None:
        with engine.begin() as conn:
            results.append(
                registry.run_idempotent(
                    conn, principal="bikes", key="twin", request={"e": 1}, action=slow
                )
            )

    threads = [threading.Thread(target=request) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert sorted(r.replayed for r in results) == [False, True]
    assert results[0].response == results[1].response == {"accepted": 1}
