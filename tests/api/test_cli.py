"""The bootstrap commands and ``openscore serve``, run as a user runs them (subprocesses),
on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import Result
from typer.testing import CliRunner

from openscore.errors import Conflict, InputError, NotFound

OPENSCORE = [sys.executable, "-m", "openscore"]


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*OPENSCORE, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def _env(registry_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "OPENSCORE_DATA_DIR": str(data_dir),
        "OPENSCORE_REGISTRY_URL": registry_url,
        "OPENSCORE_SECRET_KEY": "cli-test-secret",
    }


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    """Run a command in-process (imports once; ``test_serve`` runs the real executable)."""
    from openscore.cli import app
    from openscore.config import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=env, input=stdin)
    finally:
        get_settings.cache_clear()


def test_bootstrap_commands(registry_url: str, tmp_path: Path) -> None:
    env = _env(registry_url, tmp_path / "data")
    assert _cli(env, "registry", "upgrade").exit_code == 0
    operator = _cli(env, "operators", "create", "Ops team", "--id", "ops", "--json")
    assert operator.exit_code == 0, operator.output
    key = json.loads(operator.stdout)
    assert key["id"] == "ops" and key["api_key"].startswith("osk_")
    partner = _cli(env, "partners", "create", "Bikes", "--id", "bikes")
    assert partner.exit_code == 0 and "osk_" in partner.stdout
    missing = _cli(env, "accounts", "create", "p-1", "--password-stdin", stdin="long enough pw\n")
    assert isinstance(missing.exception, NotFound)
    created = _cli(
        env, "accounts", "create", "P-1", "--create", "--password-stdin", stdin="long enough pw\n"
    )
    assert created.exit_code == 0, created.output
    assert isinstance(_cli(env, "accounts", "enrolment-code", "P-1").exception, Conflict)
    empty = _cli(env, "accounts", "create", "p-2", "--create", "--password-stdin", stdin="\n")
    assert isinstance(empty.exception, InputError)

    from openscore import registry

    engine = registry.create_registry_engine(registry_url, secret_key="cli-test-secret")
    try:
        with engine.begin() as conn:
            registry.create_person(conn, actor="system", person_id="p-3")
            assert registry.verify_password(conn, "p-1", "long enough pw") == "P-1"
            principal = registry.authenticate_api_key(conn, key["api_key"])
            assert principal is not None and principal.role == "operator"
    finally:
        engine.dispose()
    code = _cli(env, "accounts", "enrolment-code", "p-3")
    assert code.exit_code == 0 and len(code.stdout.strip()) > 20
    # the real executable maps errors to exit codes (NotFound: 4)
    assert _run(env, "accounts", "enrolment-code", "nobody").returncode == 4


def test_serve(registry_url: str, tmp_path: Path) -> None:
    env = _env(registry_url, tmp_path / "data")
    # several workers once: their config must survive being sent to each process, and
    # their shared socket must not delay answers (Nagle with delayed ACKs: ~40 ms each)
    workers = "2" if registry_url.startswith("sqlite") else "1"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [*OPENSCORE, "serve", "--port", str(port), "--workers", workers, "--log-level", "warning"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert health.status_code == 200
        assert "server" not in health.headers  # no Server header
        schema = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()
        assert all(path.startswith("/v1/") for path in schema["paths"])
        # the migrations ran first: the registry answers
        assert httpx.get(f"http://127.0.0.1:{port}/v1/partners").status_code == 200
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:  # keep-alive
            client.get("/v1/health")
            times = []
            for _ in range(15):
                started = time.perf_counter()
                client.get("/v1/health")
                times.append(time.perf_counter() - started)
        assert sorted(times)[len(times) // 2] < 0.03, times
    finally:
        server.terminate()
        server.wait(timeout=60)  # a graceful stop of two workers; slow on a busy machine


def test_the_log_config_reaches_every_worker() -> None:
    """uvicorn pickles its config for each worker process (``--workers 2``): no objects
    such as a stream may be in it, only names."""
    import pickle

    from openscore.api.logs import configure_logging

    config = configure_logging("info")
    assert pickle.loads(pickle.dumps(config)) == config
