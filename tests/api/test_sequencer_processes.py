"""The audit sequencer across real processes: two ``openscore serve`` on one PostgreSQL
registry answering decisions with receipts while one sequencer (the lease holder)
integrates them; SIGKILL of a server and of the sequencer mid-batch loses nothing and
doubles nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.registry import audit, leases, sequencer
from openscore.registry.metadata import audit_entries, audit_pending

from fixtures.api import AS_OF, build_world
from fixtures.postgres import TEST_SECRET_KEY

pytestmark = pytest.mark.timeout(600)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(data: Path, url: str, **extra: str) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {
        **os.environ,
        "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "OPENSCORE_DATA_DIR": str(data),
        "OPENSCORE_REGISTRY_URL": url,
        "OPENSCORE_SECRET_KEY": TEST_SECRET_KEY,
        "OPENSCORE_ENVIRONMENT": "test",
        "OPENSCORE_AS_OF": AS_OF.isoformat(),
        "OPENSCORE_API_AUDIT_MAX_MERGE_DELAY_SECONDS": "0.4",
        **extra,
    }


def _serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "openscore", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _check_exactly_once(engine: Engine, receipts: list[sequencer.Receipt]) -> None:
    """Every receipt in the tree once, the tree gapless and verified, nothing queued."""
    with engine.connect() as conn:
        assert sequencer.queue_state(conn).queued == 0
        rows = {
            r.id: r
            for r in conn.execute(
                sa.select(audit_pending.c.id, audit_pending.c.entry_hash, audit_pending.c.seq)
            )
        }
        assert all(rows[r.receipt_id].seq is not None for r in receipts)
        assert all(bytes(rows[r.receipt_id].entry_hash) == r.entry_hash for r in receipts)
        seqs = [rows[r.receipt_id].seq for r in receipts]
        assert len(set(seqs)) == len(seqs)
        # each integrated entry carries the hash of the one queued row that says it is there
        carried = {}
        for seq, entry in conn.execute(sa.select(audit_entries.c.seq, audit_entries.c.entry)):
            receipt = json.loads(bytes(entry)).get("receipt")
            if receipt is not None:
                assert receipt not in carried, f"entry {seq} repeats entry {carried.get(receipt)}"
                carried[receipt] = seq
        by_seq = {r.seq: bytes(r.entry_hash).hex() for r in rows.values() if r.seq is not None}
        assert {v: k for k, v in by_seq.items()} == carried
        for receipt in random.Random(1).sample(receipts, min(3, len(receipts))):
            assert sequencer.check_receipt(conn, receipt).ok
        result = audit.verify(conn)
        assert result.ok, result.problem


@pytest.fixture()
def pg_world(postgres_database: str, tmp_path: Path, cheap_passwords: None) -> Iterator:
    engine = registry.create_registry_engine(postgres_database, secret_key=TEST_SECRET_KEY)
    registry.upgrade(engine)
    world = build_world(engine, tmp_path / "data")
    yield world, postgres_database
    engine.dispose()


def _population(world, n: int = 6) -> tuple[str, list[dict]]:
    partner = world.partner("bikes")
    grants = []
    for _ in range(n):
        subject = world.subject()
        with world.engine.begin() as conn:
            registry.publish_score(
                conn,
                registry.ScoreToPublish(
                    person_id=subject.id,
                    score=712,
                    dimensions={"credit_history": 60},
                    reasons=[{"code": "utilisation", "text": "High", "improve": "Pay down"}],
                    model_id="test-model",
                    as_of=datetime(2025, 9, 1, tzinfo=UTC),
                ),
                actor="system",
            )
        grants.append(world.grant(subject, "bikes"))
    return partner.secret, grants


def _fire(urls: list[str], key: str, grants: list[dict], per_thread: int, threads: int) -> list:
    answers: list[tuple[int, dict | None]] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        rng = random.Random(i)
        with httpx.Client(timeout=30) as client:
            for _ in range(per_thread):
                grant = rng.choice(grants)
                body = {
                    "grant_id": grant["id"],
                    "person_id": grant["person_id"],
                    "product_id": "bike",
                    "purpose": grant["purpose"],
                }
                try:
                    r = client.post(
                        f"{rng.choice(urls)}/v1/decisions",
                        json=body,
                        headers={"Authorization": f"Bearer {key}"},
                    )
                    with lock:
                        answers.append((r.status_code, r.json() if r.status_code == 201 else None))
                except httpx.HTTPError:
                    with lock:
                        answers.append((0, None))  # the server was killed under this request

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return answers


def _receipts(answers: list) -> list[sequencer.Receipt]:
    return [sequencer.Receipt.from_json(r) for s, a in answers if s == 201 for r in a["receipts"]]


def test_two_servers_one_sequencer_and_a_killed_server(pg_world, tmp_path: Path) -> None:
    world, url = pg_world
    key, grants = _population(world)
    env = _env(world.data_dir, url)
    first, first_url = _serve(env, tmp_path / "first.log")
    second, second_url = _serve(env, tmp_path / "second.log")
    try:
        answers = _fire([first_url, second_url], key, grants, per_thread=15, threads=8)
        assert {s for s, _ in answers} == {201}
        receipts = _receipts(answers)
        assert len(receipts) == 2 * 120
        deadline = time.monotonic() + 15
        while True:
            with world.engine.connect() as conn:
                if sequencer.queue_state(conn).queued == 0:
                    break
            assert time.monotonic() < deadline, "queued entries were not integrated"
            time.sleep(0.2)
        _check_exactly_once(world.engine, receipts)
        with world.engine.connect() as conn:
            (lease,) = [x for x in leases.list_leases(conn) if x.name == "audit-sequencer"]
        assert lease.holder.split(":")[1] in {str(first.pid), str(second.pid)}
        assert lease.last_ok is True

        # SIGKILL the lease holder while both take load: the other takes the job over
        # once the lease expires, and every 201 the partners got is in the tree once.
        holder, other, other_url = (
            (first, second, second_url)
            if lease.holder.split(":")[1] == str(first.pid)
            else (second, first, first_url)
        )
        killer = threading.Timer(0.5, lambda: os.kill(holder.pid, signal.SIGKILL))
        killer.start()
        more = _fire([first_url, second_url], key, grants, per_thread=15, threads=6)
        killer.join()
        more += _fire([other_url], key, grants, per_thread=5, threads=4)
        statuses = {s for s, _ in more}
        assert statuses <= {201, 0}, statuses  # 0: the connection to the killed server
        receipts += _receipts(more)
        deadline = time.monotonic() + 30  # the dead holder's lease (5 s) must run out
        while True:
            with world.engine.connect() as conn:
                if sequencer.queue_state(conn).queued == 0:
                    break
            assert time.monotonic() < deadline, "the surviving server did not take over"
            time.sleep(0.3)
        _check_exactly_once(world.engine, receipts)
        with world.engine.connect() as conn:
            (lease,) = [x for x in leases.list_leases(conn) if x.name == "audit-sequencer"]
        assert lease.holder.split(":")[1] == str(other.pid)
    finally:
        _stop(first)
        _stop(second)


def test_sigkill_of_the_sequencer_mid_batch_loses_and_doubles_nothing(
    registry_engine: Engine, tmp_path: Path
) -> None:
    engine = registry_engine
    registry_url = engine.url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        people = [registry.create_person(conn, actor="system").id for _ in range(20)]
    receipts: list[sequencer.Receipt] = []

    def queue(chunk: int) -> None:
        with engine.begin() as conn:
            receipts.extend(
                sequencer.append_queued(
                    conn,
                    [
                        audit.PendingEntry(
                            action="inquiry.recorded",
                            actor="partner:bikes",
                            person_id=people[i % len(people)],
                            details={"partner": "bikes", "purpose": "rental"},
                            linked={"inquiry": f"q{chunk}-{i}"},
                        )
                        for i in range(1500)
                    ],
                )
            )

    for chunk in range(8):
        queue(chunk)
    env = _env(tmp_path / "data", registry_url)
    command = [sys.executable, "-m", "openscore", "audit", "sequence", "--batch", "3000"]
    rng = random.Random(3)
    kills = 0
    wait = rng.uniform(1.5, 4.0)  # interpreter start, then somewhere in a batch
    for attempt in range(8):
        queue(100 + attempt)  # work is pending at every attempt
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(wait)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        else:  # a fast machine: it finished first, so the next kill comes sooner
            wait = max(0.3, wait / 2)
        proc.wait()
        with engine.connect() as conn:
            assert audit.verify(conn).ok  # whatever committed is a whole, valid tree
    assert kills, "the sequencer finished before any kill: the test proved nothing"
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    _check_exactly_once(engine, receipts)
