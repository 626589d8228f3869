"""Bad input gets a clear page and loses nothing: wrong passwords, ended sessions, forms
without their token or sent twice, someone else's ids, and errors of our own."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from openscore import registry
from web.world import PASSWORD, WebWorld, csrf, once


def _login_page(client) -> str:
    return client.get("/login").text


def test_wrong_password_and_unknown_login_get_the_same_page(web: WebWorld) -> None:
    web.subject()  # someone with a login exists
    known = web.client()
    page = _login_page(known)
    wrong = known.post(
        "/login",
        data={
            "csrf_token": csrf(page),
            "login": "web-0001@example.org",
            "password": "nope nope",
        },
    )
    unknown = web.client()
    page = _login_page(unknown)
    missing = unknown.post(
        "/login",
        data={
            "csrf_token": csrf(page),
            "login": "nobody@example.org",
            "password": "nope nope",
        },
    )
    assert wrong.status_code == missing.status_code == 401
    message = "The login or the password is not right."
    assert message in wrong.text and message in missing.text
    strip = re.compile(r'value="[^"]*"|Reference: <code>[^<]*</code>')
    assert strip.sub("", wrong.text).replace("web-0001@example.org", "X") == strip.sub(
        "", missing.text
    ).replace("nobody@example.org", "X")


def test_too_many_wrong_passwords_is_a_page_not_a_trace(web: WebWorld) -> None:
    web.subject()
    client = web.client()
    page = _login_page(client)
    for _ in range(5):
        client.post(
            "/login",
            data={
                "csrf_token": csrf(page),
                "login": "web-0001@example.org",
                "password": "nope nope",
            },
        )
    answer = client.post(
        "/login",
        data={
            "csrf_token": csrf(page),
            "login": "web-0001@example.org",
            "password": PASSWORD,
        },
    )
    assert answer.status_code == 429
    assert "Too many attempts: wait" in answer.text


def test_a_page_without_a_session_goes_to_log_in_and_back(web: WebWorld) -> None:
    web.subject()
    client = web.client()
    answer = client.get("/grants?partner_id=bikes")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fgrants%3Fpartner_id%3Dbikes"
    page = client.get(answer.headers["location"]).text
    assert 'name="next" value="/grants?partner_id=bikes"' in page
    done = client.post(
        "/login",
        data={
            "csrf_token": csrf(page),
            "login": "web-0001@example.org",
            "password": PASSWORD,
            "next": "/grants?partner_id=bikes",
        },
    )
    assert done.headers["location"] == "/grants?partner_id=bikes"
    # never to another host, never to the API
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/v1/me"):
        other = web.client()
        page = _login_page(other)
        answer = other.post(
            "/login",
            data={
                "csrf_token": csrf(page),
                "login": "web-0001@example.org",
                "password": PASSWORD,
                "next": evil,
            },
        )
        assert answer.headers["location"] == "/dashboard", evil


def test_an_expired_session_keeps_what_was_typed(
    web: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    subject = web.subject()
    records = subject.get("/disputes").text
    ref = unquote(re.search(r'/disputes/new\?record_ref=([^"]+)"', records).group(1))
    form = subject.get("/disputes/new", params={"record_ref": ref}).text
    # Nine hours later (sessions last eight), the person sends the form they were writing.
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 9 * 3600)
    answer = subject.post(
        "/disputes",
        data={
            "csrf_token": csrf(form),
            "once": once(form),
            "next": "/disputes/new",
            "record_ref": ref,
            "reason": "I never rented a car in Ningbo.",
        },
    )
    assert answer.status_code == 303
    target = urlsplit(answer.headers["location"])
    assert target.path == "/login"
    query = parse_qs(target.query)
    assert query["ended"] == ["1"]
    assert "reason=I+never+rented" in query["next"][0]
    login = subject.get(answer.headers["location"]).text
    assert "Your session has ended" in login and "what you typed is kept" in login
    monkeypatch.setattr(time, "time", real)
    back = subject.post(
        "/login",
        data={
            "csrf_token": csrf(login),
            "login": f"{subject.person_id}@example.org",
            "password": PASSWORD,
            "next": query["next"][0],
        },
    )
    again = subject.get(back.headers["location"]).text
    assert "I never rented a car in Ningbo." in again  # nothing lost
    with web.engine.connect() as conn:
        assert registry.list_disputes(conn, subject.person_id) == []  # nothing sent yet


def test_a_form_without_its_token_is_refused_with_a_page(web: WebWorld) -> None:
    subject = web.subject()
    lock = subject.post("/lock", data={"action": "lock"})
    assert lock.status_code == 403
    assert "This form could not be accepted" in lock.text
    assert "Traceback" not in lock.text
    wrong = subject.post("/lock", data={"action": "lock", "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    page = subject.get("/lock").text
    other_site = subject.post(
        "/lock",
        data={"action": "lock", "csrf_token": csrf(page)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    with web.engine.connect() as conn:
        assert registry.locked_since(conn, subject.person_id) is None  # nothing happened
    # Anonymous forms too: a log-in posted from elsewhere, without the form's cookie.
    stranger = web.client()
    answer = stranger.post("/login", data={"login": "a@b.c", "password": "whatever1"})
    assert answer.status_code == 403 and "This form could not be accepted" in answer.text


def test_someone_elses_ids_are_not_found(web: WebWorld) -> None:
    owner = web.subject()
    web.partner()
    grants = owner.get("/grants?partner_id=bikes").text
    owner.post(
        "/grants",
        data={
            "csrf_token": csrf(grants),
            "once": once(grants),
            "partner_id": "bikes",
            "products": ["bike"],
            "purpose": "deposit_waiver",
            "scope": "decision",
            "expires_in_days": "30",
        },
    )
    with web.engine.connect() as conn:
        grant = registry.list_grants(conn, owner.person_id)[0]
        ref = registry.list_disputes(conn, owner.person_id)
    records = owner.get("/disputes").text
    ref = unquote(re.search(r'/disputes/new\?record_ref=([^"]+)"', records).group(1))

    intruder = web.subject()
    page = intruder.get("/grants").text
    attempts = [
        intruder.post(f"/grants/{grant.id}/revoke", data={"csrf_token": csrf(page)}),
        intruder.get(f"/inquiries/{grant.id}"),
        intruder.get(f"/decisions/{grant.id}"),
        intruder.get(f"/disputes/{grant.id}"),
        intruder.get("/disputes/new", params={"record_ref": ref}),
        intruder.get("/decisions/not-an-id"),
        intruder.get("/console/disputes/" + grant.id),  # not an operator: to the console log-in
    ]
    for answer in attempts[:-1]:
        assert answer.status_code == 404, answer.request.url
        assert "There is nothing here, or it is not yours to see." in answer.text
    assert attempts[-1].status_code == 303
    with web.engine.connect() as conn:
        assert registry.get_grant(conn, owner.person_id, grant.id).revoked_at is None


def test_double_submissions_are_harmless(web: WebWorld) -> None:
    subject = web.subject()
    web.partner()
    page = subject.get("/grants?partner_id=bikes").text
    form = {
        "csrf_token": csrf(page),
        "once": once(page),
        "partner_id": "bikes",
        "products": ["bike", "power_bank"],
        "purpose": "deposit_waiver",
        "scope": "band",
        "expires_in_days": "90",
    }
    first, second = subject.post("/grants", data=form), subject.post("/grants", data=form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    with web.engine.connect() as conn:
        grants = registry.list_grants(conn, subject.person_id)
    assert len(grants) == 1  # one grant, however many times the form was sent

    revoke = f"/grants/{grants[0].id}/revoke"
    assert (
        subject.post(revoke, data={"csrf_token": form["csrf_token"]}).headers["location"]
        == "/grants?done=revoked"
    )
    again = subject.post(revoke, data={"csrf_token": form["csrf_token"]})
    assert again.headers["location"] == "/grants?done=already"
    assert "already revoked: nothing changed" in subject.get(again.headers["location"]).text

    # switching off asks first (the what-if and the deletion); this is the confirmed form
    off = {"csrf_token": form["csrf_token"], "share": "off", "confirm": "yes"}
    assert subject.post("/sources/wallet", data=off).headers["location"].endswith("now=off")
    assert subject.post("/sources/wallet", data=off).headers["location"].endswith("now=already")

    for _ in range(2):
        subject.post("/lock", data={"csrf_token": form["csrf_token"], "action": "lock"})
    with web.engine.connect() as conn:
        assert registry.locked_since(conn, subject.person_id) is not None

    records = subject.get("/disputes").text
    ref = unquote(re.search(r'/disputes/new\?record_ref=([^"]+)"', records).group(1))
    dispute_form = subject.get("/disputes/new", params={"record_ref": ref}).text
    data = {
        "csrf_token": csrf(dispute_form),
        "once": once(dispute_form),
        "record_ref": ref,
        "reason": "not mine",
    }
    one, two = subject.post("/disputes", data=data), subject.post("/disputes", data=data)
    assert one.headers["location"] == two.headers["location"]
    fresh = subject.get("/disputes/new", params={"record_ref": ref})
    assert fresh.status_code in (200, 404)  # disputed rows may leave the list of records
    data["once"] = "another-submission"
    third = subject.post("/disputes", data=data)
    assert third.headers["location"] == "/disputes?done=already"
    with web.engine.connect() as conn:
        assert len(registry.list_disputes(conn, subject.person_id)) == 1


def test_validation_keeps_what_was_typed(web: WebWorld) -> None:
    subject = web.subject()
    web.partner()
    page = subject.get("/grants?partner_id=bikes").text
    answer = subject.post(
        "/grants",
        data={
            "csrf_token": csrf(page),
            "once": once(page),
            "partner_id": "bikes",
            "products": [],
            "purpose": "Not A Slug!",
            "scope": "decision",
            "expires_in_days": "9000",
        },
    )
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert "choose at least one" in answer.text
    assert "Choose what the grant is for." in answer.text  # a purpose is chosen, not typed
    assert 'value="9000"' in answer.text  # what was typed stays
    assert "Enter a whole number of days from 1 to 730." in answer.text


def test_our_own_errors_are_a_page_without_a_trace(
    web: WebWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openscore.web.routes import control

    subject = web.subject()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(control.account_service, "read_lock", broken)
    answer = subject.get("/lock")
    assert answer.status_code == 500
    assert "Something went wrong on our side" in answer.text
    assert "secret internals" not in answer.text and "Traceback" not in answer.text
    assert answer.headers["x-request-id"] in answer.text  # a reference to quote
    wrong_method = subject.delete("/dashboard")
    assert wrong_method.status_code == 405 and "GET" in wrong_method.headers["allow"]
    assert "Not available this way" in wrong_method.text


def test_an_erased_account_cannot_come_back(web: WebWorld) -> None:
    subject = web.subject()
    page = subject.get("/account").text
    refused = subject.post(
        "/account/delete",
        data={
            "csrf_token": csrf(page),
            "confirm": "erase my account",
            "password": "wrong one",
        },
    )
    assert refused.status_code == 403 and "nothing was deleted" in refused.text
    done = subject.post(
        "/account/delete",
        data={
            "csrf_token": csrf(page),
            "confirm": "Erase my account",
            "password": PASSWORD,
        },
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/goodbye?rows=")
    assert "Your account is deleted" in subject.get(done.headers["location"]).text
    with web.engine.connect() as conn:
        assert not registry.person_exists(conn, subject.person_id)
    assert subject.get("/dashboard").status_code == 303
