"""Background jobs under leases: however many processes offer a job, one runs it; a
stopped holder hands it over; a slow job's schedule survives restarts."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from openscore.jobs.housekeeping import Housekeeper, Job, engine_writer
from openscore.registry import leases


def _keeper(engine: Engine, runs: list[str], name: str, interval: float = 0.1) -> Housekeeper:
    keeper = Housekeeper(write=engine_writer(engine), jobs=[], holder=name)
    keeper.jobs.append(Job("count", interval, lambda: runs.append(name) or f"ran in {name}"))
    return keeper


def test_one_of_two_processes_runs_a_job_and_hands_it_over_on_stop(
    registry_engine: Engine,
) -> None:
    runs: list[str] = []
    a, b = _keeper(registry_engine, runs, "a"), _keeper(registry_engine, runs, "b")
    for step in range(10):
        a.run_due(now=step)
        b.run_due(now=step)
    assert runs == ["a"] * 10  # b never ran it while a held the lease
    a.stop()  # releases its leases
    b.run_due(now=100)
    assert runs[-1] == "b"
    with registry_engine.connect() as conn:
        (lease,) = leases.list_leases(conn)
    assert (lease.holder, lease.last_ok, lease.last_result) == ("b", True, "ran in b")


def test_a_failing_job_records_its_error_and_backs_off(registry_engine: Engine) -> None:
    def boom() -> str:
        raise RuntimeError("disk on fire")

    keeper = Housekeeper(
        write=engine_writer(registry_engine), jobs=[Job("boom", 1.0, boom)], holder="x"
    )
    keeper.run_due(now=0)
    assert keeper.jobs[0].failures == 1 and keeper.jobs[0].next_due >= 30
    keeper.run_due(now=5)
    assert keeper.jobs[0].failures == 1  # backed off, not retried at once
    with registry_engine.connect() as conn:
        (lease,) = leases.list_leases(conn)
    assert lease.last_ok is False and lease.last_result == "RuntimeError: disk on fire"


def test_a_slow_jobs_schedule_survives_a_restart(registry_engine: Engine) -> None:
    runs: list[str] = []
    first = _keeper(registry_engine, runs, "first", interval=3600)
    first.run_due(now=0)
    first.stop()
    restarted = _keeper(registry_engine, runs, "restarted", interval=3600)
    restarted.run_due(now=0)
    assert runs == ["first"]  # ran a moment ago: not again at every process start
