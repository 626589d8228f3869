"""``POST /v1/fulfilment``: partners' reports become ledger events, once per key."""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc
import pytest

from fixtures.api import ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _rental(person: str, grant: str, report_id: str, **over: Any) -> dict[str, Any]:
    return {
        "kind": "rental",
        "report_id": report_id,
        "person_id": person,
        "grant_id": grant,
        "product": "bike",
        "deposit_waived": True,
        "started_at": "2025-08-01T10:00:00Z",
        "due_back": "2025-08-01T12:00:00Z",
        "returned_at": "2025-08-01T15:30:00Z",  # late
        "outcome": "returned",
        **over,
    }


def _repayment(person: str, grant: str, report_id: str) -> dict[str, Any]:
    return {
        "kind": "repayment",
        "report_id": report_id,
        "person_id": person,
        "grant_id": grant,
        "account_id": "loan-7",
        "due_date": "2025-08-05",
        "amount_due": 120,
        "paid_date": "2025-08-04",
        "amount_paid": 120.0,
    }


def test_reports_land_in_the_ledger_once(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    subject = api_world.subject()
    grant = api_world.grant(subject, "bikes")["id"]
    body = {
        "reports": [
            _rental(subject.id, grant, "rent-1"),
            _rental(subject.id, grant, "rent-2", returned_at=None, outcome="lost"),
            _repayment(subject.id, grant, "pay-1"),
        ]
    }
    first = partner.post("/v1/fulfilment", json=body, headers={"Idempotency-Key": "batch-1"})
    assert first.status_code == 201, first.text
    assert first.json()["accepted"] == 3 and first.json()["rejected"] == 0
    assert first.headers["idempotent-replayed"] == "false"
    rows = api_world.state.ledger.read_person(subject.id)
    by_id = {r["event_id"]: r for r in rows.to_pylist()}
    assert by_id["rent-1"]["furnisher_id"] == "bikes" and by_id["rent-1"]["source"] == "rentals"
    assert by_id["rent-1"]["returned_at"] > by_id["rent-1"]["due_back"]  # late
    assert by_id["rent-2"]["rental_outcome"] == "lost"
    assert by_id["pay-1"]["type"] == "repayment" and by_id["pay-1"]["source"] == "credit"

    replay = partner.post("/v1/fulfilment", json=body, headers={"Idempotency-Key": "batch-1"})
    assert replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    assert api_world.state.ledger.read_person(subject.id).num_rows == rows.num_rows

    other_body = {"reports": [_rental(subject.id, grant, "rent-3")]}
    reused = partner.post("/v1/fulfilment", json=other_body, headers={"Idempotency-Key": "batch-1"})
    assert reused.status_code == 409
    # the same events under a new key are duplicates in the ledger, not new rows
    again = partner.post("/v1/fulfilment", json=body, headers={"Idempotency-Key": "batch-2"})
    assert again.json()["duplicates"] == 3 and again.json()["accepted"] == 0
    assert api_world.state.ledger.read_person(subject.id).num_rows == rows.num_rows

    runs = api_world.operator().get("/v1/operator/ingestion-runs").json()["items"]
    assert {r["id"] for r in runs} >= {first.json()["run_id"], again.json()["run_id"]}
    assert all(r["furnisher_id"] == "bikes" for r in runs)


def test_consent_and_validation_reject_reports_by_index(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    sharing = api_world.subject()
    private = api_world.subject(sources=("wallet",))  # does not share rentals or credit
    g1 = api_world.grant(sharing, "bikes")["id"]
    g2 = api_world.grant(private, "bikes")["id"]
    body = {
        "reports": [
            _rental(sharing.id, g1, "ok-1"),
            _rental(private.id, g2, "no-consent-1"),
            _rental(sharing.id, g1, "backwards-1", due_back="2025-07-01T00:00:00Z"),
        ]
    }
    response = partner.post("/v1/fulfilment", json=body, headers={"Idempotency-Key": "mixed"})
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["accepted"] == 1 and result["rejected"] == 2
    by_index = {r["index"]: r for r in result["rejections"]}
    assert set(by_index) == {1, 2}
    assert "consent" in by_index[1]["reason"]
    assert api_world.state.ledger.read_person(private.id).num_rows == 0
    sources = pc.unique(api_world.state.ledger.read_person(sharing.id)["event_id"]).to_pylist()
    assert sources == ["ok-1"]


def test_reports_need_a_grant_of_this_partner(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    subject = api_world.subject()
    theirs = api_world.grant(subject, "cars", products=("car",))["id"]
    for grant in (theirs, "0" * 32):
        response = partner.post(
            "/v1/fulfilment",
            json={"reports": [_rental(subject.id, grant, "x-1")]},
            headers={"Idempotency-Key": f"k-{grant[:4]}"},
        )
        assert response.status_code == 404
        assert response.json()["message"].startswith("reports[0]")
    assert api_world.state.ledger.read_person(subject.id).num_rows == 0
