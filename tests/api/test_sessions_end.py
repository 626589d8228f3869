"""Ending every session of an account, over real HTTP: an erasure (even after the same id
is registered again), a password change and "log out everywhere" (issue 18, API 1)."""

from __future__ import annotations

from contextlib import closing

import httpx
import pytest

from openscore import registry

from fixtures.api import PASSWORD, ApiWorld

pytestmark = pytest.mark.usefixtures("cheap_passwords")


def _log_in(url: str, login: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=60)
    response = client.post("/v1/login", json={"login": login, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def _two_sessions(api_world: ApiWorld, url: str) -> tuple[str, httpx.Client, httpx.Client]:
    person = api_world.person()
    api_world.subject(person)  # sets the credentials
    login = f"{person}@example.org"
    first, second = _log_in(url, login), _log_in(url, login)
    assert first.get("/v1/me").status_code == 200
    assert second.get("/v1/me").status_code == 200
    return person, first, second


def test_an_erased_accounts_sessions_stay_dead_after_it_is_registered_again(
    api_world: ApiWorld, live_server: str
) -> None:
    person, first, second = _two_sessions(api_world, live_server)
    api_world.partner("bikes")
    with closing(first), closing(second):
        erased = first.request(
            "DELETE", "/v1/me", json={"confirm": "erase my account", "password": PASSWORD}
        )
        assert erased.status_code == 200, erased.text
        assert second.get("/v1/me").status_code == 401

        operator = api_world.operator()
        again = operator.post("/v1/operator/people", json={"person_id": person})
        assert again.status_code == 409
        assert "was erased" in again.json()["message"]
        lifted = operator.post(
            "/v1/operator/people", json={"person_id": person, "lift_erasure": True}
        )
        assert lifted.status_code == 201, lifted.text

        # the same id, registered again: the old cookies are still worth nothing
        for client in (first, second):
            assert client.get("/v1/me").status_code == 401
            grant = client.post(
                "/v1/me/grants",
                json={"partner_id": "bikes", "products": ["bike"], "purpose": "deposit_waiver"},
            )
            assert grant.status_code == 401


def test_a_password_change_ends_every_session(api_world: ApiWorld, live_server: str) -> None:
    person, first, second = _two_sessions(api_world, live_server)
    with closing(first), closing(second):
        with api_world.engine.begin() as conn:  # what `openscore accounts create` does
            registry.set_credentials(
                conn, person, login=f"{person}@example.org", password=PASSWORD, actor="system"
            )
        assert first.get("/v1/me").status_code == 401
        assert second.get("/v1/me").status_code == 401
        with closing(_log_in(live_server, f"{person}@example.org")) as fresh:
            assert fresh.get("/v1/me").status_code == 200


def test_log_out_everywhere_ends_the_other_sessions_too(
    api_world: ApiWorld, live_server: str
) -> None:
    person, first, second = _two_sessions(api_world, live_server)
    with closing(first), closing(second):
        without_csrf = httpx.post(
            f"{live_server}/v1/logout/everywhere", cookies=dict(first.cookies), timeout=60
        )
        assert without_csrf.status_code == 403
        assert second.get("/v1/me").status_code == 200
        assert first.post("/v1/logout/everywhere").status_code == 204
        assert first.get("/v1/me").status_code == 401
        assert second.get("/v1/me").status_code == 401
        assert second.get("/").status_code == 200  # the portal sees a visitor, not an error
    with api_world.engine.connect() as conn:
        size = registry.audit.tree_size(conn)
        last = registry.audit.list_entries(conn, start=size - 1)[0]
    assert last.content["action"] == "sessions.ended"
