"""Bad input gets a clear answer: 422 naming the field, 413 for a body too large, page
sizes bounded, unknown routes and methods, no stack trace in a 500, 503 when the database
is away."""

from __future__ import annotations

from pathlib import Path

import pytest

from fixtures.api import ApiWorld, build_world

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def test_malformed_bodies_name_the_field(api_world: ApiWorld) -> None:
    subject = api_world.subject()
    api_world.partner("bikes")

    def post(body: object = None, **kw: object):
        return subject.post("/v1/me/grants", json=body, **kw)

    good = {"partner_id": "bikes", "products": ["bike"], "purpose": "deposit_waiver"}
    broken = subject.post(
        "/v1/me/grants", content=b'{"partner_id": ', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["field"] == "body"
    assert "not valid JSON" in broken.json()["message"]
    cases = {
        "partner_id": {k: v for k, v in good.items() if k != "partner_id"},  # missing
        "products": {**good, "products": "bike"},  # not a list
        "products[1]": {**good, "products": ["bike", "Bad Slug!"]},
        "expires_in_days": {**good, "expires_in_days": True},  # a bool is not a number
        "scope": {**good, "scope": "everything"},
        "role": {**good, "role": "admin"},  # mass assignment: refused, named
    }
    for field, body in cases.items():
        response = post(body)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["field"] == field, (field, response.json())
        assert response.json()["errors"][0]["field"] == field
    not_json = subject.post(
        "/v1/me/grants", content=b"partner_id=bikes", headers={"content-type": "text/plain"}
    )
    assert not_json.status_code == 422
    assert post({**good, "expires_in_days": 30.0}).status_code == 201  # 30.0 is an integer

    whatif = subject.post("/v1/me/whatif", json={"overrides": {"utilisation": "NaN"}})
    assert whatif.status_code == 422 and whatif.json()["field"] == "overrides.utilisation"
    nan = subject.post(
        "/v1/me/whatif",
        content=b'{"overrides": {"utilisation": NaN}}',
        headers={"content-type": "application/json"},
    )
    assert nan.status_code == 422
    nul = subject.post("/v1/me/disputes", json={"record_ref": "a/b", "reason": "bad \x00 byte"})
    assert nul.status_code == 422 and nul.json()["field"] == "reason"


def test_nested_and_header_fields_are_named(api_world: ApiWorld) -> None:
    partner = api_world.partner("bikes")
    report = {
        "kind": "repayment",
        "report_id": "r1",
        "person_id": "p",
        "grant_id": "0" * 32,
        "account_id": "a",
        "due_date": 0,  # a number is not a date
        "amount_due": 10,
    }
    response = partner.post(
        "/v1/fulfilment", json={"reports": [report]}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "reports[0].repayment.due_date"
    missing_key = partner.post(
        "/v1/fulfilment", json={"reports": [{**report, "due_date": "2025-01-01"}]}
    )
    assert missing_key.status_code == 422 and missing_key.json()["field"] == "Idempotency-Key"


def test_body_size_and_page_size_limits(api_world: ApiWorld) -> None:
    subject = api_world.subject()
    limit = api_world.settings.max_body_bytes
    big = subject.post(
        "/v1/me/disputes",
        content=b'{"reason": "' + b"x" * limit + b'"}',
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413 and big.json()["error"] == "too_large"

    maximum = api_world.settings.max_page_size
    assert subject.get(f"/v1/me/inquiries?limit={maximum}").status_code == 200
    over = subject.get(f"/v1/me/inquiries?limit={maximum + 1}")
    assert over.status_code == 422 and over.json()["field"] == "limit"
    assert subject.get("/v1/me/history?limit=0").status_code == 422
    schema = api_world.client().get("/openapi.json").json()
    limits = [
        p["schema"]
        for op in schema["paths"]["/v1/me/inquiries"].values()
        for p in op.get("parameters", [])
        if p["name"] == "limit"
    ]
    assert any(o.get("maximum") == maximum for o in limits[0]["anyOf"])


def test_unknown_routes_methods_and_people(api_world: ApiWorld) -> None:
    client = api_world.client()
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = client.put("/v1/health")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET"
    subject = api_world.subject()
    both = subject.client.request("PATCH", "/v1/me")
    assert both.status_code == 405 and both.headers["allow"] == "DELETE, GET"
    operator = api_world.operator()
    assert operator.get("/v1/operator/people/no-such-person").status_code == 404
    publish = operator.post("/v1/operator/publications", json={"person_ids": ["no-such-person"]})
    assert publish.status_code == 404
    grant = subject.post(
        "/v1/me/grants",
        json={"partner_id": "no-such-partner", "products": ["bike"], "purpose": "x"},
    )
    assert grant.status_code == 404
    api_world.partner("bikes")
    product = subject.post(
        "/v1/me/grants", json={"partner_id": "bikes", "products": ["spaceship"], "purpose": "x"}
    )
    assert product.status_code == 404 and "spaceship" in product.json()["message"]


def test_a_crash_answers_500_without_a_trace(api_world: ApiWorld) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals: /etc/passwd osk_leakleakleakleak")

    api_world.app.add_api_route("/v1/boom", boom)
    response = api_world.client(**{"X-Request-ID": "trace-me-1"}).get("/v1/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal" and body["request_id"] == "trace-me-1"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert response.headers["x-request-id"] == "trace-me-1"


def test_database_away_is_503_with_retry_after(tmp_path: Path) -> None:
    from openscore.registry import create_registry_engine

    nowhere = create_registry_engine(
        "postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=1", secret_key="k"
    )
    world = build_world(nowhere, tmp_path / "data")
    response = world.client().get("/v1/partners")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "unavailable"
    login = world.client().post("/v1/login", json={"login": "someone", "password": "x" * 12})
    assert login.status_code == 503


def test_costly_requests_are_limited_per_person(registry_engine, tmp_path: Path) -> None:
    world = build_world(registry_engine, tmp_path / "data", costly_requests_per_person=2)
    alice = world.subject()
    bob = world.subject()
    for _ in range(2):
        assert alice.post("/v1/me/whatif", json={}).status_code == 200
    limited = alice.get("/v1/me/export")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    assert alice.get("/v1/me/score").status_code == 200  # reads are not counted
    assert bob.post("/v1/me/whatif", json={}).status_code == 200  # per person
