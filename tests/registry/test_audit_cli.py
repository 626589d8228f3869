"""``openscore audit verify`` and ``openscore audit proof`` on a real registry."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.cli import main
from openscore.config import get_settings
from openscore.registry.metadata import audit_entries

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


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["openscore", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_verify_passes_on_a_sound_log_and_names_the_first_bad_entry(
    cli_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "audit", "verify") == 0
    out = capsys.readouterr().out
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
    code = run(monkeypatch, "audit", "verify")
    err = capsys.readouterr().err
    assert code == 6  # IntegrityError's exit code
    assert "audit entry 2" in err


def test_proof_prints_a_checked_inclusion_proof(
    cli_env: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(monkeypatch, "audit", "proof", "1") == 0
    proof = json.loads(capsys.readouterr().out)
    assert proof["seq"] == 1 and proof["tree_size"] == 4 and proof["verified"] is True
    assert registry.merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        1,
        4,
        [bytes.fromhex(p) for p in proof["path"]],
        bytes.fromhex(proof["root"]),
    )
    assert run(monkeypatch, "audit", "proof", "1", "--size", "2") == 0
    assert json.loads(capsys.readouterr().out)["tree_size"] == 2
    assert run(monkeypatch, "audit", "proof", "99") == 4  # NotFound
    assert "audit entry 99 not found" in capsys.readouterr().err


def test_verify_on_an_unmigrated_registry_says_so(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENSCORE_REGISTRY_URL", raising=False)
    get_settings.cache_clear()
    assert run(monkeypatch, "audit", "verify") == 7  # StorageError
    assert "run the migrations" in capsys.readouterr().err


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
    assert run(monkeypatch, "audit", "verify-receipt", str(answer)) == 3
    out = capsys.readouterr().out
    assert out.count("queued: receipt") == 2 and "not yet integrated" in out

    assert run(monkeypatch, "audit", "verify") == 0
    assert "2 queued entries not yet integrated" in capsys.readouterr().out
    assert run(monkeypatch, "audit", "sequence") == 0
    assert "integrated 2 entries" in capsys.readouterr().out
    assert run(monkeypatch, "audit", "verify-receipt", str(answer)) == 0
    out = capsys.readouterr().out
    assert out.count("integrated as entry") == 2 and "verifies" in out

    tampered = tmp_path / "tampered.json"
    tampered.write_text(
        json.dumps({**receipts[0].to_json(), "queued_at": "2020-01-01T00:00:00.000000Z"})
    )
    assert run(monkeypatch, "audit", "verify-receipt", str(tampered)) == 1
    assert "MAC does not verify" in capsys.readouterr().out

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**receipts[0].to_json(), "entry_hash": "zz"}))
    assert run(monkeypatch, "audit", "verify-receipt", str(broken)) != 0
    assert "entry_hash" in capsys.readouterr().err
