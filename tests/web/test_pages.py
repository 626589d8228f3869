"""Every page renders, for the right visitor, with the basics every page must have, and
nothing on any page points at another host."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from web.world import HOST, WebWorld, csrf

PUBLIC = ("/", "/how-it-works", "/login", "/signup", "/console/login")
PORTAL = (
    "/dashboard",
    "/sources",
    "/inquiries",
    "/grants",
    "/lock",
    "/whatif",
    "/whatif?run=1&utilisation=85&late_payments=2&keep=wallet",
    "/plan",
    "/decisions",
    "/disputes",
    "/account",
    "/notifications",
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
    "/console/audit",
)
#: An absolute URL anywhere in a page (attribute, text, inline SVG).
URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)


def outside_hosts(html: str) -> list[str]:
    """Absolute or protocol-relative URLs whose host is not the app's."""
    found = []
    for match in URL.finditer(html):
        text = match.group(0)
        if text.startswith("//") and not re.match(r"//[A-Za-z0-9.-]+\.[A-Za-z]", text):
            continue  # a "//" that is not a host (a comment, a path)
        if urlsplit(text if "://" in text else "http:" + text).hostname != HOST:
            found.append(text)
    return found


class _Landmarks(HTMLParser):
    """Counts what a page must have and finds form fields without a label."""

    def __init__(self) -> None:
        super().__init__()
        self.main = self.h1 = self.skip = 0
        self.labels: set[str] = set()
        self.fields: list[tuple[str, dict[str, str | None]]] = []
        self.lang = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "main":
            self.main += 1
        if tag == "h1":
            self.h1 += 1
        if tag == "a" and a.get("href") == "#main":
            self.skip += 1
        if tag == "label" and a.get("for"):
            self.labels.add(a["for"] or "")
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.fields.append((tag, a))


def check_page(path: str, html: str) -> None:
    assert not outside_hosts(html), (path, outside_hosts(html))
    assert "Traceback" not in html and 'File "' not in html, path
    page = _Landmarks()
    page.feed(html)
    assert page.lang == "en", path
    assert page.main == 1 and page.h1 == 1 and page.skip == 1, (path, page.main, page.h1)
    for tag, attrs in page.fields:
        labelled = (
            attrs.get("id") in page.labels
            or attrs.get("aria-label")
            or attrs.get("aria-labelledby")
        )
        assert labelled, (path, tag, attrs)


def _reports(world: WebWorld) -> None:
    """A fairness report and a city map release as their jobs publish them."""
    base = world.data_dir / "reports"
    fairness = base / "fairness" / "20260701T120000Z-abcd"
    fairness.mkdir(parents=True)
    (fairness / "fairness.json").write_text(
        json.dumps(
            {
                "generated_at": "2026-07-01T12:00:00+00:00",
                "model": {"id": "expert-v1"},
                "headline": {
                    "lowest_approval_ratio": {
                        "600": {
                            "attribute": "sex",
                            "ratio": 0.91,
                            "lowest_group": "f",
                            "highest_group": "m",
                        },
                    },
                    "four_fifths_failures": [],
                },
                "charts": {"approval": {"svg": "approval.svg", "png": "approval.png"}},
            }
        )
    )
    (fairness / "fairness.md").write_text(
        "# Fairness\n\n| group | ratio |\n|---|---|\n| f | 0.91 |\n\n"
        "![approval](approval.png) [outside](https://example.com/x) <script>x</script>\n"
    )
    (fairness / "approval.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="5" '
        'height="5"/></svg>'
    )
    (base / "fairness" / "latest").write_text(fairness.name + "\n")
    city_map = base / "map" / "20260701T120000Z-beef"
    city_map.mkdir(parents=True)
    (city_map / "release.json").write_text(
        json.dumps(
            {
                "release": "map-20260701T120000Z-beef",
                "cities": 3,
                "cities_published": 2,
                "parameters": {"epsilon": 1.0, "k": 20, "mechanism": "discrete Laplace"},
            }
        )
    )
    (city_map / "cities.json").write_text(
        json.dumps(
            [
                {
                    "city": "Hangzhou",
                    "size_band": "large",
                    "published": True,
                    "people": 120,
                    "mean_score": 641.5,
                    "mean_score_margin": 4.2,
                },
                {
                    "city": "Ningbo",
                    "size_band": "medium",
                    "published": True,
                    "people": 44,
                    "mean_score": 618.0,
                    "mean_score_margin": 9.9,
                },
                {
                    "city": "Tiny",
                    "size_band": "small",
                    "published": False,
                    "people": None,
                    "mean_score": None,
                },
            ]
        )
    )
    (city_map / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    (base / "map" / "latest").write_text(city_map.name)


def test_every_page(web: WebWorld) -> None:
    anonymous = web.client()
    for path in PUBLIC:
        answer = anonymous.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        check_page(path, answer.text)
    subject = web.subject()
    for path in PORTAL:
        answer = subject.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        assert answer.headers["content-type"].startswith("text/html")
        check_page(path, answer.text)
    _reports(web)
    operator = web.operator()
    for path in CONSOLE:
        answer = operator.get(path)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])
        check_page(path, answer.text)
    fairness = operator.get("/console/fairness").text
    assert "approval.svg" in fairness and "no per-attribute figures" in fairness
    assert "&lt;script&gt;" in fairness and "<script>x" not in fairness
    city_map = operator.get("/console/map").text
    assert "Hangzhou" in city_map and "641.5" in city_map and "1 cities suppressed" in city_map


