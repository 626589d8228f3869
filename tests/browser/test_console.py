"""The operator console in Chromium, and a tour of every page (portal and console) that
checks what any page must have: a title, one main landmark, a skip link, no request to
another host, no error in the browser's console (a Content-Security-Policy violation is
one), every form field labelled."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from fixtures.browser import BrowserWorld, log_in, shot

pytestmark = pytest.mark.browser


def console_log_in(page, world: BrowserWorld) -> None:
    page.goto("/console")
    page.wait_for_url("**/console/login?next=%2Fconsole")
    page.get_by_label("Operator API key").fill(world.operator_key)
    page.get_by_role("button", name="Open the console").click()
    page.wait_for_url(re.compile(r".*/console$"))


def test_operator_log_in_refuses_a_wrong_key(page, browser_world: BrowserWorld) -> None:
    page.goto("/console/login")
    page.get_by_label("Operator API key").fill(browser_world.demo["partner_key"])
    page.get_by_role("button", name="Open the console").click()
    assert "not a valid operator key" in page.get_by_role("alert").inner_text()
    page.goto("/console/disputes")
    page.wait_for_url("**/console/login?next=%2Fconsole%2Fdisputes")


def test_operator_resolves_a_dispute(page, browser_world: BrowserWorld) -> None:
    console_log_in(page, browser_world)
    overview = page.get_by_role("region", name="Disputes").inner_text()
    assert re.search(r"[1-9]\d* open", overview), overview
    page.get_by_role("navigation", name="Operator console").get_by_role(
        "link", name="Disputes"
    ).click()
    person = browser_world.open_dispute_person
    row = page.get_by_role("row", name=re.compile(re.escape(person)))
    assert "I paid this on time" in row.inner_text()
    row.get_by_role("link", name=re.compile("Investigate")).click()
    assert page.get_by_role("region", name="The record").is_visible()
    page.get_by_role("button", name="Close the dispute").click()  # nothing chosen yet
    assert "Choose resolved or rejected" in page.get_by_role("alert").inner_text()
    shot(page, "20-console-dispute")
    page.get_by_label(re.compile("^Resolved")).check()
    page.get_by_label("What to tell the person").fill(
        "The bank confirmed the payment was on time; the record is removed."
    )
    # resolving rewrites the ledger, rescores and records the correction notices
    page.get_by_role("button", name="Close the dispute").click(timeout=90_000)
    page.wait_for_url("**/console/disputes?done=resolved", timeout=90_000)
    assert (
        "The dispute is resolved and the record removed" in page.get_by_role("status").inner_text()
    )
    assert person not in page.locator("main table").all_inner_texts().__str__()
    page.get_by_role("link", name="Resolved").click()
    assert page.get_by_role("row", name=re.compile(re.escape(person))).is_visible()
    shot(page, "21-console-dispute-resolved")

    # The person sees the answer, and that the operator read the record.
    page.goto("/login")
    who = next(k for k, v in browser_world.people.items() if v["person_id"] == person)
    log_in(page, browser_world, who)
    page.goto("/disputes")
    page.get_by_role("region", name="My disputes").get_by_role(
        "link", name=re.compile("Follow")
    ).click()
    body = page.locator("main").inner_text()
    assert "Resolved: the record was corrected" in body
    assert "The bank confirmed" in body
    # the partner that decided about the person was sent a correction notice, shown here
    notices = page.get_by_role("region", name="Partners told of the correction").inner_text()
    assert "City Bikes" in notices and "bike decision" in notices
    shot(page, "22-portal-dispute-correction-notice")
    page.goto("/inquiries")
    assert "dispute investigation" in page.locator("main").inner_text()


PORTAL_PAGES = (
    "/dashboard",
    "/sources",
    "/inquiries",
    "/grants",
    "/lock",
    "/whatif",
    "/whatif?run=1&utilisation=85&late_payments=1&keep=wallet&keep=credit",
    "/plan",
    "/decisions",
    "/disputes",
    "/account",
    "/how-it-works",
)
CONSOLE_PAGES = (
    "/console",
    "/console/ingestion",
    "/console/model",
    "/console/scores",
    "/console/fairness",
    "/console/map",
    "/console/disputes",
    "/console/reviews",
    "/console/partners",
    "/console/enrolment",
    "/console/audit",
)
PUBLIC_PAGES = ("/", "/login", "/signup", "/console/login", "/no-such-page")


def _check_page(page, path: str, base: str, errors: list[str]) -> None:
    assert page.title().endswith("· openscore"), (path, page.title())
    assert page.locator("main#main").count() == 1, path
    assert page.locator("h1").count() == 1, path
    assert page.get_by_role("link", name="Skip to main content").count() == 1, path
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
             .filter(el => !el.labels || el.labels.length === 0)
             .filter(el => !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
             .map(el => el.name || el.id)"""
    )
    assert not unlabelled, (path, unlabelled)
    outside = [
        u for u in page.requests_seen if urlsplit(u).netloc not in ("", urlsplit(base).netloc)
    ]
    assert not outside, (path, outside)
    assert not errors, (path, errors)


def test_tour_of_every_page(page, browser_world: BrowserWorld, live_app: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def visit(path: str, name: str) -> None:
        errors.clear()
        response = page.goto(path)
        assert response is not None
        if path != "/no-such-page":
            assert response.status == 200, (path, response.status)
        else:
            assert response.status == 404
            # a missing favicon or the like would show as an error: only the page may 404
            errors[:] = [e for e in errors if "404" not in e]
        _check_page(page, path, live_app, errors)
        shot(page, name)

    for i, path in enumerate(PUBLIC_PAGES):
        visit(path, f"30-public-{i:02d}-{path.strip('/').replace('/', '-') or 'home'}")
    log_in(page, browser_world, "public record")
    for i, path in enumerate(PORTAL_PAGES):
        name = re.sub(r"[^a-z0-9]+", "-", path.strip("/"))[:40]
        visit(path, f"31-portal-{i:02d}-{name}")
    console_log_in(page, browser_world)
    for i, path in enumerate(CONSOLE_PAGES):
        name = re.sub(r"[^a-z0-9]+", "-", path.strip("/"))[:40]
        visit(path, f"32-console-{i:02d}-{name}")
