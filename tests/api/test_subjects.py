"""The subject's own routes, asserted on what is stored: the ledger's rows, the registry's
rows, the audit log."""

from __future__ import annotations

import hashlib

import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from openscore import registry
from openscore.registry import sequencer
from openscore.registry.metadata import audit_entries, metadata

from fixtures.api import PASSWORD, ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _ledger_sources(world: ApiWorld, person_id: str) -> set[str]:
    rows = world.state.ledger.read_person(person_id)
    return set(pc.unique(rows["source"]).to_pylist()) if rows.num_rows else set()


def test_score_is_published_on_first_read_and_explained(api_world: ApiWorld) -> None:
    subject = api_world.subject(events=60)
    first = subject.get("/v1/me/score")
    assert first.status_code == 200
    score = first.json()
    assert 350 <= score["score"] <= 950
    assert set(score["dimensions"]) == {
        "credit_history",
        "fulfilment_capacity",
        "behaviour",
        "identity",
        "relationships",
    }
    assert score["reasons"] and all(r["text"] and r["improve"] for r in score["reasons"])
    again = subject.get("/v1/me/score").json()
    assert again["id"] == score["id"]  # read, not republished
    assert [h["id"] for h in subject.get("/v1/me/history").json()["items"]] == [score["id"]]

    whatif = subject.post(
        "/v1/me/whatif",
        json={"overrides": {"identity_verified": 1}, "without_sources": ["social"]},
    )
    assert whatif.status_code == 200, whatif.text
    result = whatif.json()
    assert result["change"] == result["after"]["score"] - result["before"]["score"]
    assert result["change"] > 0 and "identity_verified" in result["contribution_changes"]
    assert subject.get("/v1/me/history").json()["items"][0]["id"] == score["id"]  # not stored


def test_revoking_a_source_purges_it_and_publishes_the_new_score(api_world: ApiWorld) -> None:
    subject = api_world.subject(events=80)
    before = subject.get("/v1/me/score").json()
    assert "credit" in _ledger_sources(api_world, subject.id)
    consents = {c["source"]: c for c in subject.get("/v1/me/consents").json()["items"]}
    assert set(consents) == {"wallet", "credit", "rentals", "profile", "social"}
    assert all(c["shared"] and c["description"] for c in consents.values())

    revoked = subject.delete("/v1/me/consents/credit")
    assert revoked.status_code == 200, revoked.text
    body = revoked.json()
    assert body["consent"]["shared"] is False
    assert body["score"]["id"] != before["id"] and body["seconds"] < 5
    assert "credit" not in _ledger_sources(api_world, subject.id)
    assert subject.get("/v1/me/score").json()["id"] == body["score"]["id"]
    assert subject.delete("/v1/me/consents/credit").status_code == 409  # nothing to revoke
    assert subject.delete("/v1/me/consents/public_records").status_code == 422
    # sharing again counts from now on; nothing comes back by itself
    assert subject.put("/v1/me/consents/credit").json()["shared"] is True
    assert "credit" not in _ledger_sources(api_world, subject.id)


