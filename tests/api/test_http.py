"""The API over real HTTP on 127.0.0.1 (uvicorn in a thread): a subject's and a partner's
journey end to end, headers on the wire, and a streamed body cut off at the limit."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from fixtures.api import PASSWORD, ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def test_a_journey_over_http(api_world: ApiWorld, live_server: str) -> None:
    person = api_world.person(events=60)
    api_world.partner("bikes")
    partner_key = api_world.partner("bikes").secret
    enrol = api_world.operator().post(f"/v1/operator/people/{person}/enrolment-codes").json()
    with (
        httpx.Client(base_url=live_server) as browser,
        httpx.Client(
            base_url=live_server, headers={"Authorization": f"Bearer {partner_key}"}
        ) as partner,
    ):
        health = browser.get("/v1/health")
        assert health.json() == {"status": "ok"}
        assert health.headers["x-content-type-options"] == "nosniff"
        assert health.headers["cache-control"] == "no-store"
        assert len(health.headers["x-request-id"]) == 32

        signup = browser.post(
            "/v1/signup",
            json={"login": "walker", "password": PASSWORD, "enrolment_code": enrol["code"]},
        )
        assert signup.status_code == 201, signup.text
        browser.headers["X-CSRF-Token"] = signup.json()["csrf_token"]
        score = browser.get("/v1/me/score").json()
        grant = browser.post(
            "/v1/me/grants",
            json={"partner_id": "bikes", "products": ["bike"], "purpose": "deposit_waiver"},
        ).json()
        decision = partner.post(
            "/v1/decisions",
            json={
                "grant_id": grant["id"],
                "person_id": person,
                "product_id": "bike",
                "purpose": "deposit_waiver",
            },
        )
        assert decision.status_code == 201
        assert decision.json()["outcome"] == ("approve" if score["score"] >= 600 else "decline")
        inquiries = browser.get("/v1/me/inquiries").json()["items"]
        assert inquiries[0]["id"] == decision.json()["inquiry_id"]
        revoked = browser.delete("/v1/me/consents/wallet")
        assert revoked.status_code == 200 and revoked.json()["score"]["id"] != score["id"]
        assert browser.post("/v1/logout").status_code == 204
        assert browser.get("/v1/me").status_code == 401


def test_a_streamed_body_is_cut_off_at_the_limit(api_world: ApiWorld, live_server: str) -> None:
    limit = api_world.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"login": "x", "password": "'
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536
        yield b'"}'

    with httpx.Client(base_url=live_server) as client:
        streamed = client.post(
            "/v1/login", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        assert streamed.json()["error"] == "too_large"
        declared = client.post(
            "/v1/login",
            content=b"z" * (limit + 1),
            headers={"content-type": "application/json"},
        )
        assert declared.status_code == 413
