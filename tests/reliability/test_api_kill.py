"""SIGKILL of the API server during a stream of decisions and consent changes.

``openscore serve`` (production settings) runs over a world; a client sends a bounded,
random stream of partner decisions and subjects' consent changes (revocations purge the
ledger and republish), and the server is killed at a random moment. Then it is started
again, and:

- every request that got a 2xx is durable: each decision is there for the partner (same
  outcome) and its inquiry for the person; each consent is as the last 2xx left it —
  or as the one request in flight at the kill asked, if that one took effect;
- nothing that failed is half-applied: every decision has its inquiry (one transaction),
  the audit log verifies, the integrity check passes once the restarted service has
  finished what the kill interrupted (no revoked source keeps ledger rows).

``OPENSCORE_API_KILL_TRIALS`` kills per backend (default sized for CI).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from openscore import registry
from openscore.ledger import pending_operations
from openscore.registry import read_only
from openscore.registry.metadata import decisions, inquiries
from reliability.harness import (
    SOURCES,
    Server,
    World,
    check_integrity,
    login,
    make_world,
    partner_and_subjects,
    trials,
)

pytestmark = pytest.mark.slow


@dataclass
class Stream:
    """What the client saw: the 2xx answers, and the one request that failed."""

    decisions: list[dict] = field(default_factory=list)
    #: (person, source) -> the state the last 2xx left
    consents: dict[tuple[str, str], bool] = field(default_factory=dict)
    failed: tuple[str, str, str, bool] | None = None  # (kind, person, source, wanted)
    sent: int = 0


def _stream(
    server: Server,
    key: str,
    grants: dict[str, str],
    known: dict,
    rng: random.Random,
    kill_at: float,
) -> Stream:
    out = Stream(consents=dict(known))
    subjects = {p: login(server.url, p) for p in grants}
    partner = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    # The clock starts at the first answer: on a busy machine a first rescore can take
    # longer than the earliest kill time, and a kill before any answer tests nothing.
    killer = threading.Timer(kill_at, server.kill)
    try:
        for _ in range(5_000):  # bounded: the kill comes long before
            if out.sent == 1:
                killer.start()
            person = rng.choice(list(grants))
            out.sent += 1
            if rng.random() < 0.6:
                try:
                    answer = partner.post(
                        "/v1/decisions",
                        json={
                            "grant_id": grants[person],
                            "person_id": person,
                            "product_id": "bike",
                            "purpose": "deposit_waiver",
                        },
                    )
                except httpx.TransportError:
                    out.failed = ("decision", person, "", True)
                    break
                assert answer.status_code == 201, answer.text
                out.decisions.append({"person": person, **answer.json()})
            else:
                source = rng.choice(SOURCES)
                wanted = not out.consents[(person, source)]
                try:
                    client = subjects[person]
                    answer = (
                        client.put(f"/v1/me/consents/{source}")
                        if wanted
                        else client.delete(f"/v1/me/consents/{source}")
                    )
                except httpx.TransportError:
                    out.failed = ("consent", person, source, wanted)
                    break
                assert answer.status_code == 200, answer.text
                out.consents[(person, source)] = wanted
    finally:
        killer.cancel()
        if killer.ident is not None:  # started
            killer.join()  # a kill under way is finished (the process reaped) before we go on
        for client in [*subjects.values(), partner]:
            client.close()
    return out


def _check_durable(world: World, server: Server, key: str, stream: Stream) -> None:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as partner:
        for made in stream.decisions:
            answer = partner.get(f"/v1/decisions/{made['decision_id']}")
            assert answer.status_code == 200, (made, answer.text)
            assert answer.json()["outcome"] == made["outcome"]
    with read_only(world.engine).connect() as conn:
        for made in stream.decisions:
            registry.get_inquiry(conn, made["person"], made["inquiry_id"])
        shared = registry.consent_map(conn, [p for p, _ in stream.consents])
        n_decisions = conn.execute(sa.select(sa.func.count()).select_from(decisions)).scalar()
        n_inquiries = conn.execute(sa.select(sa.func.count()).select_from(inquiries)).scalar()
    # every decision came with its inquiry (one transaction), 2xx or not
    assert n_decisions == n_inquiries
    for (person, source), last_ok in stream.consents.items():
        now = source in {s.value for s in shared.get(person, frozenset())}
        if stream.failed and stream.failed[1:3] == (person, source):
            assert now in (last_ok, stream.failed[3])
        else:
            assert now == last_ok, (person, source, last_ok)
        stream.consents[(person, source)] = now  # what the next round starts from


def _wait_for_recovery(world: World, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while pending_operations(world.ledger):
        assert time.monotonic() < deadline, pending_operations(world.ledger)
        time.sleep(0.2)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_sigkill_of_the_server_loses_no_answered_request(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = None
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_database")
    world = make_world(tmp_path, url=url, people=12, batches=2, events=600)
    key, grants, known = partner_and_subjects(world)
    server = Server(
        world,
        tmp_path / "server.log",
        OPENSCORE_API_RECOVERY_INTERVAL_SECONDS="0.2",
        OPENSCORE_API_RECOVERY_MIN_AGE_SECONDS="0",
    )
    rng = random.Random(7 if backend == "sqlite" else 8)
    consents = dict(known)
    answered = 0
    try:
        for _ in range(trials("api_kill", 2 if backend == "sqlite" else 1)):
            server.start()
            stream = _stream(server, key, grants, consents, rng, kill_at=rng.uniform(1.0, 5.0))
            assert server.proc is not None and server.proc.returncode is not None, "not killed"
            answered += len(stream.decisions)
            print(
                f"api kill ({backend}): {stream.sent} sent, {len(stream.decisions)} decisions "
                f"answered, in flight at the kill: {stream.failed}"
            )
            server.start()
            _check_durable(world, server, key, stream)
            _wait_for_recovery(world)
            check_integrity(world)
            consents = stream.consents
            server.kill()
        assert answered > 0
    finally:
        server.stop()
