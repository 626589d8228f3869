"""The "prove my score" page and the public verification page, through the forms."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from openscore import registry
from openscore.registry import ScoreToPublish
from web.world import WebWorld, csrf

_TOKEN = re.compile(r'<textarea id="attestation-token" readonly rows="6">([^<]+)</textarea>')


def test_prove_then_anyone_checks_it(web: WebWorld) -> None:
    browser = web.subject(events=0)
    with web.engine.begin() as conn:
        registry.publish_score(
            conn,
            ScoreToPublish(browser.person_id, 681, {}, [], "m", datetime(2025, 9, 1, tzinfo=UTC)),
            actor="system",
        )
    page = browser.get("/prove")
    assert page.status_code == 200 and "<strong>681</strong>" in page.text
    # a claim the score does not support: refused on the page, with the reason
    refused = browser.post(
        "/prove", data={"csrf_token": csrf(page.text), "min_score": "700", "expires_in_days": "7"}
    )
    assert refused.status_code == 200
    assert "the current score 681 is below 700" in refused.text
    made = browser.post(
        "/prove",
        data={
            "csrf_token": csrf(page.text),
            "min_score": "650",
            "no_public_record": "yes",
            "expires_in_days": "7",
            "audience": "landlord",
        },
    )
    assert made.status_code == 200, made.text
    assert "<svg" in made.text and "Your statement is ready" in made.text
    token = html.unescape(_TOKEN.search(made.text).group(1))
    assert f"/verify#{token}" in html.unescape(made.text)

    anyone = web.client()
    assert anyone.get("/verify").status_code == 200
    ok = anyone.post("/verify", data={"token": token, "audience": "landlord"})
    assert "Valid" in ok.text and "the score is at least 650" in ok.text
    assert "681" not in ok.text  # not disclosed
    other = anyone.post("/verify", data={"token": token, "audience": "bank"})
    assert "Not valid" in other.text and "made out to" in html.unescape(other.text)
    tampered = token[:-5] + ("x" if token[-5] != "x" else "y") + token[-4:]
    assert "Not valid" in anyone.post("/verify", data={"token": tampered}).text

    # withdrawn from the page: the check now fails, saying why
    page = browser.get("/prove")
    (att_id,) = re.findall(r'action="/prove/([0-9a-f]{32})/revoke"', page.text)
    gone = browser.post(f"/prove/{att_id}/revoke", data={"csrf_token": csrf(page.text)})
    assert gone.status_code == 303
    again = anyone.post("/verify", data={"token": token, "audience": "landlord"})
    assert "withdrew" in again.text
    # issuing and both checks are in "who looked"
    looked = browser.get("/inquiries").text
    assert looked.count("attestation") >= 2


def test_the_console_shows_a_partners_webhook_and_deliveries(web: WebWorld) -> None:
    from openscore.registry import webhooks as store

    partner = web.partner("bikes")
    console = web.operator()
    page = console.get(f"/console/partners/{partner}")
    assert page.status_code == 200 and "No endpoint registered" in page.text
    with web.engine.begin() as conn:
        store.set_endpoint(conn, partner, "https://hooks.example.org/x")
        store.enqueue_event(conn, partner, "webhook.ping", {})
    page = console.get(f"/console/partners/{partner}")
    assert "https://hooks.example.org/x" in page.text
    assert "webhook.ping" in page.text and "pending" in page.text
    assert "whsec_" not in page.text  # the secret is the partner's only
