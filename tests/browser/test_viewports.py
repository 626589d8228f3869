"""Every page on a phone (390x844) and a laptop (1280x900): no sideways scroll.

One browser context per role (visitor, a persona subject, the operator) and viewport,
reused across that role's pages. A page passes when the document is no wider than the
window; a failure names the page and the widest element that sticks out. Every page is
saved as ``tests/browser/artifacts/vp-<viewport>-<page>.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from fixtures.browser import BrowserWorld, log_in, shot

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": (390, 844), "laptop": (1280, 900)}

PUBLIC = ("/", "/how-it-works", "/city-map", "/verify", "/login", "/signup")
PORTAL = (
    "/dashboard",
    "/sources",
    "/grants",
    "/inquiries",
    "/decisions",
    "/disputes",
    "/whatif",
    "/whatif?run=1&utilisation=85&late_payments=1&keep=wallet&keep=credit",
    "/plan",
    "/notifications",
    "/lock",
    "/account",
    "/prove",
)
CONSOLE = (
    "/console",
    "/console/ingestion",
    "/console/model",
    "/console/scores",
    "/console/fairness",
    "/console/map",
    "/console/disputes",
    "/console/disputes?status=resolved",
    "/console/reviews",
    "/console/partners",
    "/console/enrolment",
    "/console/audit",
)

#: The page's width against the window's, and the widest element past the right edge
#: that no scrolling box clips (an absolutely positioned element escapes every clipping
#: ancestor that is not positioned: a visually hidden label in a scrolled table does).
OVERFLOW = """() => {
  const limit = window.innerWidth;
  const width = document.documentElement.scrollWidth;
  const clipped = (el) => {
    const escapes = ['absolute', 'fixed'].includes(getComputedStyle(el).position);
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.overflowX !== 'visible' && (!escapes || style.position !== 'static')) return true;
    }
    return false;
  };
  let widest = null;
  let right = limit;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > right + 0.5 && !clipped(el)) {
      right = box.right;
      const id = el.id ? '#' + el.id : '';
      const cls = typeof el.className === 'string' && el.className.trim()
        ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
      const text = (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
      const tag = el.tagName.toLowerCase();
      widest = `<${tag}${id}${cls}> to ${Math.round(box.right)} px ("${text}")`;
    }
  }
  return {width, limit, widest};
}"""


def _name(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.strip("/").lower())[:48].strip("-") or "home"


class Tour:
    """Visits pages in one context and collects what overflows."""

    def __init__(self, page: Any, viewport: str) -> None:
        self.page = page
        self.viewport = viewport
        self.failures: list[str] = []
        self.seen: list[str] = []

    def check(self, label: str) -> None:
        found = self.page.evaluate(OVERFLOW)
        self.seen.append(label)
        shot(self.page, f"vp-{self.viewport}-{_name(label)}")
        if found["width"] > found["limit"]:
            self.failures.append(
                f"{label} at {self.viewport}: {found['width']} px wide in a "
                f"{found['limit']} px window; widest: {found['widest']}"
            )

    def visit(self, path: str, label: str | None = None) -> None:
        response = self.page.goto(path)
        assert response is not None and response.status == 200, (path, response)
        self.check(label or path)


@pytest.fixture(params=list(VIEWPORTS))
def context(request: pytest.FixtureRequest, chromium: Any, live_app: str) -> Any:
    width, height = VIEWPORTS[request.param]
    made = chromium.new_context(base_url=live_app, viewport={"width": width, "height": height})
    made.set_default_timeout(15_000)
    made.viewport_name = request.param
    yield made
    made.close()


#: Pages reached from a listing: (listing, link text, label of the page it opens).
DETAILS = (
    ("/inquiries", re.compile("Details and proof"), "/inquiries/{id}"),
    ("/decisions", re.compile("Details"), "/decisions/{id}"),
    ("/disputes", re.compile("^Dispute"), "/disputes/new"),
    ("/disputes", re.compile("^Follow"), "/disputes/{id}"),
    ("/console/disputes", re.compile("Investigate"), "/console/disputes/{id}"),
    ("/console/partners", re.compile("City Bikes"), "/console/partners/{id}"),
    ("/console/reviews", re.compile("^(Review|Details)"), "/console/reviews/{id}"),
    (
        "/console/ingestion",
        re.compile("rejected lines", re.I),
        "/console/ingestion/{id}/rejections",
    ),
)


def _tour(tour: Tour, paths: tuple[str, ...]) -> dict[str, str]:
    """Visit ``paths``, then the detail pages their links lead to; label -> href."""
    found: dict[str, str] = {}
    for path in paths:
        tour.visit(path)
        for listing, text, label in DETAILS:
            if listing == path:
                links = tour.page.locator("main a").filter(has_text=text)
                if links.count():
                    found[label] = links.first.get_attribute("href")
    for label, href in found.items():
        tour.visit(href, label)
    return found


def test_every_page_fits_a_phone_and_a_laptop(context: Any, browser_world: BrowserWorld) -> None:
    page = context.new_page()
    tour = Tour(page, context.viewport_name)
    _tour(tour, PUBLIC)

    log_in(page, browser_world, "high scorer")
    opened = _tour(tour, PORTAL)
    assert {"/inquiries/{id}", "/decisions/{id}", "/disputes/new"} <= set(opened), opened
    if "/disputes/{id}" not in opened:  # the first time round: file one, see its page
        page.goto(opened["/disputes/new"])
        page.get_by_label(re.compile("What is wrong")).fill("This payment was never mine.")
        page.get_by_role("button", name="File the dispute").click()
        page.wait_for_url(re.compile(r".*/disputes/[^/?]+\?done=filed"))
        tour.check("/disputes/{id}")
    # switching a source off: the confirmation step (not confirmed)
    page.goto("/sources")
    page.get_by_role("switch", checked=True).first.click()
    page.wait_for_load_state()
    assert "Stop sharing" in page.locator("h1").inner_text()
    tour.check("/sources/{source} (confirm off)")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login?bye=1")

    page.goto("/console/login")
    page.get_by_label("Operator API key").fill(browser_world.operator_key)
    page.get_by_role("button", name="Open the console").click()
    page.wait_for_url(re.compile(r".*/console$"))
    opened = _tour(tour, CONSOLE)
    assert {"/console/disputes/{id}", "/console/partners/{id}"} <= set(opened), opened

    assert len(tour.seen) >= len(PUBLIC) + len(PORTAL) + len(CONSOLE) + 5, tour.seen
    assert not tour.failures, "pages wider than the window:\n" + "\n".join(tour.failures)
