"""Fulfilment reports stay within the grant, and concurrent retries get the first answer
(issue 18, API findings 2 and 3)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from fixtures.api import ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _rental(person: str, grant: str, report_id: str, product: str = "bike") -> dict[str, Any]:
    return {
        "kind": "rental",
        "report_id": report_id,
        "person_id": person,
        "grant_id": grant,
        "product": product,
        "deposit_waived": True,
        "started_at": "2025-08-01T10:00:00Z",
        "due_back": "2025-08-01T12:00:00Z",
        "returned_at": None,
        "outcome": "lost",
    }


def _repayment(person: str, grant: str, report_id: str) -> dict[str, Any]:
    return {
        "kind": "repayment",
        "report_id": report_id,
        "person_id": person,
        "grant_id": grant,
        "account_id": "loan-1",
        "due_date": "2025-08-05",
        "amount_due": 50_000,
    }


def test_a_report_must_be_about_what_the_grant_covers(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    subject = api_world.subject()
    bike_only = api_world.grant(subject, "bikes", products=("bike",))["id"]
    cases = {
        "car": [_rental(subject.id, bike_only, "car-1", product="car")],
        "repayment": [_repayment(subject.id, bike_only, "loan-1")],
        # one report outside the grant refuses the whole request: nothing is stored
        "mixed": [
            _rental(subject.id, bike_only, "bike-1"),
            _rental(subject.id, bike_only, "car-2", product="car"),
        ],
    }
    messages = {}
    for name, reports in cases.items():
        response = partner.post(
            "/v1/fulfilment", json={"reports": reports}, headers={"Idempotency-Key": name}
        )
        assert response.status_code == 403, (name, response.text)
        messages[name] = response.json()["message"]
    assert messages["car"] == (
        f"reports[0]: grant {bike_only!r} does not cover product 'car' (it covers: bike); "
        "report only what it covers"
    )
    assert messages["repayment"].startswith(
        f"reports[0]: grant {bike_only!r} covers no credit product (it covers: bike)"
    )
    assert messages["mixed"].startswith("reports[1]: ")
    ids = set(api_world.state.ledger.read_person(subject.id).column("event_id").to_pylist())
    assert not ids & {"car-1", "loan-1", "bike-1", "car-2"}

    # under a grant that covers them, the same reports are stored
    covering = api_world.grant(subject, "bikes", products=("bike", "car", "personal_loan"))
    reports = [
        _rental(subject.id, covering["id"], "car-1", product="car"),
        _repayment(subject.id, covering["id"], "loan-1"),
    ]
    ok = partner.post(
        "/v1/fulfilment", json={"reports": reports}, headers={"Idempotency-Key": "covered"}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["accepted"] == 2


def test_concurrent_retries_all_get_the_first_answer(api_world: ApiWorld, live_server: str) -> None:
    partner = api_world.partner("bikes")
    subject = api_world.subject()
    grant = api_world.grant(subject, "bikes")["id"]
    body = {"reports": [_rental(subject.id, grant, f"r-{i}") for i in range(3)]}
    headers = {"Authorization": f"Bearer {partner.secret}", "Idempotency-Key": "same-key"}
    answers: list[httpx.Response] = []
    start = threading.Barrier(6)

    def send() -> None:
        with httpx.Client(base_url=live_server, timeout=60) as client:
            start.wait()
            answers.append(client.post("/v1/fulfilment", json=body, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["accepted"] == 3 and bodies[0]["duplicates"] == 0
    assert sorted(a.headers["idempotent-replayed"] for a in answers).count("false") >= 1
    rows = api_world.state.ledger.read_person(subject.id).column("event_id").to_pylist()
    assert sorted(r for r in rows if r.startswith("r-")) == ["r-0", "r-1", "r-2"]
    assert not list((api_world.settings.data_dir / "tmp").glob("ingest-*"))
