"""The PostgreSQL server stopped and started again under API load.

``openscore serve`` runs on a registry in a PostgreSQL cluster of the test's own (so
that no one else's server is restarted), while client threads send partner decisions,
subjects' reads and anonymous reads without pause. The server is stopped (``pg_ctl -m
fast``: open connections are terminated), left away for a while, and started again.
While it is away every answer is 503 with ``Retry-After`` — never a 500 — and once it is
back the API answers 2xx again by itself, without a restart. Nothing is half-applied:
every decision has its inquiry and the audit log verifies.

``OPENSCORE_PG_RESTART_TRIALS`` restarts (default 1, for CI).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from openscore.registry import read_only
from openscore.registry.metadata import decisions, inquiries
from reliability.harness import (
    PASSWORD,
    PrivatePostgres,
    Server,
    check_integrity,
    make_world,
    partner_and_subjects,
    trials,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_postgres_restart_is_503_with_retry_after_and_recovers(tmp_path: Path) -> None:
    pg = PrivatePostgres()
    try:
        pg.start()
        world = make_world(tmp_path, url=pg.create_database("openscore"), people=8, batches=1)
        key, grants, _ = partner_and_subjects(world, n_people=2)
        person = world.people[1]
        grant = grants[person]
        world.engine.dispose()
        server = Server(world, tmp_path / "server.log")
        server.start()
        subject = httpx.Client(base_url=server.url, timeout=30)
        login = subject.post(
            "/v1/login", json={"login": f"{person}@example.org", "password": PASSWORD}
        )
        assert login.status_code == 200
        cookie = "; ".join(f"{k}={v}" for k, v in subject.cookies.items())
        seen: list[tuple[float, str, int, str | None]] = []
        stop = threading.Event()

        def load(name: str, call) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    try:
                        answer = call(client)
                    except httpx.TransportError as exc:  # the API itself must stay up
                        seen.append((time.monotonic(), name, -1, type(exc).__name__))
                        continue
                    seen.append(
                        (
                            time.monotonic(),
                            name,
                            answer.status_code,
                            answer.headers.get("retry-after"),
                        )
                    )
                    time.sleep(0.01)

        decision = {
            "grant_id": grant,
            "person_id": person,
            "product_id": "bike",
            "purpose": "deposit_waiver",
        }
        threads = [
            threading.Thread(
                target=load,
                args=(
                    "decision",
                    lambda c: c.post(
                        "/v1/decisions", json=decision, headers={"Authorization": f"Bearer {key}"}
                    ),
                ),
            ),
            threading.Thread(
                target=load,
                args=("me", lambda c: c.get("/v1/me", headers={"Cookie": cookie})),
            ),
            threading.Thread(target=load, args=("partners", lambda c: c.get("/v1/partners"))),
        ]
        for t in threads:
            t.start()
        outages = []
        try:
            for _ in range(trials("pg_restart", 1)):
                time.sleep(2)
                down = time.monotonic()
                pg.stop("fast")
                time.sleep(3)
                pg.start()
                up = time.monotonic()
                outages.append((down, up))
                deadline = up + 30
                while time.monotonic() < deadline:  # back by itself, every kind of request
                    recent = [s for s in seen if s[0] > time.monotonic() - 1]
                    kinds = {name for _, name, status, _ in recent if status in (200, 201)}
                    if kinds == {"decision", "me", "partners"}:
                        break
                    time.sleep(0.2)
                else:
                    raise AssertionError(Counter(s[2] for s in seen if s[0] > up))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        statuses = Counter(status for _, _, status, _ in seen)
        print("pg restart: answers by status", dict(statuses))
        assert set(statuses) <= {200, 201, 503}, (statuses, server.log.read_text()[-4000:])
        unavailable = [s for s in seen if s[2] == 503]
        assert unavailable, "the outage was never seen"
        assert all(retry == "5" for _, _, _, retry in unavailable)
        for down, up in outages:  # while away: 503s only (bar requests already answered)
            during = [s for s in seen if down + 0.5 < s[0] < up - 0.1]
            assert during and all(s[2] == 503 for s in during), Counter(s[2] for s in during)
        server.stop()
        with read_only(world.engine).connect() as conn:
            n_decisions = conn.execute(sa.select(sa.func.count()).select_from(decisions)).scalar()
            n_inquiries = conn.execute(sa.select(sa.func.count()).select_from(inquiries)).scalar()
        assert n_decisions == n_inquiries == statuses[201]
        check_integrity(world)
        world.engine.dispose()
    finally:
        pg.remove()
