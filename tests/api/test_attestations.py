"""Score attestations through the API: issue, refuse an unsupported claim, verify with no
account, withdraw, revoke on a lower score, inquiries the person sees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openscore import registry
from openscore.attestations import Refused, verify
from openscore.registry import ScoreToPublish

from fixtures.api import ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _publish(world: ApiWorld, person_id: str, score: int) -> None:
    with world.engine.begin() as conn:
        registry.publish_score(
            conn,
            ScoreToPublish(
                person_id=person_id,
                score=score,
                dimensions={},
                reasons=[],
                model_id="test-model",
                as_of=datetime(2025, 9, 1, tzinfo=UTC),
            ),
            actor="system",
        )


def test_issue_verify_withdraw(api_world: ApiWorld) -> None:
    subject = api_world.subject()
    _publish(api_world, subject.id, 712)
    answer = subject.post(
        "/v1/me/attestations",
        json={
            "min_score": 650,
            "band_at_least": "very_good",
            "exact_score": True,
            "expires_in_days": 30,
            "audience": "landlord.example",
        },
    )
    assert answer.status_code == 201, answer.text
    issued = answer.json()
    assert issued["claims"] == {"score_at_least": 650, "band_at_least": "very_good", "score": 712}
    assert issued["status"] == "valid"
    assert issued["verify_url"].endswith("/verify#" + issued["token"])

    anyone = api_world.client()
    jwks = anyone.get("/.well-known/jwks.json").json()
    assert all("d" not in key for key in jwks["keys"])
    # offline: the token checks against the published keys alone
    offline = verify(issued["token"], jwks, audience="landlord.example")
    assert offline.claims["score_at_least"] == 650
    assert offline.visible["as_of"] == "2025-09-01"

    verdict = anyone.post(
        "/v1/attestations/verify",
        json={"token": issued["token"], "audience": "landlord.example"},
    ).json()
    assert verdict["valid"] is True and verdict["claims"]["score"] == 712
    wrong = anyone.post(
        "/v1/attestations/verify", json={"token": issued["token"], "audience": "bank"}
    ).json()
    assert wrong == {**wrong, "valid": False}
    assert "made out to 'landlord.example'" in wrong["reason"]

    # the person sees the issuing and the check among their inquiries
    inquiries = subject.get("/v1/me/inquiries").json()["items"]
    purposes = sorted(i["purpose"] for i in inquiries)
    assert purposes == ["attestation-issued", "attestation-verified"]

    listed = subject.get("/v1/me/attestations").json()["items"]
    assert [a["id"] for a in listed] == [issued["id"]]
    revoked = subject.post(f"/v1/me/attestations/{issued['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert subject.post(f"/v1/me/attestations/{issued['id']}/revoke").status_code == 409

    status = anyone.get("/v1/attestations/status").json()
    assert [(r["id"], r["reason"]) for r in status["revoked"]] == [(issued["id"], "withdrawn")]
    verdict = anyone.post("/v1/attestations/verify", json={"token": issued["token"]}).json()
    assert verdict["valid"] is False and "withdrew" in verdict["reason"]
    # offline, with the status list
    with pytest.raises(Refused, match="revoked"):
        verify(issued["token"], jwks, revoked=[r["id"] for r in status["revoked"]])


def test_an_unsupported_claim_is_refused_with_the_reason(api_world: ApiWorld) -> None:
    subject = api_world.subject()
    _publish(api_world, subject.id, 640)
    answer = subject.post("/v1/me/attestations", json={"min_score": 650})
    assert answer.status_code == 409
    assert "min_score: the current score 640 is below 650" in answer.json()["message"]
    answer = subject.post("/v1/me/attestations", json={"band_at_least": "excellent"})
    assert answer.status_code == 409 and "band good is below excellent" in answer.text
    assert subject.post("/v1/me/attestations", json={}).json()["field"] == "claims"
    assert (
        subject.post("/v1/me/attestations", json={"min_score": 650, "expires_in_days": 366}).json()[
            "field"
        ]
        == "expires_in_days"
    )
    assert subject.get("/v1/me/attestations").json()["items"] == []


def test_a_lower_score_revokes_what_it_no_longer_supports(api_world: ApiWorld) -> None:
    subject = api_world.subject()
    _publish(api_world, subject.id, 700)
    at_least = subject.post("/v1/me/attestations", json={"min_score": 650}).json()
    exact = subject.post("/v1/me/attestations", json={"exact_score": True}).json()
    band = subject.post("/v1/me/attestations", json={"band_at_least": "good"}).json()
    _publish(api_world, subject.id, 660)  # still >= 650, still "good" or better
    status = {
        r["id"]: r["reason"]
        for r in api_world.client().get("/v1/attestations/status").json()["revoked"]
    }
    assert status == {exact["id"]: "unsupported"}
    _publish(api_world, subject.id, 640)
    status = {r["id"] for r in api_world.client().get("/v1/attestations/status").json()["revoked"]}
    assert status == {exact["id"], at_least["id"]}
    mine = {a["id"]: a for a in subject.get("/v1/me/attestations").json()["items"]}
    assert mine[at_least["id"]]["revoked_reason"] == "the score fell below 650"
    assert mine[band["id"]]["status"] == "valid"


def test_erasure_keeps_the_attestations_revoked(api_world: ApiWorld) -> None:
    subject = api_world.subject()
    _publish(api_world, subject.id, 700)
    issued = subject.post("/v1/me/attestations", json={"min_score": 650}).json()
    with api_world.engine.begin() as conn:
        registry.erase_person(conn, subject.id, actor="system")
    status = api_world.client().get("/v1/attestations/status").json()["revoked"]
    assert [(r["id"], r["reason"]) for r in status] == [(issued["id"], "erased")]


def test_public_routes_need_no_account_and_refuse_junk(api_world: ApiWorld) -> None:
    anyone = api_world.client()
    for token in ("x", "a.b.c~", "é~"):
        verdict = anyone.post("/v1/attestations/verify", json={"token": token})
        assert verdict.status_code == 200 and verdict.json()["valid"] is False
        assert verdict.json()["reason"]
    assert anyone.post("/v1/attestations/verify", json={"token": ""}).status_code == 422
    assert anyone.post("/v1/me/attestations", json={"min_score": 650}).status_code == 401


def test_checks_are_limited_per_address(registry_engine, tmp_path) -> None:
    """The API's and the public page's checks count together, per client address; the
    form keeps the pasted statement; another address is not held back."""
    from fastapi.testclient import TestClient

    from fixtures.api import build_world

    world = build_world(
        registry_engine,
        tmp_path / "data",
        attestation_verifications_per_ip=3,
        attestation_verify_window_seconds=120,
    )
    limit = world.state.api.attestation_verifications_per_ip
    one = TestClient(world.app, raise_server_exceptions=False, client=("203.0.113.7", 4000))
    for _ in range(limit - 1):
        answer = one.post("/v1/attestations/verify", json={"token": "x"})
        assert answer.status_code == 200 and answer.json()["valid"] is False
    page = one.post("/verify", data={"token": "a.b.c~kept", "audience": "landlord"})
    assert page.status_code == 200 and "Not valid" in page.text  # the third check: allowed
    over = one.post("/v1/attestations/verify", json={"token": "x"})
    assert over.status_code == 429 and over.json()["error"] == "rate_limited"
    assert 0 < int(over.headers["Retry-After"]) <= 120
    assert "attestation checks" in over.json()["message"]
    page = one.post("/verify", data={"token": "a.b.c~kept", "audience": "landlord"})
    assert page.status_code == 429 and 0 < int(page.headers["Retry-After"]) <= 120
    assert "Not checked yet" in page.text and "Not valid" not in page.text
    assert "a.b.c~kept" in page.text and 'value="landlord"' in page.text
    other = TestClient(world.app, raise_server_exceptions=False, client=("203.0.113.8", 4000))
    assert other.post("/v1/attestations/verify", json={"token": "x"}).status_code == 200
    # the page to paste into, the keys and the status list are not checks: never limited
    assert one.get("/verify").status_code == 200
    assert one.get("/.well-known/jwks.json").status_code == 200
    assert one.get("/v1/attestations/status").status_code == 200
