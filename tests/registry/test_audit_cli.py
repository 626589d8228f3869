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


def test_verify_receipt_says_queued_integrated_or_mismatch(
    cli_env: Engine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from openscore.registry import audit, sequencer

    with cli_env.begin() as conn:
        person = registry.create_person(conn, actor="system").id
        receipts = sequencer.append_queued(
            conn,
            [audit.PendingEntry(action="inquiry.recorded", actor="system", person_id=person)] * 2,
        )
    answer = tmp_path / "answer.json"  # a decision's answer holds its receipts
    answer.write_text(json.dumps({"decision_id": "d", "receipts": [r.to_json() for r in receipts]}))
    result = run(monkeypatch, capsys, "audit", "verify-receipt", str(answer))
    assert result.code == 3
    assert result.out.count("queued: receipt") == 2 and "not yet integrated" in result.out

    result = run(monkeypatch, capsys, "audit", "verify")
    assert result.code == 0 and "2 queued entries not yet integrated" in result.out
    result = run(monkeypatch, capsys, "audit", "sequence")
    assert result.code == 0 and "integrated 2 entries" in result.out
    result = run(monkeypatch, capsys, "audit", "verify-receipt", str(answer))
    assert result.code == 0
    assert result.out.count("integrated as entry") == 2 and "verifies" in result.out

    tampered = tmp_path / "tampered.json"
    tampered.write_text(
        json.dumps({**receipts[0].to_json(), "queued_at": "2020-01-01T00:00:00.000000Z"})
    )
    result = run(monkeypatch, capsys, "audit", "verify-receipt", str(tampered))
    assert result.code == 1 and "MAC does not verify" in result.out

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**receipts[0].to_json(), "entry_hash": "zz"}))
    result = run(monkeypatch, capsys, "audit", "verify-receipt", str(broken))
    assert result.code != 0 and "entry_hash" in result.err
