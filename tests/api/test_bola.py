"""Broken object-level authorisation: every route that takes an object's id, called by
another principal with ids that are not theirs, answers 404 exactly as for an id that
does not exist — and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from openscore.registry import sequencer

from fixtures.api import ApiWorld, Principal

pytestmark = pytest.mark.usefixtures("cheap_passwords")

MISSING = "f" * 32

#: Subject routes that take an object id (method, path, body); ids are filled per owner.
SUBJECT_MATRIX: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/me/grants/{grant_id}", None),
    ("GET", "/v1/me/inquiries/{inquiry_id}", None),
    ("GET", "/v1/me/proofs/inquiries/{inquiry_id}", None),
    ("GET", "/v1/me/decisions/{decision_id}", None),
    ("POST", "/v1/me/decisions/{decision_id}/review", {"reason": "please look again"}),
    ("GET", "/v1/me/disputes/{dispute_id}", None),
    ("POST", "/v1/me/disputes", {"record_ref": "{record_ref}", "reason": "not mine"}),
    ("POST", "/v1/me/attestations/{attestation_id}/revoke", None),
    ("POST", "/v1/me/grants/{grant_id}/revoke", None),  # last: it changes the grant
]
#: Subject routes whose path parameter is vocabulary, not an object (``source``).
NOT_OBJECT_IDS = {"/v1/me/consents/{source}"}


def _fill(template: Any, ids: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**ids)
    if isinstance(template, dict):
        return {k: _fill(v, ids) for k, v in template.items()}
    return template


def _call(who: Principal, method: str, path: str, body: Any) -> Any:
    return who.client.request(method, path, json=body)


def _objects(world: ApiWorld, subject: Principal) -> dict[str, str]:
    """One of everything a subject owns: a grant to bikes, a decision and its inquiry
    (bikes asked), a ledger record, a dispute about another record, and an attestation."""
    grant = world.grant(subject, "bikes")
    decision = world.partner("bikes").post(
        "/v1/decisions",
        json={
            "grant_id": grant["id"],
            "person_id": subject.id,
            "product_id": "bike",
            "purpose": "deposit_waiver",
        },
    )
    assert decision.status_code == 201, decision.text
    records = subject.get("/v1/me/records").json()["items"]
    dispute = subject.post(
        "/v1/me/disputes", json={"record_ref": records[1]["record_ref"], "reason": "wrong"}
    )
    assert dispute.status_code == 201, dispute.text
    attestation = subject.post("/v1/me/attestations", json={"exact_score": True})
    assert attestation.status_code == 201, attestation.text
    return {
        "attestation_id": attestation.json()["id"],
        "grant_id": grant["id"],
        "decision_id": decision.json()["decision_id"],
        "inquiry_id": decision.json()["inquiry_id"],
        "record_ref": records[0]["record_ref"],
        "dispute_id": dispute.json()["id"],
    }


def test_every_object_route_is_in_the_matrix(api_world: ApiWorld) -> None:
    paths = api_world.client().get("/openapi.json").json()["paths"]
    routes = {
        (method.upper(), path)
        for path, operations in paths.items()
        if "{" in path and not path.startswith("/v1/operator/")  # operators see all
        for method in operations
    }
    assert len(routes) >= 10
    covered = {(m, p) for m, p, _ in SUBJECT_MATRIX} | {
        ("POST", "/v1/decisions"),
        ("GET", "/v1/decisions/{decision_id}"),
    }
    uncovered = {(m, p) for m, p in routes if (m, p) not in covered and p not in NOT_OBJECT_IDS}
    assert not uncovered, f"routes with object ids missing from the BOLA matrix: {uncovered}"


def test_subjects_cannot_reach_each_others_objects(api_world: ApiWorld) -> None:
    alice = api_world.subject(events=60, seed=1)
    bob = api_world.subject(events=60, seed=2)
    ids = _objects(api_world, alice)
    missing = {**ids, **{k: MISSING for k in ids if k != "record_ref"}, "record_ref": "x/y"}
    for method, path, body in SUBJECT_MATRIX:
        theirs = _call(bob, method, _fill(path, ids), _fill(body, ids))
        nothing = _call(bob, method, _fill(path, missing), _fill(body, missing))
        assert theirs.status_code == 404, (method, path, theirs.text)
        assert nothing.status_code == 404, (method, path, nothing.text)
        # the same answer as for an id that does not exist, but for the id itself
        assert theirs.json()["error"] == nothing.json()["error"] == "not_found"
        theirs_text, nothing_text = theirs.json()["message"], nothing.json()["message"]
        for key in ids:
            theirs_text = theirs_text.replace(ids[key], "<id>")
            nothing_text = nothing_text.replace(missing[key], "<id>")
        assert theirs_text == nothing_text, (path, theirs_text, nothing_text)
    # nothing Bob tried changed Alice's objects or gave Bob any
    assert alice.get(f"/v1/me/grants/{ids['grant_id']}").json()["active"] is True
    assert alice.get(f"/v1/me/decisions/{ids['decision_id']}").json()["review"] is None
    assert bob.get("/v1/me/disputes").json()["items"] == []
    # and Alice herself reaches every one of them (her inquiry's proof once it is integrated)
    with api_world.engine.begin() as conn:
        sequencer.integrate(conn)
    for method, path, body in SUBJECT_MATRIX:
        if path == "/v1/me/disputes":
            continue  # the first record is disputable by Alice, but that is another test
        response = _call(alice, method, _fill(path, ids), _fill(body, ids))
        assert response.status_code in (200, 201), (method, path, response.text)


def test_partners_cannot_use_each_others_grants_or_decisions(api_world: ApiWorld) -> None:
    lender = api_world.partner("lender")
    bikes = api_world.partner("bikes")
    alice = api_world.subject(events=60, seed=3)
    bob = api_world.subject(events=10, seed=4)
    ids = _objects(api_world, alice)
    ask = {
        "grant_id": ids["grant_id"],
        "person_id": alice.id,
        "product_id": "bike",
        "purpose": "deposit_waiver",
    }
    # another partner presenting Alice's grant to bikes
    assert lender.post("/v1/decisions", json=ask).status_code == 404
    # bikes presenting Alice's grant for Bob
    assert bikes.post("/v1/decisions", json={**ask, "person_id": bob.id}).status_code == 404
    # another partner reading bikes' decision
    assert lender.get(f"/v1/decisions/{ids['decision_id']}").status_code == 404
    assert bikes.get(f"/v1/decisions/{ids['decision_id']}").status_code == 200
    # another partner reporting fulfilment under bikes' grant
    report = {
        "kind": "rental",
        "report_id": "r-1",
        "person_id": alice.id,
        "grant_id": ids["grant_id"],
        "product": "bike",
        "deposit_waived": True,
        "started_at": "2025-08-01T10:00:00Z",
        "due_back": "2025-08-01T12:00:00Z",
        "returned_at": "2025-08-01T11:00:00Z",
        "outcome": "returned",
    }
    stolen = lender.post(
        "/v1/fulfilment", json={"reports": [report]}, headers={"Idempotency-Key": "k-1"}
    )
    assert stolen.status_code == 404
    # nothing was recorded for the refused calls: besides her own attestation's issue,
    # Alice sees only bikes' one inquiry
    inquiries = alice.get("/v1/me/inquiries").json()["items"]
    assert sorted(i["partner_id"] for i in inquiries) == ["bikes", "openscore-attestations"]
    assert not any(
        r["furnisher_id"] == "lender" for r in alice.get("/v1/me/records").json()["items"]
    )
