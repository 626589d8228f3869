"""A real ``openscore serve`` on 127.0.0.1 for the client's tests (a subprocess over a
fresh data directory: SQLite registry, the expert scorecard in service, one partner with
a key, one person with a login, webhooks allowed to 127.0.0.1)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

# the server under test is a development one (as in tests/conftest.py)
os.environ.setdefault("OPENSCORE_ENVIRONMENT", "development")

PASSWORD = "correct horse battery staple"
SECRET = "client-tests-secret-key-0123456789"


@dataclass
class Server:
    url: str
    partner_key: str
    partner_id: str
    person_id: str
    login: str
    password: str


def _give_a_file(data: Path, settings: object, engine: object) -> None:
    """Sixty events for client-p1 (the server's own test-data maker), so that there is
    enough data to score them: a person with nothing on file has no score to prove."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from openscore.ingest import Ingester
    from openscore.ledger import Ledger
    from openscore.online import registry_consent_gate, registry_suppression_check

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests"))
    from fixtures.data import make_events, write_events

    table = make_events(60, seed=1, people=1, prefix="client-p1-e")
    table = table.set_column(
        table.schema.get_field_index("person_id"),
        "person_id",
        pa.array(["client-p1"] * table.num_rows),
    )
    table = table.filter(pc.not_equal(table["type"], "relationship"))
    path = write_events(table, data.parent / "client-p1.jsonl")
    Ingester(
        Ledger.open(settings),
        consent_gate=registry_consent_gate(engine),
        suppressed=registry_suppression_check(engine),
        settings=settings,
    ).run([path], "furnisher-a")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from argon2 import PasswordHasher

    from openscore import registry
    from openscore.config import Settings
    from openscore.features.expert import expert_scorecard
    from openscore.online import install_model
    from openscore.registry import credentials

    root = tmp_path_factory.mktemp("serve")
    data = root / "data"
    data.mkdir()
    settings = Settings(data_dir=data, secret_key=SECRET, environment="development")
    install_model(expert_scorecard().save(root / "expert.json"), settings)
    engine = registry.create_registry_engine(settings.resolved_registry_url, secret_key=SECRET)
    registry.upgrade(engine)
    credentials._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with engine.begin() as conn:
        registry.create_partner(conn, name="Bikes", actor="system", partner_id="bikes")
        key = registry.create_api_key(conn, "bikes", label="t", actor="system").secret
        registry.create_person(conn, actor="system", person_id="client-p1")
        for source in ("wallet", "credit", "rentals"):
            registry.grant_consent(conn, "client-p1", source, actor="subject")
        registry.set_credentials(
            conn, "client-p1", login="p1@example.org", password=PASSWORD, actor="system"
        )
    _give_a_file(data, settings, engine)
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "OPENSCORE_DATA_DIR": str(data),
        "OPENSCORE_SECRET_KEY": SECRET,
        "OPENSCORE_API_WEBHOOK_ALLOW_NETWORKS": "127.0.0.1/32",
        "OPENSCORE_API_WEBHOOK_INTERVAL_SECONDS": "0.2",
        # a shared, busy machine: let requests queue instead of being shed with 503s
        "OPENSCORE_API_QUEUE_TIMEOUT_SECONDS": "10",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "openscore", "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(root / "serve.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # a busy shared machine starts it slowly
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                raise RuntimeError((root / "serve.log").read_text())
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "openscore serve did not start: " + (root / "serve.log").read_text()
                )
            time.sleep(0.2)
        yield Server(url, key, "bikes", "client-p1", "p1@example.org", PASSWORD)
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture()
def here() -> Path:
    return Path(__file__).parent
