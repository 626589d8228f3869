"""``POST /v1/decisions``: the answer, its minimisation to the grant's scope, the records
it leaves (decision, inquiry, audit entries), and every refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openscore import registry
from openscore.errors import Conflict
from openscore.registry import sequencer

from fixtures.api import ApiWorld, Principal
from fixtures.postgres import TEST_SECRET_KEY

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _publish(world: ApiWorld, person_id: str, score: int) -> None:
    """Put a chosen score on record (decisions answer from the published score)."""
    with world.engine.begin() as conn:
        registry.publish_score(
            conn,
            registry.ScoreToPublish(
                person_id=person_id,
                score=score,
                dimensions={"credit_history": 60},
                reasons=[
                    {"code": "utilisation", "text": "High utilisation", "improve": "Pay down"}
                ],
                model_id="test-model",
                as_of=datetime(2025, 9, 1, tzinfo=UTC),
            ),
            actor="system",
        )


def _ask(partner: Principal, grant: dict[str, Any], product: str = "bike", **over: Any):
    body = {
        "grant_id": grant["id"],
        "person_id": grant["person_id"],
        "product_id": product,
        "purpose": grant["purpose"],
        **over,
    }
    return partner.post("/v1/decisions", json=body)


def _audit_size(world: ApiWorld) -> int:
    """The log's size once every queued entry (decisions' receipts) is integrated."""
    with world.engine.begin() as conn:
        sequencer.integrate(conn)
        return registry.audit.tree_size(conn)


def test_answers_are_minimised_to_the_grant_scope(api_world: ApiWorld) -> None:
    partner = api_world.partner("lender")
    subject = api_world.subject()
    _publish(api_world, subject.id, 712)
    answers = {}
    for scope in ("decision", "band", "score"):
        grant = api_world.grant(subject, "lender", scope=scope)
        response = _ask(partner, grant, "personal_loan")
        assert response.status_code == 201, response.text
        answers[scope] = response.json()
    loan = answers["decision"]
    assert loan["outcome"] == "approve" and loan["approved"] is True
    assert loan["credit_line"] == 6000 and loan["apr"] == 0.089 and loan["rate_band"] == "excellent"
    assert loan["band"] is None and loan["score"] is None and loan["score_reasons"] is None
    # (ids and receipts are random hex, which may spell 712 by chance)
    hexes = ("decision_id", "inquiry_id", "receipts")
    assert "712" not in str({k: v for k, v in loan.items() if k not in hexes})
    assert answers["band"]["band"] == "excellent" and answers["band"]["score"] is None
    assert answers["score"]["score"] == 712 and answers["score"]["dimensions"]
    # what the partner got is exactly what the person sees it got
    seen = {i["grant_id"]: i["returned"] for i in subject.get("/v1/me/inquiries").json()["items"]}
    for answer in answers.values():
        inquiry = next(
            i
            for i in subject.get("/v1/me/inquiries").json()["items"]
            if i["id"] == answer["inquiry_id"]
        )
        returned = inquiry["returned"]
        assert returned["decision_id"] == answer["decision_id"]
        assert returned.get("score") == answer["score"] and returned.get("band") == answer["band"]
    assert len(seen) == 3


def test_a_decline_gives_reasons_without_leaking_the_score(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    subject = api_world.subject()
    _publish(api_world, subject.id, 571)
    grant = api_world.grant(subject, "bikes")
    before = _audit_size(api_world)
    response = _ask(partner, grant, "bike")
    assert response.status_code == 201
    answer = response.json()
    assert answer["outcome"] == "decline" and answer["deposit_due"] == 50
    assert answer["deposit_waived"] == 0
    codes = [r["code"] for r in answer["reasons"]]
    assert codes == ["score_below_threshold", "utilisation"]
    # (ids and receipts are random hex, which may spell 571 by chance)
    plain = {k: v for k, v in answer.items() if k not in ("decision_id", "inquiry_id", "receipts")}
    assert "571" not in json.dumps(plain) and "600" in answer["reasons"][0]["text"]
    # recorded: a decision and an inquiry, each with its audit entry, in one transaction
    assert _audit_size(api_world) == before + 2
    mine = subject.get(f"/v1/me/decisions/{answer['decision_id']}").json()
    assert mine["score"] == 571 and mine["band"] == "fair" and mine["outcome"] == "decline"
    assert "571" in mine["reasons"][0]["text"]  # the person may see their own score
    assert partner.get(f"/v1/decisions/{answer['decision_id']}").json()["outcome"] == "decline"
    with api_world.engine.connect() as conn:
        assert registry.audit.verify(conn).ok


def test_the_decision_and_its_inquiry_are_on_the_record_and_in_the_log(
    api_world: ApiWorld,
) -> None:
    """The two rows and the two audit entries one decision leaves (written in one batch):
    each entry names the person and its ids (as HMACs), the inquiry holds exactly what
    the partner got, and the person can prove the inquiry is in the log."""
    partner = api_world.partner("lender")
    subject = api_world.subject()
    _publish(api_world, subject.id, 712)
    grant = api_world.grant(subject, "lender", scope="band")
    before = _audit_size(api_world)
    response = _ask(partner, grant, "personal_loan")
    assert response.status_code == 201
    answer = response.json()
    receipts = [sequencer.Receipt.from_json(r) for r in answer["receipts"]]
    with api_world.engine.begin() as conn:
        # answered at once with receipts; the entries wait for the sequencer
        assert registry.audit.tree_size(conn) == before
        assert [sequencer.check_receipt(conn, r).status for r in receipts] == ["queued"] * 2
        with pytest.raises(Conflict, match="not yet integrated"):
            registry.inquiry_proof(conn, subject.id, answer["inquiry_id"])
        assert sequencer.integrate(conn).integrated == 2
    with api_world.engine.connect() as conn:
        decision = registry.get_decision(conn, subject.id, answer["decision_id"])
        inquiry = registry.get_inquiry(conn, subject.id, answer["inquiry_id"])
        assert (decision.audit_seq, inquiry.audit_seq) == (before, before + 1)
        checks = [sequencer.check_receipt(conn, r) for r in receipts]
        assert [(c.status, c.seq) for c in checks] == [
            ("integrated", before),
            ("integrated", before + 1),
        ]
        assert registry.audit.tree_size(conn) == before + 2
        entries = [registry.audit.get_entry(conn, s) for s in (before, before + 1)]
        assert [e.action for e in entries] == ["decision.recorded", "inquiry.recorded"]
        assert [e.content["actor"] for e in entries] == ["partner:lender"] * 2
        assert entries[0].content["details"] == {
            "partner": "lender",
            "product": "personal_loan",
            "outcome": "approve",
        }
        assert entries[1].content["details"] == {"partner": "lender", "purpose": grant["purpose"]}
        matches = registry.audit.linked_value_matches
        assert all(registry.audit.concerns(conn, subject.id, e) for e in entries)
        assert matches(conn, subject.id, entries[0], "decision", decision.id)
        assert matches(conn, subject.id, entries[1], "inquiry", inquiry.id)
        for entry in entries:
            assert matches(conn, subject.id, entry, "grant", grant["id"])
        returned = registry.audit.canonical_json(inquiry.returned).decode("ascii")
        assert matches(conn, subject.id, entries[1], "returned", returned)
        assert subject.id.encode() not in entries[0].entry + entries[1].entry
        key = registry.derive_audit_key(TEST_SECRET_KEY)
        assert registry.inquiry_proof(conn, subject.id, inquiry.id).verify(key)
        assert registry.audit.verify(conn).ok
    # exactly what was returned: every field of the answer but the two the answer adds
    # (the inquiry's id and the time); fields the scope leaves out are null
    assert inquiry.returned["decision_id"] == decision.id
    assert inquiry.returned["band"] == answer["band"] == "excellent"
    assert "score" not in inquiry.returned and answer["score"] is None
    for name, value in answer.items():
        if name not in ("inquiry_id", "decided_at", "receipts"):
            assert inquiry.returned.get(name) == value, name
    assert answer["decided_at"].startswith(decision.decided_at.strftime("%Y-%m-%dT%H:%M:%S"))


def test_a_public_record_declines_whatever_the_score_until_disputed(api_world: ApiWorld) -> None:
    partner = api_world.partner("rooms")
    subject = api_world.subject(events=40)  # every person of make_events has a judgment
    records = subject.get("/v1/me/records?limit=200").json()["items"]
    judgments = [r for r in records if r["type"] == "public_record"]
    assert judgments
    _publish(api_world, subject.id, 820)
    grant = api_world.grant(subject, "rooms", products=("room", "hotel"))
    room = _ask(partner, grant, "room").json()
    assert room["outcome"] == "decline"
    assert room["reasons"][0]["code"] == "public_record:court_judgment_default"
    assert "Civil Procedure Law" in room["reasons"][0]["text"]
    assert _ask(partner, grant, "hotel").json()["outcome"] == "approve"  # no such policy
    # disputing every judgment (excluded while open) lifts the decline at once
    api_world.state.api.disputes_exclude_while_open = True
    for record in judgments:
        filed = subject.post(
            "/v1/me/disputes", json={"record_ref": record["record_ref"], "reason": "paid"}
        )
        assert filed.status_code == 201
    _publish(api_world, subject.id, 820)  # the rescore above published the model's score
    assert _ask(partner, grant, "room").json()["outcome"] == "approve"


def test_refusals(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    subject = api_world.subject()
    _publish(api_world, subject.id, 700)
    grant = api_world.grant(subject, "bikes", products=("bike",))
    assert _ask(partner, grant).status_code == 201

    not_covered = _ask(partner, grant, "car")
    assert not_covered.status_code == 403 and "car" in not_covered.json()["message"]
    assert _ask(partner, grant, purpose="marketing").status_code == 403
    assert _ask(partner, grant, "spaceship").status_code == 404

    # a locked file refuses every decision until unlocked
    assert subject.post("/v1/me/lock").status_code == 200
    locked = _ask(partner, grant)
    assert locked.status_code == 403 and "locked" in locked.json()["message"]
    assert subject.post("/v1/me/unlock").status_code == 200
    assert _ask(partner, grant).status_code == 201

    # an expired grant (given long ago) and a revoked one
    with api_world.engine.begin() as conn:
        old = registry.create_grant(
            conn,
            subject.id,
            partner_id="bikes",
            products=["bike"],
            purpose="deposit_waiver",
            expires_at=datetime.now(UTC) - timedelta(days=1),
            actor="subject",
            now=datetime.now(UTC) - timedelta(days=30),
        )
    expired = _ask(partner, {"id": old.id, "person_id": subject.id, "purpose": "deposit_waiver"})
    assert expired.status_code == 403 and "expired" in expired.json()["message"]
    assert subject.post(f"/v1/me/grants/{grant['id']}/revoke").status_code == 200
    revoked = _ask(partner, grant)
    assert revoked.status_code == 403 and "revoked" in revoked.json()["message"]
    assert subject.post(f"/v1/me/grants/{grant['id']}/revoke").status_code == 409
    # only the successful calls left inquiries
    assert len(subject.get("/v1/me/inquiries").json()["items"]) == 2


def test_a_person_without_a_score_is_scored_first(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    subject = api_world.subject(events=40)
    grant = api_world.grant(subject, "bikes")
    assert subject.get("/v1/me/history").json()["items"] == []
    answer = _ask(partner, grant)
    assert answer.status_code == 201
    history = subject.get("/v1/me/history").json()["items"]
    assert len(history) == 1
    decision = subject.get(f"/v1/me/decisions/{answer.json()['decision_id']}").json()
    assert decision["score"] == history[0]["score"]


def test_a_grant_revoked_between_the_read_and_the_write_stores_nothing(
    api_world: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is read outside the registry's write lock; a revocation that commits in
    between must still stop the decision from being stored or returned."""
    import contextlib

    partner = api_world.partner("lender")
    subject = api_world.subject()
    _publish(api_world, subject.id, 712)
    grant = api_world.grant(subject, "lender")
    state = api_world.state
    real_read = type(state).read

    @contextlib.contextmanager
    def read_then_revoke(self):
        with real_read(self) as conn:
            yield conn
        with api_world.engine.begin() as conn:  # the person revokes at this moment
            registry.revoke_grant(conn, subject.id, grant["id"], actor="subject")

    monkeypatch.setattr(type(state), "read", read_then_revoke)
    response = _ask(partner, grant)
    monkeypatch.undo()
    assert response.status_code == 403, response.text
    assert "revoked" in response.json()["message"]
    with api_world.engine.begin() as conn:
        assert registry.list_decisions(conn, subject.id) == []
    assert subject.get("/v1/me/inquiries").json()["items"] == []