def test_page_headers_and_the_api_stays_json(web: WebWorld) -> None:
    client = web.client()
    page = client.get("/how-it-works")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["referrer-policy"] == "same-origin"  # or Chromium sends Origin: null
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    api = client.get("/v1/no-such-route")
    assert api.status_code == 404 and api.headers["content-type"] == "application/json"
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Page not found" in missing.text
    schema = client.get("/openapi.json").json()
    assert all(p.startswith("/v1") for p in schema["paths"]), "pages are not API routes"


def test_static_files_have_no_outside_host(web: WebWorld) -> None:
    from openscore.web.render import STATIC_DIR

    client = web.client()
    for path in sorted(p for p in Path(STATIC_DIR).rglob("*") if p.is_file()):
        answer = client.get(f"/static/{path.relative_to(STATIC_DIR).as_posix()}")
        assert answer.status_code == 200, path
        text = answer.text
        # A namespace declaration names a spec, it loads nothing; everything else must.
        text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not outside_hosts(text), (path.name, outside_hosts(text))
        assert "@import" not in text and "url(http" not in text


def test_dashboard_says_when_and_which_model(web: WebWorld) -> None:
    subject = web.subject()
    page = subject.get("/dashboard").text
    assert re.search(r"Score \d{3}, band (poor|fair|good|very good|excellent)", page)
    assert "Computed " in page and "by model <code>" in page
    assert page.count('role="img"') >= 3  # gauge, radar, history
    assert "What would help:" in page


def test_what_if_changes_nothing(web: WebWorld) -> None:
    subject = web.subject()
    before = subject.get("/dashboard").text
    page = subject.get("/whatif?run=1&late_payments=9&keep=credit").text
    assert "The score you would get" in page and "Your score computed now is" in page
    assert subject.get("/dashboard").text.count("Since the previous score") == before.count(
        "Since the previous score"
    )
    bad = subject.get("/whatif?run=1&late_payments=lots").text
    assert "Enter a number, or leave it empty to keep yours." in bad


def test_how_it_works_names_weights_exclusions_and_retention(web: WebWorld) -> None:
    page = web.client().get("/how-it-works").text
    for text in (
        "Credit history",
        "35 %",
        "25 %",
        "20 %",
        "15 %",
        "5 %",
        "religion",
        "5 years",
        "30 days",
        "Public records",
    ):
        assert text in page, text


def test_signup_then_log_out(web: WebWorld) -> None:
    client = web.client()
    form = client.get("/signup").text
    answer = client.post(
        "/signup",
        data={
            "csrf_token": csrf(form),
            "login": "ada@example.org",
            "password": "a long enough password",
            "password_again": "a long enough password",
        },
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/dashboard?welcome=1"
    page = client.get("/dashboard?welcome=1").text
    assert "Welcome" in page and "Signed in as <strong>ada@example.org</strong>" in page
    other = web.client()
    taken = other.post(
        "/signup",
        data={
            "csrf_token": csrf(other.get("/signup").text),
            "login": "ADA@example.org",
            "password": "a long enough password",
            "password_again": "a long enough password",
        },
    )
    assert taken.status_code == 409 and "This login is taken" in taken.text
    assert 'value="ADA@example.org"' in taken.text  # what was typed is kept
    out = client.post("/logout", data={"csrf_token": csrf(page)})
    assert out.status_code == 303 and out.headers["location"] == "/login?bye=1"
    assert client.get("/dashboard").status_code == 303


def test_an_inquiry_page_says_when_its_entry_is_still_queued(web: WebWorld) -> None:
    from datetime import UTC, datetime, timedelta

    from openscore import registry
    from openscore.registry import sequencer

    subject = web.subject()
    partner = web.partner()
    with web.engine.begin() as conn:
        grant = registry.create_grant(
            conn,
            subject.person_id,
            partner_id=partner,
            products=["bike"],
            purpose="deposit_waiver",
            expires_at=datetime.now(UTC) + timedelta(days=30),
            actor="subject",
        )
        _, inquiry = registry.record_answered_decision(
            conn,
            registry.usable_grant(conn, partner_id=partner, grant_id=grant.id, product_id="bike"),
            product_id="bike",
            outcome="approve",
            terms={},
            reasons=[],
            answer={"approved": True},
            actor=f"partner:{partner}",
        )
    queued = subject.get(f"/inquiries/{inquiry.id}")
    assert queued.status_code == 200
    assert "being added to the tamper-evident audit log" in queued.text
    with web.engine.begin() as conn:
        sequencer.integrate(conn)
    proved = subject.get(f"/inquiries/{inquiry.id}").text
    assert "Verified: this inquiry is entry" in proved
