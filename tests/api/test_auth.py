"""Authentication and its failures: sessions (missing, forged, expired, logged out),
CSRF, API keys (forged, revoked, deactivated, wrong role), sign-up and enrolment, and the
log-in rate limit."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from openscore import registry
from openscore.api.sessions import SESSION_PURPOSE, derive_key

from fixtures.api import PASSWORD, ApiWorld
from fixtures.postgres import TEST_SECRET_KEY

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _session_cookie(
    person_id: str, *, age_seconds: int = 0, secret: str = TEST_SECRET_KEY, epoch: str = ""
) -> str:
    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_seconds

    serializer = URLSafeTimedSerializer(
        derive_key(secret, SESSION_PURPOSE), salt="session", signer=Backdated
    )
    return serializer.dumps({"p": person_id, "s": "0" * 32, "c": "csrf", "g": epoch})


def test_subject_routes_need_a_valid_session(api_world: ApiWorld) -> None:
    person = api_world.person()
    with api_world.engine.connect() as conn:
        epoch = registry.session_epoch(conn, person)
    client = api_world.client()
    cases = {
        "none": None,
        "forged": _session_cookie(person, secret="not-the-server-secret", epoch=epoch),
        "expired": _session_cookie(person, age_seconds=9 * 3600, epoch=epoch),
        "garbage": "x" * 50,
        "old epoch": _session_cookie(person, epoch="0" * 32),
    }
    for name, cookie in cases.items():
        client.cookies.clear()
        if cookie:
            client.cookies.set("openscore_session", cookie)
        for path in ("/v1/me", "/v1/me/score", "/v1/me/grants", "/v1/session"):
            response = client.get(path)
            assert response.status_code == 401, (name, path, response.text)
            assert response.json()["error"] == "unauthenticated"
    # a valid, fresh cookie minted the same way works: the test cookies fail for their flaw
    client.cookies.set("openscore_session", _session_cookie(person, epoch=epoch))
    assert client.get("/v1/me").status_code == 200


def test_login_sets_hardened_cookies_and_logout_kills_the_session(api_world: ApiWorld) -> None:
    person = api_world.person()
    subject = api_world.subject(person)
    set_cookie = (
        api_world.client()
        .post("/v1/login", json={"login": f"{person}@example.org", "password": PASSWORD})
        .headers.get_list("set-cookie")
    )
    session = next(c for c in set_cookie if c.startswith("openscore_session="))
    csrf = next(c for c in set_cookie if c.startswith("openscore_csrf="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/" in session
    assert "HttpOnly" not in csrf  # the page echoes it back
    assert "Secure" not in session  # plain HTTP outside production

    stolen = subject.client.cookies.get("openscore_session")
    assert subject.get("/v1/me").status_code == 200
    assert subject.post("/v1/logout").status_code == 204
    replay = api_world.client(**{"X-CSRF-Token": subject.client.headers["X-CSRF-Token"]})
    replay.cookies.set("openscore_session", stolen)
    assert replay.get("/v1/me").status_code == 401


def test_unsafe_subject_requests_need_the_csrf_token(api_world: ApiWorld) -> None:
    subject = api_world.subject()
    token = subject.client.headers.pop("X-CSRF-Token")
    missing = subject.post("/v1/me/lock")
    assert missing.status_code == 403 and "CSRF" in missing.json()["message"]
    assert subject.post("/v1/me/lock", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert subject.get("/v1/me/lock").json()["locked"] is False  # nothing happened
    # the portal's forms send it as a field instead
    form = subject.post("/v1/me/lock", data={"csrf_token": token})
    assert form.status_code == 200 and form.json()["locked"] is True
    # another origin is refused even with the token
    cross = subject.post(
        "/v1/me/unlock",
        headers={"X-CSRF-Token": token, "Origin": "http://evil.example"},
    )
    assert cross.status_code == 403
    other_site = subject.post(
        "/v1/me/unlock", headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "same-site"}
    )
    assert other_site.status_code == 403
    ok = subject.post("/v1/me/unlock", headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and ok.json()["locked"] is False
    # safe methods need no token
    assert subject.get("/v1/me").status_code == 200


def test_api_keys_forged_revoked_deactivated_and_wrong_role(api_world: ApiWorld) -> None:
    operator = api_world.operator()
    partner = api_world.partner("bikes")
    subject = api_world.subject()
    body = {"grant_id": "0" * 32, "person_id": subject.id, "product_id": "bike", "purpose": "x"}

    forged = api_world.client(Authorization="Bearer osk_" + "A" * 43)
    for client in (api_world.client(), forged, api_world.client(Authorization="Basic eDp5")):
        response = client.post("/v1/decisions", json=body)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/v1/operator/partners").status_code == 401

    # the right key for the wrong audience
    assert partner.get("/v1/operator/partners").status_code == 403
    assert operator.post("/v1/decisions", json=body).status_code == 403
    # a subject's session is not a key, and a key is not a session
    assert subject.post("/v1/decisions", json=body).status_code == 401
    assert partner.get("/v1/me").status_code == 401

    # a revoked key stops at once; the partner's other key still works
    keys = operator.get("/v1/operator/partners/bikes/keys").json()["items"]
    second = operator.post("/v1/operator/partners/bikes/keys", json={"label": "second"}).json()
    assert "secret" not in operator.get("/v1/operator/partners/bikes/keys").json()["items"][0]
    revoked = operator.post(f"/v1/operator/partners/bikes/keys/{keys[0]['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert partner.get("/v1/decisions/" + "0" * 32).status_code == 401
    other = api_world.client(Authorization=f"Bearer {second['secret']}")
    assert other.get("/v1/decisions/" + "0" * 32).status_code == 404
    # deactivating the partner stops every key it has
    assert operator.post("/v1/operator/partners/bikes/deactivate").status_code == 200
    assert other.get("/v1/decisions/" + "0" * 32).status_code == 401


def test_signup_and_enrolment(api_world: ApiWorld) -> None:
    client = api_world.client()
    fresh = client.post("/v1/signup", json={"login": "New.Person", "password": PASSWORD})
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["login"] == "new.person"
    assert client.get("/v1/me").json()["person_id"] == fresh.json()["person_id"]
    taken = api_world.client().post(
        "/v1/signup", json={"login": "new.PERSON", "password": PASSWORD}
    )
    assert taken.status_code == 409
    short = api_world.client().post("/v1/signup", json={"login": "abc", "password": "short"})
    assert short.status_code == 422 and short.json()["field"] == "password"

    # claiming a registry person with an operator's one-time code
    operator = api_world.operator()
    known = api_world.person("furnisher-known-42", events=0)
    issued = operator.post(f"/v1/operator/people/{known}/enrolment-codes")
    assert issued.status_code == 201
    code = issued.json()["code"]
    claim = api_world.client().post(
        "/v1/signup", json={"login": "claimer", "password": PASSWORD, "enrolment_code": code}
    )
    assert claim.status_code == 201 and claim.json()["person_id"] == known
    again = api_world.client().post(
        "/v1/signup", json={"login": "claimer2", "password": PASSWORD, "enrolment_code": code}
    )
    assert again.status_code == 409  # one use
    assert operator.post(f"/v1/operator/people/{known}/enrolment-codes").status_code == 409
    forged = api_world.client().post(
        "/v1/signup",
        json={"login": "forger", "password": PASSWORD, "enrolment_code": code[:-2] + "xx"},
    )
    assert forged.status_code == 403
    assert operator.post("/v1/operator/people/nobody/enrolment-codes").status_code == 404


def test_login_failures_are_uniform_and_rate_limited(api_world: ApiWorld) -> None:
    api_world.subject(login="victim@example.org")
    client = api_world.client()
    wrong = client.post("/v1/login", json={"login": "victim@example.org", "password": "nope"})
    unknown = client.post("/v1/login", json={"login": "ghost@example.org", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"] == "wrong login or password"

    for _ in range(4):  # five failures for one login in all
        assert (
            client.post(
                "/v1/login", json={"login": "VICTIM@example.org", "password": "guess"}
            ).status_code
            == 401
        )
    locked = client.post("/v1/login", json={"login": "victim@example.org", "password": PASSWORD})
    assert locked.status_code == 429  # even the right password: it is not even checked
    assert int(locked.headers["retry-after"]) > 0
    # an unknown login is limited exactly the same way
    for _ in range(4):
        client.post("/v1/login", json={"login": "ghost@example.org", "password": "nope"})
    assert (
        client.post("/v1/login", json={"login": "ghost@example.org", "password": "x"}).status_code
        == 429
    )
    # and one address trying many logins is stopped too (20 failures per address)
    for i in range(20):
        client.post("/v1/login", json={"login": f"spray{i}@example.org", "password": "x"})
    sprayed = client.post("/v1/login", json={"login": "fresh@example.org", "password": "x"})
    assert sprayed.status_code == 429
