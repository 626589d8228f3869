"""Housekeeping that runs itself: the audit sequencer, ledger compaction and expiry, each
on its own schedule, each only where its lease is held (``registry/leases.py``).

Every server runs a :class:`Housekeeper` thread (``OPENSCORE_API_HOUSEKEEPING``, on by
default), and so does ``openscore worker``; however many there are, each job has one
holder at a time. The holder renews its lease as it runs; if it dies, another process
takes the job over once the lease expires (its time-to-live, a few intervals).

A job that fails (the sequencer halted on a corrupt queued entry, a compaction that ran
out of disk) records its message on its lease row — shown in the operator console and
counted in ``/metrics`` — and is retried after :data:`FAILURE_BACKOFF_SECONDS`; the
server goes on answering meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection, Engine

from openscore.ledger import Ledger, expire, tidy
from openscore.registry import leases, sequencer
from openscore.registry.metadata import utc_now

log = logging.getLogger("openscore.housekeeping")

FAILURE_BACKOFF_SECONDS = 30.0
SEQUENCER = "audit-sequencer"
COMPACTION = "ledger-compaction"
EXPIRY = "ledger-expiry"

Writer = Callable[[], AbstractContextManager[Connection]]


@dataclass
class Job:
    """``run`` does one pass and returns a one-line result (or raises)."""

    name: str
    interval: float
    run: Callable[[], str]
    #: how long the lease lasts unrenewed; a dead holder's job waits this long
    ttl: float = 0.0
    next_due: float = 0.0
    lease_until: float = 0.0
    last_error: str | None = None
    runs: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        if self.ttl <= 0:
            self.ttl = max(5.0, 4 * self.interval)


def default_holder() -> str:
    """This process, readably: host, pid and a random tail (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def engine_writer(engine: Engine) -> Writer:
    return engine.begin


@dataclass
class Housekeeper:
    """Runs ``jobs`` on their schedules in one background thread (or by :meth:`run_due`)."""

    write: Writer
    jobs: list[Job]
    holder: str = field(default_factory=default_holder)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _hold(self, job: Job, now: float) -> bool:
        # Renew at half the time-to-live: no write per pass for a job that runs often.
        if job.lease_until - now > job.ttl / 2:
            return True
        with self.write() as conn:
            held = leases.acquire(conn, job.name, self.holder, job.ttl)
            last = leases.last_run_at(conn, job.name) if held and job.interval >= 60 else None
        job.lease_until = now + job.ttl if held else 0.0
        if last is not None:
            # A slow job's schedule survives restarts and hand-overs: it is due an interval
            # after its last run by anyone, not at every process start.
            wait = job.interval - (utc_now() - last).total_seconds()
            if wait > 0:
                job.next_due = now + wait
                return False
        return held

    def run_due(self, now: float | None = None) -> dict[str, str]:
        """Run every job that is due and whose lease this process holds."""
        done: dict[str, str] = {}
        for job in self.jobs:
            now = time.monotonic() if now is None else now
            if now < job.next_due:
                continue
            job.next_due = now + job.interval
            try:
                if not self._hold(job, now):
                    continue
            except Exception as exc:
                log.warning("%s: cannot take its lease (%s)", job.name, type(exc).__name__)
                continue
            try:
                result = job.run()
            except Exception as exc:
                job.failures += 1
                job.last_error = f"{type(exc).__name__}: {exc}"
                job.next_due = now + max(job.interval, FAILURE_BACKOFF_SECONDS)
                log.error("%s failed: %s", job.name, job.last_error)
                self._record(job, ok=False, result=job.last_error)
                continue
            job.runs += 1
            job.last_error = None
            done[job.name] = result
            # A pass that did nothing leaves the last real result shown; slow jobs note
            # every run (their schedule is kept in the registry), frequent ones do not.
            if result or job.interval >= 60:
                self._record(job, ok=True, result=result or None)
        return done

    def _record(self, job: Job, *, ok: bool, result: str | None) -> None:
        with contextlib.suppress(Exception):
            with self.write() as conn:
                leases.record_run(conn, job.name, self.holder, ok=ok, result=result)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        tick = min(j.interval for j in self.jobs) if self.jobs else 1.0
        while not self._stop.wait(tick):
            self.run_due()

    def stop(self) -> None:
        """Stop the thread and give up the leases held (so another process takes over now)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        for job in self.jobs:
            if job.lease_until:
                with contextlib.suppress(Exception):
                    with self.write() as conn:
                        leases.release(conn, job.name, self.holder)
                job.lease_until = 0.0


def sequencer_job(write: Writer, *, max_merge_delay: float) -> Job:
    """Integrate queued audit entries four times per maximum merge delay."""

    def run() -> str:
        total = 0
        while True:
            with write() as conn:
                step = sequencer.integrate(conn)
            total += step.integrated
            if not step.still_queued:
                return f"integrated {total}; tree size {step.tree_size}" if total else ""

    return Job(SEQUENCER, max_merge_delay / 4, run, ttl=max(5.0, 4 * max_merge_delay))


def compaction_job(
    ledger: Ledger,
    *,
    above_segments: int,
    interval: float = 60.0,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Job:
    """Keep at most ``above_segments`` segments outside the compacted run
    (``ledger/compaction.py``, :func:`~openscore.ledger.tidy`): merge the appended ones,
    or rewrite the whole ledger once they have grown large."""

    def run() -> str:
        out = tidy(
            ledger, above_segments=above_segments, memory_limit=memory_limit, threads=threads
        )
        if out is None:
            return ""
        what = "merged the appended segments" if out["kind"] == "appended" else "compacted"
        return f"{what}: {out['segments_before']} segments into {out['segments_after']}"

    return Job(COMPACTION, interval, run, ttl=3600.0)


def expiry_job(ledger: Ledger, *, retention_years: int, interval: float) -> Job:
    """Delete negative records past retention."""

    def run() -> str:
        removed = expire(ledger, retention_years=retention_years)
        return f"expired {removed} negative records" if removed else ""

    return Job(EXPIRY, interval, run, ttl=max(3600.0, 2 * interval))


@contextlib.contextmanager
def running(keeper: Housekeeper) -> Iterator[Housekeeper]:
    keeper.start()
    try:
        yield keeper
    finally:
        keeper.stop()