def test_grants_inquiries_and_the_inclusion_proof(api_world: ApiWorld) -> None:
    subject = api_world.subject(events=40)
    partner = api_world.partner("bikes")
    grant = api_world.grant(subject, "bikes", scope="band")
    assert grant["active"] and grant["scope"] == "band" and grant["person_id"] == subject.id
    assert [g["id"] for g in subject.get("/v1/me/grants?active=true").json()["items"]] == [
        grant["id"]
    ]
    answer = partner.post(
        "/v1/decisions",
        json={
            "grant_id": grant["id"],
            "person_id": subject.id,
            "product_id": "bike",
            "purpose": "deposit_waiver",
        },
    ).json()
    inquiries = subject.get("/v1/me/inquiries?limit=1").json()
    assert inquiries["items"][0]["id"] == answer["inquiry_id"]
    assert inquiries["next_before"] is not None  # a full page: there may be more
    # queued for the audit log: a proof only once the sequencer has integrated it
    waiting = subject.get(f"/v1/me/proofs/inquiries/{answer['inquiry_id']}")
    assert waiting.status_code == 409 and "not yet integrated" in waiting.json()["message"]
    with api_world.engine.begin() as conn:
        sequencer.integrate(conn)
    proof = subject.get(f"/v1/me/proofs/inquiries/{answer['inquiry_id']}").json()
    assert proof["verified"] is True
    # check it by hand, with SHA-256 alone (RFC 9162 2.1.3.2)
    h = lambda b: hashlib.sha256(b).digest()  # noqa: E731
    leaf = h(b"\0" + proof["entry"].encode())
    assert leaf.hex() == proof["leaf_hash"]
    fn, sn, r = proof["seq"], proof["tree_size"] - 1, leaf
    for x in map(bytes.fromhex, proof["path"]):
        if fn & 1 or fn == sn:
            r = h(b"\1" + x + r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = h(b"\1" + r + x)
        fn, sn = fn >> 1, sn >> 1
    assert r.hex() == proof["root"]
    assert subject.id not in proof["entry"]  # the log never names the person

    revoked = subject.post(f"/v1/me/grants/{grant['id']}/revoke").json()
    assert revoked["active"] is False and revoked["revoked_at"]
    assert subject.get("/v1/me/grants?active=true").json()["items"] == []


def test_review_and_disputes_through_the_operators_queues(api_world: ApiWorld) -> None:
    subject = api_world.subject(events=80)
    operator = api_world.operator()
    grant = api_world.grant(subject, "bikes")
    decision = (
        api_world.partner("bikes")
        .post(
            "/v1/decisions",
            json={
                "grant_id": grant["id"],
                "person_id": subject.id,
                "product_id": "bike",
                "purpose": "deposit_waiver",
            },
        )
        .json()
    )
    review = subject.post(
        f"/v1/me/decisions/{decision['decision_id']}/review", json={"reason": "I repaid it"}
    )
    assert review.status_code == 201
    again = subject.post(
        f"/v1/me/decisions/{decision['decision_id']}/review", json={"reason": "again"}
    )
    assert again.status_code == 409
    queued = operator.get("/v1/operator/reviews").json()["items"]
    assert [q["id"] for q in queued] == [review.json()["id"]]
    closed = operator.post(
        f"/v1/operator/reviews/{queued[0]['id']}/close",
        json={"status": "overturned", "resolution": "repayment confirmed"},
    )
    assert closed.status_code == 200 and closed.json()["status"] == "overturned"
    mine = subject.get(f"/v1/me/decisions/{decision['decision_id']}").json()
    assert mine["review"]["status"] == "overturned"

    # disputes: one resolved (the record goes), one rejected (it stays)
    records = subject.get("/v1/me/records?limit=200").json()["items"]
    first, second = records[0]["record_ref"], records[1]["record_ref"]
    filed = subject.post("/v1/me/disputes", json={"record_ref": first, "reason": "not mine"})
    assert filed.status_code == 201
    # the record keeps counting until the dispute is answered: no rescore on filing
    assert filed.json()["exclude_while_open"] is False and filed.json()["score"] is None
    assert filed.json()["deadline"] > filed.json()["filed_at"]
    duplicate = subject.post("/v1/me/disputes", json={"record_ref": first, "reason": "again"})
    assert duplicate.status_code == 409
    other = subject.post("/v1/me/disputes", json={"record_ref": second, "reason": "wrong"})
    flagged = {
        r["record_ref"]: r["disputed"]
        for r in subject.get("/v1/me/records?limit=200").json()["items"]
    }
    assert flagged[first] and flagged[second]

    queue = operator.get("/v1/operator/disputes").json()["items"]
    assert {d["record_ref"] for d in queue} == {first, second}
    detail = operator.get(f"/v1/operator/disputes/{filed.json()['id']}").json()
    assert detail["record"]["record_ref"] == first
    # the operator's look at the record is an inquiry the person sees
    purposes = [i["purpose"] for i in subject.get("/v1/me/inquiries").json()["items"]]
    assert "dispute_investigation" in purposes

    resolved = operator.post(
        f"/v1/operator/disputes/{filed.json()['id']}/close",
        json={"status": "resolved", "resolution": "furnisher confirmed the error"},
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["records_removed"] == 1 and resolved.json()["status"] == "resolved"
    # the bikes partner decided about the person within 6 months: it gets a notice
    assert resolved.json()["partners_notified"] == 1
    rejected = operator.post(
        f"/v1/operator/disputes/{other.json()['id']}/close",
        json={"status": "rejected", "resolution": "the record is right"},
    )
    assert rejected.json()["records_removed"] == 0
    refs = {r["record_ref"] for r in subject.get("/v1/me/records?limit=200").json()["items"]}
    assert first not in refs and second in refs
    assert subject.get("/v1/me/score").json()["id"] == rejected.json()["score"]["id"]
    again = operator.post(
        f"/v1/operator/disputes/{other.json()['id']}/close",
        json={"status": "resolved", "resolution": "changed my mind"},
    )
    assert again.status_code == 409


def test_export_and_erasure(api_world: ApiWorld) -> None:
    subject = api_world.subject(events=60)
    api_world.grant(subject, "bikes")
    subject.get("/v1/me/score")
    export = subject.get("/v1/me/export")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    document = export.json()
    assert document["person_id"] == subject.id
    assert len(document["ledger"]) == api_world.state.ledger.read_person(subject.id).num_rows
    assert document["registry"]["grants"] and document["registry"]["consents"]
    assert document["score_history"] and set(document["features"]) >= {"utilisation"}
    assert "password" not in export.text.lower().replace("password_hash", "")

    wrong = subject.delete("/v1/me", json={"confirm": "erase my account", "password": "nope"})
    assert wrong.status_code == 403
    assert subject.get("/v1/me").status_code == 200  # nothing happened
    no_confirm = subject.delete("/v1/me", json={"confirm": "yes", "password": PASSWORD})
    assert no_confirm.status_code == 422 and no_confirm.json()["field"] == "confirm"

    erased = subject.delete("/v1/me", json={"confirm": "erase my account", "password": PASSWORD})
    assert erased.status_code == 200, erased.text
    assert erased.json()["ledger_rows_removed"] == len(document["ledger"])
    assert subject.get("/v1/me").status_code == 401  # the session died with the person
    assert api_world.state.ledger.read_person(subject.id).num_rows == 0
    with api_world.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if "person_id" in table.c:
                count = conn.execute(
                    sa.select(sa.func.count()).where(table.c.person_id == subject.id)
                ).scalar_one()
                assert count == 0, table.name
        assert not registry.person_exists(conn, subject.id)
        assert registry.audit.verify(conn).ok
        entries = conn.execute(sa.select(audit_entries.c.entry)).scalars().all()
        assert not any(subject.id.encode() in bytes(e) for e in entries)
