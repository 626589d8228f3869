"""Score semantics over HTTP (issue 13): an unscorable person gets no number from the API
and the products' declared treatment from partners; weights come from the model file; a
dispute changes nothing until it is resolved, and a resolution notifies the partners."""

from __future__ import annotations

from typing import Any

import pytest

from openscore import online, registry
from openscore.registry import webhooks
from openscore.scoring.weights import dimension_weights

from fixtures.api import ApiWorld, Principal


def _ask(partner: Principal, grant: dict[str, Any], product: str):
    return partner.post(
        "/v1/decisions",
        json={
            "grant_id": grant["id"],
            "person_id": grant["person_id"],
            "product_id": product,
            "purpose": grant["purpose"],
        },
    )


def test_a_new_account_has_no_number_anywhere_and_gets_the_products_treatment(
    api_world: ApiWorld,
) -> None:
    subject = api_world.subject()  # registered, shares everything, nothing on file
    me = subject.get("/v1/me/score")
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["status"] == "unscorable"
    assert body["score"] is None and body["band"] is None
    assert set(body["dimensions"].values()) == {None}
    assert body["reasons"] == [] and body["helps"] == []
    assert "credit account" in body["scorable_when"]
    history = subject.get("/v1/me/history").json()["items"]
    assert all(item["score"] is None for item in history)

    grant = api_world.grant(subject, "lender", products=("personal_loan", "bike"), scope="score")
    loan = _ask(api_world.partner("lender"), grant, "personal_loan")
    assert loan.status_code == 201, loan.text
    answer = loan.json()
    assert answer["outcome"] == "decline" and answer["approved"] is False
    assert answer["scorable"] is False and answer["score"] is None
    assert [r["code"] for r in answer["reasons"]] == ["not_enough_data"]
    assert answer["credit_line"] is None and answer["apr"] is None
    bike = _ask(api_world.partner("lender"), grant, "bike").json()
    assert bike["outcome"] == "decline" and bike["deposit_due"] == 50
    assert bike["reasons"][-1]["code"] == "not_enough_data"

    products = api_world.client().get("/v1/products").json()["items"]
    assert all(p["unscorable"]["treatment"] for p in products)


def test_weights_shown_are_the_weights_of_the_model_file(api_world: ApiWorld) -> None:
    card = online.current_model(api_world.settings)
    body = api_world.client().get("/v1/model/weights").json()
    assert body["model_id"] == card.model_id
    shown = {d["dimension"]: d["weight"] for d in body["dimensions"]}
    assert shown == pytest.approx(dimension_weights(card))
    for d in body["dimensions"]:
        assert (d["note"] is None) == (d["weight"] > 0)
    page = api_world.client().get("/how-it-works").text
    for dim, weight in dimension_weights(card).items():
        row = page[page.index(f'data-dimension="{dim}"') :]
        cell = row[row.index('class="num model-weight">') :][:60]
        assert f"{weight * 100:.0f} %" in cell, (dim, cell)


def test_a_dispute_changes_nothing_until_resolved_then_partners_are_told(
    api_world: ApiWorld,
) -> None:
    subject = api_world.subject(events=80)
    before = subject.get("/v1/me/score").json()
    grant = api_world.grant(subject, "bikes")
    first = _ask(api_world.partner("bikes"), grant, "bike").json()
    assert first["open_dispute"] is False

    records = subject.get("/v1/me/records?limit=200").json()["items"]
    ref = records[0]["record_ref"]
    filed = subject.post("/v1/me/disputes", json={"record_ref": ref, "reason": "not mine"})
    assert filed.status_code == 201 and filed.json()["score"] is None
    during = subject.get("/v1/me/score").json()
    assert (during["id"], during["score"]) == (before["id"], before["score"])
    flagged = {
        r["record_ref"]: r["disputed"]
        for r in subject.get("/v1/me/records?limit=200").json()["items"]
    }
    assert flagged[ref] is True

    second = _ask(api_world.partner("bikes"), grant, "bike").json()
    assert second["outcome"] == first["outcome"]
    assert second["open_dispute"] is True and second["human_review_offered"] is True

    with api_world.engine.begin() as conn:  # bikes listens for events
        webhooks.set_endpoint(conn, "bikes", "https://bikes.example/openscore-events")
    operator = api_world.operator()
    resolved = operator.post(
        f"/v1/operator/disputes/{filed.json()['id']}/close",
        json={"status": "resolved", "resolution": "the furnisher confirmed the error"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["partners_notified"] == 1
    after = subject.get("/v1/me/score").json()
    assert after["id"] != before["id"]  # recomputed at once
    with api_world.engine.connect() as conn:
        notices = registry.list_correction_notices(conn, subject.id)
        undelivered = registry.partner_notices(conn, "bikes")
    assert {n.decision_id for n in notices} == {first["decision_id"], second["decision_id"]}
    assert {n.partner_id for n in notices} == {"bikes"}
    assert all(n.body["outcome_then"] in ("approve", "decline") for n in notices)
    assert all("outcome_now" in n.body and "score" not in n.body for n in notices)
    assert {n.id for n in undelivered} == {n.id for n in notices}
    # and each correction is pushed to bikes' endpoint (the outbox, delivered at least once)
    with api_world.engine.connect() as conn:
        pushed = webhooks.list_deliveries(conn, "bikes")
    corrected = [d for d in pushed if d.event_type == "decision.data_corrected"]
    assert {d.payload["decision_id"] for d in corrected} == {
        first["decision_id"],
        second["decision_id"],
    }
