"""Consent fails closed, and erased people stay erased (principle 1, issue 18).

Ingestion has no default gate; ``openscore ingest`` without a registry stores only public
records unless the operator says ``--no-consent-check``; people on the erasure
suppression list are refused from files and from the API alike, and cannot be registered
again unless an operator lifts it.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.errors import Conflict, NotFound
from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger
from openscore.online import registry_consent_gate, registry_suppression_check

HEADER = (
    "event_id,type,person_id,source,occurred_at,channel,amount,currency,"
    "record_kind,legal_basis,expires_at,counterparty_id"
)


def payment(i: int, person: str) -> str:
    return f"w{i},payment,{person},wallet,2024-01-05T10:00:00Z,online,10,CNY,,,,"


def public_record(i: int, person: str) -> str:
    return (
        f"r{i},public_record,{person},public_records,2024-01-05T10:00:00Z,,100,,"
        "tax_arrears,Tax Act s.12,2030-01-01T00:00:00Z,"
    )


def relationship(i: int, person: str, other: str) -> str:
    return f"s{i},relationship,{person},social,2024-01-05T10:00:00Z,,,,,,,{other}"


def events_file(tmp_path: Path, *lines: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def report(path: str | None) -> list[dict]:
    if not path:
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openscore", "--data-dir", str(data_dir), "ingest", *args],
        capture_output=True,
        text=True,
    )


def test_an_ingester_has_no_default_gate(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="consent_gate"):
        Ingester(Ledger(tmp_path / "ledger"))  # type: ignore[call-arg]


def test_without_a_registry_only_public_records_are_stored(data_dir: Path, tmp_path: Path) -> None:
    path = events_file(tmp_path, payment(1, "p1"), payment(2, "p2"), public_record(1, "p1"))
    run = cli(data_dir, str(path), "--furnisher", "fx", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["accepted"], summary["no_consent"], summary["rejected"]) == (1, 2, 2)
    assert summary["consent_checked"] is True
    assert "Traceback" not in run.stderr
    rows = report(summary["report_path"])
    assert [(r["line"], r["field"], r["reason"]) for r in rows] == [
        ("2", "source", "the person has not consented to this source: not stored"),
        ("3", "source", "the person has not consented to this source: not stored"),
    ]
    ledger = Ledger(data_dir / "ledger")
    assert ledger.read_person("p2").num_rows == 0
    assert ledger.read_person("p1").column("event_id").to_pylist() == ["r1"]

    only_personal = events_file(tmp_path, payment(3, "p3"), name="personal.csv")
    refused = cli(data_dir, str(only_personal), "--furnisher", "fx", "--json")
    assert refused.returncode == 1  # nothing stored: the run failed
    assert json.loads(refused.stdout)["no_consent"] == 1


def test_no_consent_check_is_explicit_logged_and_recorded(data_dir: Path, tmp_path: Path) -> None:
    path = events_file(tmp_path, payment(1, "p1"), payment(2, "p2"))
    run = cli(data_dir, str(path), "--furnisher", "taiwan", "--no-consent-check", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["accepted"], summary["no_consent"]) == (2, 0)
    assert summary["consent_checked"] is False
    assert "consent is NOT checked" in run.stderr
    recorded = json.loads((data_dir / "runs" / summary["run_id"] / "summary.json").read_text())
    assert recorded["consent_checked"] is False


def _ingester(engine: Engine, data_dir: Path) -> Ingester:
    return Ingester(
        Ledger(data_dir / "ledger"),
        consent_gate=registry_consent_gate(engine),
        suppressed=registry_suppression_check(engine),
    )


def test_the_registry_gate_stores_only_consented_sources(
    registry_engine: Engine, tmp_path: Path
) -> None:
    with registry_engine.begin() as conn:
        registry.create_person(conn, actor="system", person_id="alice")
        registry.grant_consent(conn, "alice", "wallet", actor="subject")
    path = events_file(
        tmp_path,
        payment(1, "alice"),
        relationship(1, "alice", "bob"),  # social: not shared
        payment(2, "stranger"),  # unknown to the registry: consented to nothing
        public_record(1, "stranger"),  # a legal basis: stored
    )
    result = _ingester(registry_engine, tmp_path / "data").run([path], "fx")
    assert (result.accepted, result.no_consent, result.erased) == (2, 2, 0)


def test_erased_people_stay_erased(registry_engine: Engine, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with registry_engine.begin() as conn:
        for person in ("alice", "bob"):
            registry.create_person(conn, actor="system", person_id=person)
            registry.grant_consent(conn, person, "social", actor="subject")
            registry.grant_consent(conn, person, "wallet", actor="subject")
        registry.erase_person(conn, "alice", actor="subject")

    # nothing that names her is kept on the list: only a keyed hash
    with registry_engine.connect() as conn:
        hashes = conn.execute(sa.text("SELECT id_hash FROM erased_people")).scalars().all()
        assert len(hashes) == 1 and "alice" not in hashes[0] and len(hashes[0]) == 64
        assert registry.is_suppressed(conn, "alice")
        assert not registry.is_suppressed(conn, "bob")

    path = events_file(
        tmp_path,
        public_record(1, "alice"),  # a public record would otherwise bring her back
        relationship(1, "bob", "alice"),  # so would being someone's counterparty
        payment(1, "bob"),
    )
    result = _ingester(registry_engine, data).run([path], "court")
    assert (result.accepted, result.erased, result.rejected) == (1, 2, 2)
    rows = report(result.report_path)
    assert [(r["line"], r["field"], r["value"], r["reason"]) for r in rows] == [
        ("2", "person_id", "", "the person was erased (suppression list): not stored"),
        ("3", "counterparty_id", "", "the counterparty was erased (suppression list): not stored"),
    ]
    assert "alice" not in Path(result.report_path).read_text()
    # with consent not checked (a public dataset), erased people are still refused
    unchecked = Ingester(
        Ledger(data / "ledger"),
        consent_gate=no_consent_check,
        suppressed=registry_suppression_check(registry_engine),
    ).run([events_file(tmp_path, payment(9, "alice"), name="pub.csv")], "taiwan")
    assert (unchecked.accepted, unchecked.erased) == (0, 1)

    # registering her again is refused, unless an operator lifts the erasure on purpose
    with registry_engine.begin() as conn, pytest.raises(Conflict, match="was erased"):
        registry.create_person(conn, actor="operator:ops", person_id="alice")
    with registry_engine.begin() as conn:
        with pytest.raises(NotFound):
            registry.lift_suppression(conn, "bob", actor="operator:ops")
        registry.create_person(conn, actor="operator:ops", person_id="alice", lift_erasure=True)
        assert not registry.is_suppressed(conn, "alice")
        size = registry.audit.tree_size(conn)
        actions = [e.content["action"] for e in registry.audit.list_entries(conn, start=size - 2)]
    assert actions == ["person.suppression_lifted", "person.created"]
    again = _ingester(registry_engine, data).run(
        [events_file(tmp_path, public_record(2, "alice"), name="again.csv")], "court"
    )
    assert (again.accepted, again.erased) == (1, 0)
