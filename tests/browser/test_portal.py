"""The subject portal in Chromium: what a person does, the way they do it.

Each test uses its own person of the browser world (``tests/fixtures/browser.py``), so
the tests do not depend on each other's order, asserts what the page says, and saves a
screenshot under ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timedelta

import pytest

from fixtures.browser import BrowserWorld, log_in, shot

pytestmark = pytest.mark.browser

SCORE_HEADING = re.compile(r"Score (\d+), band ([a-z ]+)")


def current_score(page) -> tuple[int, str]:
    heading = page.get_by_role("heading", name=SCORE_HEADING).inner_text()
    match = SCORE_HEADING.search(heading)
    assert match, heading
    return int(match.group(1)), match.group(2)


def test_sign_up_log_out(page, browser_world: BrowserWorld) -> None:
    login = f"newcomer-{secrets.token_hex(3)}@browser.test"
    page.goto("/")
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Password again").fill("a long enough passwort")
    page.get_by_role("button", name="Create my account").click()
    alert = page.get_by_role("alert")
    assert "The two passwords are not the same" in alert.inner_text()
    assert page.get_by_label("Login").input_value() == login  # what was typed is kept
    shot(page, "01-sign-up-mistake")

    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_label("Password again").fill("a long enough password")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/dashboard?welcome=1")
    assert "Welcome" in page.get_by_role("status").first.inner_text()
    # nothing on file: no invented score, no radar, and what would make them scorable
    assert page.get_by_role("heading", name="Not enough data to score").is_visible()
    assert page.get_by_role("heading", name=SCORE_HEADING).count() == 0
    assert page.get_by_role("img", name="Your five dimensions").count() == 0
    assert "What would make you scorable" in page.locator("main").inner_text()
    assert page.get_by_text(f"Signed in as {login}").is_visible()
    shot(page, "02-sign-up-dashboard")

    # a lender asks for a personal loan: declined for not enough data, never approved
    answer = _partner_decision(browser_world, login, "personal_loan")
    assert answer["outcome"] == "decline" and answer["approved"] is False
    assert [r["code"] for r in answer["reasons"]] == ["not_enough_data"]
    page.get_by_role("link", name="Decisions").first.click()
    decisions = page.locator("main").inner_text()
    assert "Not enough data to score" in decisions and "Declined" in decisions
    shot(page, "02b-new-account-loan-declined")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login?bye=1")
    assert "You are logged out" in page.get_by_role("status").inner_text()
    page.goto("/dashboard")
    page.wait_for_url("**/login?next=%2Fdashboard*")


def _partner_decision(world: BrowserWorld, login: str, product: str) -> dict:
    """City Bikes, under a grant the person gives it now, asks for a decision."""
    from datetime import UTC

    import httpx

    from openscore import registry
    from openscore.registry import create_registry_engine

    engine = create_registry_engine(
        world.settings.resolved_registry_url, secret_key=world.settings.secret_key
    )
    with engine.begin() as conn:
        person_id = registry.verify_password(conn, login, "a long enough password")
        bikes = next(p for p in registry.list_partners(conn) if p.name == "City Bikes")
        grant = registry.create_grant(
            conn,
            person_id,
            partner_id=bikes.id,
            products=[product],
            purpose="credit",
            expires_at=datetime.now(UTC) + timedelta(days=30),
            actor="subject",
        )
    engine.dispose()
    answer = httpx.post(
        f"{world.url}/v1/decisions",
        headers={"Authorization": f"Bearer {world.demo['partner_key']}"},
        json={
            "grant_id": grant.id,
            "person_id": person_id,
            "product_id": product,
            "purpose": "credit",
        },
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_log_in_and_dashboard(page, browser_world: BrowserWorld) -> None:
    person = browser_world.login("high scorer")
    page.goto("/dashboard")
    page.wait_for_url("**/login?next=%2Fdashboard")  # not signed in: to the log-in, then back
    page.get_by_label("Login").fill(person["login"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    wrong = page.get_by_role("alert").inner_text()
    assert "The login or the password is not right" in wrong
    page.get_by_label("Login").fill("nobody-at-all@browser.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == wrong  # unknown login: same answer
    shot(page, "03-log-in-wrong-password")

    page.get_by_label("Login").fill(person["login"])
    page.get_by_label("Password").fill(person["password"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard")
    score, band = current_score(page)
    assert band == "excellent" and score >= 700
    assert page.get_by_role("img", name=re.compile(rf"^Score {score}")).is_visible()
    assert page.get_by_role("img", name="Your five dimensions").is_visible()
    assert page.get_by_role("img", name="Your score over time").is_visible()
    reasons = page.locator(".reasons li")
    assert reasons.count() >= 1
    assert "What would help:" in reasons.first.inner_text()
    assert re.search(r"Computed .* by model \S+", page.locator("p.lead").inner_text())
    shot(page, "04-dashboard")

    page.get_by_role("link", name="Who looked").click()
    row = page.get_by_role("row", name=re.compile("City Bikes"))
    assert "deposit waiver" in row.inner_text()
    row.get_by_role("link", name=re.compile("Details and proof")).click()
    assert "Verified" in page.locator(".notice.success").inner_text()
    shot(page, "05-who-looked-proof")


def test_turn_a_source_off(page, browser_world: BrowserWorld) -> None:
    log_in(page, browser_world, "switcher")
    before, _ = current_score(page)
    page.get_by_role("link", name="Data sources").click()
    switch = page.get_by_role("switch", name=re.compile("Loans and cards"))
    assert switch.get_attribute("aria-checked") == "true"
    switch.click()
    # first what would happen: the what-if prediction and that the records are deleted
    assert page.get_by_role("heading", name="Stop sharing Loans and cards?").is_visible()
    deleted = page.locator("#off-deleted").inner_text()
    assert re.search(r"\d+ records? of Loans and cards will be deleted", deleted), deleted
    assert "does not bring them back" in deleted
    predicted = page.locator("#off-prediction").inner_text()
    shot(page, "06a-source-off-confirm")
    page.get_by_role("button", name="Stop sharing and delete the records").click()
    page.wait_for_url("**/sources?changed=credit&now=off")
    notice = page.get_by_role("status").inner_text()
    assert "You stopped sharing Loans and cards" in notice
    after = int(re.search(r"went from \d+ to (\d+)", notice).group(1))
    assert after != before
    assert f"to {after}" in predicted  # the prediction was the score it then got
    switch = page.get_by_role("switch", name=re.compile("Loans and cards"))
    assert switch.get_attribute("aria-checked") == "false"
    shot(page, "06-source-off")

    page.get_by_role("link", name="My score", exact=True).click()
    score, _ = current_score(page)
    assert score == after
    change = page.locator(".gauge-card").inner_text()
    assert f"Since the previous score ({before}" in change
    assert ("down" if after < before else "up") + f" {abs(after - before)} point" in change
    shot(page, "07-dashboard-after-source-off")


def test_revoke_a_grant(page, browser_world: BrowserWorld) -> None:
    log_in(page, browser_world, "high scorer")
    page.get_by_role("link", name="Grants").click()
    active = page.get_by_role("region", name="Active grants")
    assert "City Bikes" in active.inner_text()
    active.get_by_role("button", name=re.compile("Revoke the grant to City Bikes")).click()
    page.wait_for_url("**/grants?done=revoked")
    assert "The grant is revoked" in page.get_by_role("status").inner_text()
    assert (
        "No partner may ask about you right now"
        in page.get_by_role("region", name="Active grants").inner_text()
    )
    past = page.get_by_role("region", name="Past grants").inner_text()
    assert "City Bikes" in past and "Revoked" in past
    shot(page, "08-grant-revoked")


def test_what_if(page, browser_world: BrowserWorld) -> None:
    log_in(page, browser_world, "whatif")
    published, _ = current_score(page)
    page.get_by_role("link", name="What if").click()
    page.get_by_label(re.compile("Payments 30 or more days late")).fill("6")
    page.get_by_label("Wallet payments", exact=True).uncheck()
    page.get_by_role("button", name="Show the score").click()
    result = page.get_by_role("region", name="The score you would get")
    text = result.inner_text()
    assert re.search(r"Your score computed now is \d+", text), text
    assert result.get_by_role("img", name=re.compile(r"^Score \d+: ")).is_visible()
    assert re.search(r"this would be (down|up) \d+ points?|unchanged", text)
    assert (
        page.get_by_label("Wallet payments", exact=True).is_checked() is False
    )  # the form keeps it
    assert page.get_by_role("heading", name="Reasons with these values").is_visible()
    shot(page, "09-what-if")

    page.get_by_role("link", name="My score", exact=True).click()
    assert current_score(page)[0] == published  # nothing was stored or published

    # the plan, linked from the dashboard, and the grants form, at a phone's width
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="See your plan to the next band").click()
    page.wait_for_url("**/plan")
    main = page.locator("main").inner_text()
    assert "My plan" in main
    rows = page.locator("table.plan-steps tbody tr")
    if rows.count():
        assert re.search(r"From \d+ to \d+: .+ in \d+ months?", main), main
        assert re.search(r"\+\d+", rows.first.locator('[data-label="Points"]').inner_text())
    else:
        assert "No plan" in main, main
    shot(page, "09b-plan-390")
    page.goto("/grants")
    page.get_by_label("Partner").select_option(label="City Bikes")
    page.get_by_role("button", name="Show its products").click()
    offered = page.get_by_role("group", name="Products City Bikes offers").inner_text()
    assert "Deposit-free bike" in offered and "Personal loan" not in offered
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "09c-grant-products-390")
    for path in ("/plan", "/whatif?run=1&keep=wallet&share=social&share=rentals"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    shot(page, "09d-whatif-share-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_file_a_dispute(page, browser_world: BrowserWorld) -> None:
    log_in(page, browser_world, "disputer")
    page.get_by_role("link", name="Disputes").click()
    records = page.get_by_role("region", name="Records from the sources you share")
    records.get_by_role("link", name=re.compile("^Dispute")).first.click()
    page.wait_for_url(re.compile(r".*/disputes/new\?record_ref=.+"))
    page.get_by_role("button", name="File the dispute").click()  # no reason yet
    assert "What is wrong" in page.get_by_role("alert").inner_text()
    page.get_by_label("What is wrong with this record?").fill("This payment was never late.")
    page.get_by_role("button", name="File the dispute").click()
    page.wait_for_url(re.compile(r".*/disputes/[0-9a-f]{32}\?done=filed$"))
    assert "Your dispute is filed" in page.get_by_role("status").inner_text()
    body = page.locator("main").inner_text()
    assert "Open: being looked at" in body
    due = re.search(r"Answer due by\s+(\d{1,2} \w{3} \d{4})", body).group(1)
    filed = re.search(r"Filed\s+(\d{1,2} \w{3} \d{4})", body).group(1)
    assert datetime.strptime(due, "%d %b %Y") - datetime.strptime(filed, "%d %b %Y") == (
        timedelta(days=30)
    )
    shot(page, "10-dispute-filed")
    page.get_by_role("link", name="My records and disputes").click()
    assert "This payment was never late" not in page.locator("main").inner_text()
    assert page.get_by_role("region", name="My disputes").get_by_text("Open").is_visible()


def test_download_my_data(page, browser_world: BrowserWorld) -> None:
    log_in(page, browser_world, "thin file")
    page.get_by_role("link", name="My data").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download my data (JSON)").click()
    download = info.value
    assert download.suggested_filename.endswith(".json")
    document = json.loads(open(download.path(), encoding="utf-8").read())
    person = browser_world.login("thin file")["person_id"]
    assert document["format"] == "openscore.export.v1"
    assert document["person_id"] == person
    assert document["ledger"] and all(row["person_id"] == person for row in document["ledger"])
    assert document["score_history"]
    shot(page, "11-my-data")


def test_delete_my_account(page, browser_world: BrowserWorld) -> None:
    person = browser_world.login("eraser")
    log_in(page, browser_world, "eraser")
    page.get_by_role("link", name="My data").click()
    page.get_by_label(re.compile("to confirm")).fill("delete it")
    page.get_by_label("Your password").fill(person["password"])
    page.get_by_role("button", name="Delete my account and all my data").click()
    assert "erase my account" in page.get_by_role("alert").inner_text()
    shot(page, "12-delete-confirmation")

    page.get_by_label(re.compile("to confirm")).fill("erase my account")
    page.get_by_label("Your password").fill(person["password"])
    page.get_by_role("button", name="Delete my account and all my data").click()
    page.wait_for_url("**/goodbye?rows=*")
    assert page.get_by_role("heading", name="Your account is deleted").is_visible()
    shot(page, "13-account-deleted")

    page.goto("/dashboard")
    page.wait_for_url("**/login?*")
    page.get_by_label("Login").fill(person["login"])
    page.get_by_label("Password").fill(person["password"])
    page.get_by_role("button", name="Log in").click()
    assert "The login or the password is not right" in page.get_by_role("alert").inner_text()


def test_keyboard_only(page, browser_world: BrowserWorld) -> None:
    """Log in and switch a source with the keyboard alone; the skip link comes first."""
    person = browser_world.login("whatif")
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    page.get_by_label("Login").focus()
    page.keyboard.type(person["login"])
    page.keyboard.press("Tab")
    page.keyboard.type(person["password"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/dashboard")
    page.goto("/sources")
    switch = page.get_by_role("switch", name=re.compile("Connections"))
    switch.focus()
    outline = switch.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"  # the focus is visible
    shot(page, "14-keyboard-focus")
    page.keyboard.press("Space")
    # first the honest confirmation (what-if and deletion), confirmed from the keyboard too
    page.wait_for_url("**/sources/social")
    page.get_by_role("button", name="Stop sharing and delete the records").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/sources?changed=social*")
    assert (
        page.get_by_role("switch", name=re.compile("Connections")).get_attribute("aria-checked")
        == "false"
    )
