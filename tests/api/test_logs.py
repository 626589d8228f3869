"""No secret reaches a log line: not a password, an API key, a session cookie or a CSRF
token — neither in the access lines nor in the record of a crash."""

from __future__ import annotations

import logging

import pytest

from openscore.api.logs import RedactSecrets, redact

from fixtures.api import PASSWORD, ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def test_a_full_run_logs_no_secret(api_world: ApiWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    partner = api_world.partner("bikes")
    subject = api_world.subject(events=20)
    grant = api_world.grant(subject, "bikes")
    partner.post(
        "/v1/decisions",
        json={
            "grant_id": grant["id"],
            "person_id": subject.id,
            "product_id": "bike",
            "purpose": "deposit_waiver",
        },
    )
    api_world.client().post("/v1/login", json={"login": "nobody", "password": PASSWORD + "x"})
    api_world.client(Authorization="Bearer osk_forgedforgedforged").get("/v1/operator/audit")

    def boom() -> None:
        raise RuntimeError(f"leaked {partner.secret} and password={PASSWORD}")

    api_world.app.add_api_route("/v1/boom", boom)
    api_world.client().get("/v1/boom")

    secrets = [
        PASSWORD,
        partner.secret,
        subject.client.cookies.get("openscore_session"),
        subject.client.headers["X-CSRF-Token"],
        "osk_forgedforgedforged",
    ]
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    formatter = logging.Formatter("%(message)s")
    written = []
    for record in caplog.records:
        handler.filter(record)
        written.append(formatter.format(record))
    text = "\n".join(written)
    assert "POST /v1/decisions 201" in text  # the access lines are there ...
    assert "RuntimeError" in text
    for secret in secrets:
        assert secret and secret not in text  # ... and no secret is


def test_redaction_patterns() -> None:
    assert "osk_" in redact("key osk_abcdefghijklmnop used") and "abcdefgh" not in redact(
        "key osk_abcdefghijklmnop used"
    )
    assert redact("Authorization: Bearer abc.def") == "Authorization: [REDACTED]"
    assert "hunter2" not in redact("password=hunter2&x=1")
    assert "s3cr3t" not in redact('{"password": "s3cr3t"}')
    assert "tok" not in redact("openscore_session=tok.en.value; path=/")


def test_json_log_lines_carry_the_request_id(api_world: ApiWorld) -> None:
    import io
    import json
    import logging

    from openscore.api.logs import JsonLines, RedactSecrets, RequestIdFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RedactSecrets())
    handler.addFilter(RequestIdFilter())
    access = logging.getLogger("openscore.api.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        response = api_world.client().get("/v1/health", headers={"X-Request-ID": "req-42"})
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert response.headers["x-request-id"] == "req-42"
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["request_id"] == "req-42" and line["route"] == "/v1/health"
    assert line["status"] == 200 and line["method"] == "GET" and line["ms"] >= 0
    assert line["level"] == "info" and line["logger"] == "openscore.api.access"
