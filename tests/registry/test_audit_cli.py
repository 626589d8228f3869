"""``openscore audit verify`` and ``openscore audit proof`` on a real registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.config import get_settings
from openscore.registry.metadata import audit_entries

from fixtures.cli import run_cli as run
from fixtures.postgres import TEST_SECRET_KEY


@pytest.fixture()
def cli_env(engine: Engine, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("OPENSCORE_REGISTRY_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("OPENSCORE_SECRET_KEY", TEST_SECRET_KEY)
    get_settings.cache_clear()
    with engine.begin() as conn:
        person = registry.create_person(conn, actor="system")
        for source in ("wallet", "credit", "rentals"):
            registry.grant_consent(conn, person.id, source, actor="subject")
    return engine


def test_verify_passes_on_a_sound_log_and_names_the_first_bad_entry(
    cli_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(monkeypatch, capsys, "audit", "verify")
    assert result.code == 0, result.err
    out = result.out
    assert "audit log verifies" in out and "4 entries" in out and "MACs checked" in out

    with cli_env.begin() as conn:
        entry = conn.execute(
            sa.select(audit_entries.c.entry).where(audit_entries.c.seq == 2)
        ).scalar_one()
        conn.execute(
            audit_entries.update()
            .where(audit_entries.c.seq == 2)
            .values(entry=bytes(entry).replace(b"credit", b"crediT"))
        )
    code, _ = result = run(monkeypatch, capsys, "audit", "verify")
    err = result.err
    assert code == 6  # IntegrityError's exit code
    assert "audit entry 2" in err


def test_proof_prints_a_checked_inclusion_proof(
    cli_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(monkeypatch, capsys, "audit", "proof", "1")
    assert result.code == 0, result.err
    proof = json.loads(result.out)
    assert proof["seq"] == 1 and proof["tree_size"] == 4 and proof["verified"] is True
    assert registry.merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        1,
        4,
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(proof["root"]),
    )
    result = run(monkeypatch, capsys, "audit", "proof", "1", "--size", "2")
    assert result.code == 0 and json.loads(result.out)["tree_size"] == 2
    result = run(monkeypatch, capsys, "audit", "proof", "99")
    assert result.code == 4  # NotFound
    assert "audit entry 99 not found" in result.err


def test_verify_on_an_unmigrated_registry_says_so(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENSCORE_REGISTRY_URL", raising=False)
    get_settings.cache_clear()
    result = run(monkeypatch, capsys, "audit", "verify")
    assert result.code == 7  # StorageError
    assert "run the migrations" in result.err
