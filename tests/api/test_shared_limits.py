"""Rate limits hold across workers: two apps (two processes' worth of state) over one
registry count log-in failures and partner decisions together in the machine's Redis."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from openscore.api import ApiSettings
from openscore.server import create_app

from fixtures.api import build_world

REDIS = "redis://127.0.0.1:6379/0"


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True)
def _redis() -> None:
    # Machines of this project (and CI) run Redis on 127.0.0.1:6379: missing is a failure.
    assert _redis_answers(), "no Redis answers at 127.0.0.1:6379 (it is part of the stack)"


def test_login_failures_are_counted_across_workers(
    registry_engine: Engine, tmp_path: Path, cheap_passwords: None
) -> None:
    world = build_world(registry_engine, tmp_path / "data", redis_url=REDIS)
    world.subject(login="victim@example.org")
    # a second worker: its own app state, the same registry and Redis
    other = create_app(world.state.settings, ApiSettings(redis_url=REDIS), engine=world.engine)
    clients = [TestClient(world.app), TestClient(other)]
    for i in range(5):  # five failures for one login, spread over both workers
        wrong = {"login": "victim@example.org", "password": "guess"}
        assert clients[i % 2].post("/v1/login", json=wrong).status_code == 401
    for client in clients:
        locked = client.post("/v1/login", json={"login": "victim@example.org", "password": "x"})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # a per-process count (no Redis) would have let the second worker's try through
    alone = build_world(registry_engine, tmp_path / "alone")
    assert (
        TestClient(alone.app)
        .post("/v1/login", json={"login": "victim@example.org", "password": "guess"})
        .status_code
        == 401
    )


def test_attestation_checks_are_counted_across_workers(
    registry_engine: Engine, tmp_path: Path
) -> None:
    limits = {"attestation_verifications_per_ip": 2, "attestation_verify_window_seconds": 60}
    world = build_world(registry_engine, tmp_path / "data", redis_url=REDIS, **limits)
    other = create_app(
        world.state.settings, ApiSettings(redis_url=REDIS, **limits), engine=world.engine
    )
    address = ("198.51.100.9", 1000)
    clients = [TestClient(app, client=address) for app in (world.app, other)]
    for client in clients:  # one check on each worker: the limit of two is used up
        assert client.post("/v1/attestations/verify", json={"token": "x"}).status_code == 200
    for client in clients:
        over = client.post("/v1/attestations/verify", json={"token": "x"})
        assert over.status_code == 429 and int(over.headers["retry-after"]) > 0
