"""OWASP API Top 10 checks that the API tests do not already make, on both registry
backends: mass assignment (API3/2023, "broken object property level authorisation")
across every request body, and injection through path, query and body values.

The rest of the list is tested where its feature is: BOLA (API1) in
``tests/api/test_bola.py``, broken authentication (API2) in ``tests/api/test_auth.py``,
unrestricted resource consumption (API4: 413, page limits, 429 per person and per log-in)
in ``tests/api/test_bad_input.py`` and ``test_auth.py``, function-level authorisation
(API5) in ``test_auth.py`` (wrong role), security misconfiguration (API8: headers, no
trace in a 500) in ``tests/api/test_http.py`` and ``test_bad_input.py``; see
docs/reliability.md.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from openscore.registry import audit, read_only
from openscore.registry.metadata import decisions, disputes, grants, partners, people

from fixtures.api import PASSWORD, ApiWorld, Principal

pytestmark = pytest.mark.usefixtures("cheap_passwords")

SMUGGLED = "is_admin"
HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE people; --",
    '" OR ""="',
    "%",
    "_",
    "*",
    "\\",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "{{7*7}}",
    "${jndi:ldap://127.0.0.1/x}",
    "<script>alert(1)</script>",
    "\x00",
    "é" * 200,
]


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return schema


def _object_schemas(spec: dict, schema: dict, seen: set[str]) -> list[tuple[str, dict]]:
    """Every object schema reachable from ``schema`` (through refs, unions, items)."""
    name = schema.get("$ref", "").split("/")[-1]
    if name:
        if name in seen:
            return []
        seen.add(name)
    schema = _resolve(spec, schema)
    found = [(name or schema.get("title", "?"), schema)] if "properties" in schema else []
    children = [*schema.get("properties", {}).values()]
    for key in ("oneOf", "anyOf", "allOf"):
        children += schema.get(key, [])
    if "items" in schema:
        children.append(schema["items"])
    for child in children:
        found += _object_schemas(spec, child, seen)
    return found


def _audience(world: ApiWorld, path: str, subject: Principal) -> Principal:
    if path.startswith("/v1/operator/"):
        return world.operator()
    if path.startswith(("/v1/decisions", "/v1/fulfilment", "/v1/partner/")):
        return world.partner("bikes")
    return subject


def _counts(world: ApiWorld) -> dict[str, int]:
    with read_only(world.engine).connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (people, partners, grants, decisions, disputes)
        }


def test_no_request_body_takes_a_field_it_does_not_declare(api_world: ApiWorld) -> None:
    """Every object in every request body forbids undeclared properties (the schema says
    so), and the API refuses a smuggled field with a 422 naming it, changing nothing."""
    spec = api_world.client().get("/openapi.json").json()
    subject = api_world.subject(events=20)
    grant = api_world.grant(subject, "bikes")
    api_world.operator()  # made now, not counted as a change below
    bodies = 0
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if not content:
                continue
            bodies += 1
            for name, schema in _object_schemas(spec, content["schema"], set()):
                assert schema.get("additionalProperties") is False, (method, path, name)
            if path == "/v1/me" and method == "delete":
                continue  # would erase the subject the later calls use (refused all the same)
            url = path
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", "f" * 32)
            before = _counts(api_world)
            who = _audience(api_world, path, subject)
            answer = who.client.request(
                method.upper(), url, json={SMUGGLED: True}, headers={"Idempotency-Key": "k-1"}
            )
            assert answer.status_code == 422, (method, path, answer.status_code, answer.text)
            fields = [e["field"] for e in answer.json()["errors"]]
            assert SMUGGLED in fields, (method, path, fields)
            assert _counts(api_world) == before, (method, path)
    assert bodies >= 15

    # privileged fields beside a valid body: refused whole, nothing recorded
    partner = api_world.partner("bikes")
    request = {
        "grant_id": grant["id"],
        "person_id": subject.id,
        "product_id": "bike",
        "purpose": "deposit_waiver",
    }
    before = _counts(api_world)
    for extra in ({"outcome": "approve"}, {"score": 950}, {"terms": {"deposit": 0}}):
        answer = partner.post("/v1/decisions", json={**request, **extra})
        assert answer.status_code == 422 and answer.json()["field"] == next(iter(extra))
    victim = api_world.person()
    claim = api_world.client().post(
        "/v1/signup", json={"login": "mallory", "password": PASSWORD, "person_id": victim}
    )
    assert claim.status_code == 422 and claim.json()["field"] == "person_id"
    closed = subject.post(
        "/v1/me/disputes", json={"record_ref": "a/b", "reason": "x", "status": "upheld"}
    )
    assert closed.status_code == 422 and closed.json()["field"] == "status"
    assert _counts(api_world) == {**before, "people": before["people"] + 1}  # the victim
    assert partner.post("/v1/decisions", json=request).status_code == 201  # the clean body


def test_injection_is_data_not_code(api_world: ApiWorld) -> None:
    """SQL, wildcards, traversal, template and NUL strings in path, query and body values
    are refused or not found — never a 500, never a match they do not literally name —
    and an id full of them is stored and found back as the literal text it is."""
    operator = api_world.operator()
    partner = api_world.partner("bikes")
    subject = api_world.subject(events=20)
    api_world.grant(subject, "bikes")
    before = _counts(api_world)
    seen: dict[int, int] = {}

    def check(answer: Any, allowed: tuple[int, ...], what: str) -> None:
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        assert answer.status_code in allowed, (what, answer.status_code, answer.text[:300])
        assert answer.headers["content-type"].startswith("application/json"), what
        if answer.status_code >= 400:
            assert "Traceback" not in answer.text and "sqlalchemy" not in answer.text.lower()

    for value in HOSTILE:
        v = quote(value, safe="")
        for who, path in (
            (operator, f"/v1/operator/people/{v}"),
            (operator, f"/v1/operator/partners/{v}"),
            (operator, f"/v1/operator/disputes/{v}"),
            (partner, f"/v1/decisions/{v}"),
            (subject, f"/v1/me/grants/{v}"),
            (subject, f"/v1/me/inquiries/{v}"),
        ):
            check(who.get(path), (404, 422), path)
        check(operator.get("/v1/operator/disputes", params={"status": value}), (422,), "status")
        check(subject.get("/v1/me/inquiries", params={"before": value}), (422,), "before")
        check(subject.put(f"/v1/me/consents/{v}"), (404, 422), "consent source")
        decision = partner.post(
            "/v1/decisions",
            json={
                "grant_id": "f" * 32,
                "person_id": value,
                "product_id": value,
                "purpose": value,
            },
        )
        check(decision, (404, 422), "decision body")
        login = api_world.client().post("/v1/login", json={"login": value, "password": value})
        check(login, (401, 422, 429), "login")
    assert _counts(api_world) == before
    with read_only(api_world.engine).connect() as conn:
        assert audit.verify(conn).ok

    literal = "o'brien\";--%_*"
    made = operator.post("/v1/operator/people", json={"person_id": literal})
    assert made.status_code == 201 and made.json()["id"] == literal
    found = operator.get(f"/v1/operator/people/{quote(literal, safe='')}")
    assert found.status_code == 200 and found.json()["id"] == literal
    assert operator.get("/v1/operator/people/o'brien%25").status_code == 404  # no LIKE
    print("injection: answers by status", dict(sorted(seen.items())))
