"""Records, inquiries and decisions read as sentences in the person's words: partner and
product names from the registry and the catalogue, days rather than ISO instants, amounts
in the catalogue's currency, record kinds in words; the raw JSON one click away."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from web.world import WebWorld, build_web_world

#: A catalogue whose currency is not the shipped one: the pages must follow it.
CATALOGUE = """\
schema_version: 1
currency: CNY
products:
  - id: bike
    name: Deposit-free bike
    kind: deposit_waiver
    min_score: 600
    unscorable: {treatment: deposit}
    deposit: 80
"""
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
ISO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+")


@pytest.fixture()
def world(tmp_path: Path, cheap_hashes: None) -> Iterator[WebWorld]:
    path = tmp_path / "catalogue.yaml"
    path.write_text(CATALOGUE)
    made = build_web_world(tmp_path / "data", catalogue_path=str(path))
    yield made
    made.engine.dispose()


def _visible(html: str) -> str:
    """The page's text outside the raw-JSON <details> and the tags' attributes."""
    html = re.sub(r"<details.*?</details>", " ", html, flags=re.S)
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r" ([,.:;)])", r"\1", text)


def _answered_decision(
    web: WebWorld, person_id: str, *, outcome: str, terms: dict, reasons: list | None = None
) -> tuple:
    from openscore import registry

    partner = web.partner()
    with web.engine.begin() as conn:
        grant = registry.create_grant(
            conn,
            person_id,
            partner_id=partner,
            products=["bike"],
            purpose="deposit-free-rentals",
            expires_at=datetime.now(UTC) + timedelta(days=30),
            actor="subject",
        )
        usable = registry.usable_grant(
            conn, partner_id=partner, grant_id=grant.id, product_id="bike"
        )
        decision, inquiry = registry.record_answered_decision(
            conn,
            usable,
            product_id="bike",
            outcome=outcome,
            terms=terms,
            reasons=reasons or [],
            answer={
                "product_id": "bike",
                "kind": "deposit_waiver",
                "outcome": outcome,
                "approved": outcome == "approve",
                "reasons": reasons or [],
                "band": "very_good",
                **terms,
            },
            actor=f"partner:{partner}",
        )
    return decision, inquiry


def test_inquiries_decisions_and_records_read_in_words(world: WebWorld) -> None:
    """One person (a login and an ingestion cost seconds): an approved inquiry, a
    declined decision, and the records page."""
    from openscore.web.vocabulary import day

    subject = world.subject()
    _inquiry_in_words(world, subject, day)
    _decision_in_currency(world, subject)
    _records_in_words(subject)


def _inquiry_in_words(world: WebWorld, subject, day) -> None:
    deposit = world.state.catalogue.get("bike").deposit
    _, inquiry = _answered_decision(
        world,
        subject.person_id,
        outcome="approve",
        terms={"threshold": 600, "deposit_waived": deposit, "deposit_due": 0},
    )
    listing = subject.get("/inquiries").text
    page = subject.get(f"/inquiries/{inquiry.id}").text
    for html in (listing, page):
        text = _visible(html)
        assert "City Bikes" in text and "Deposit-free bike" in text
        assert f"The deposit of ¥{deposit} is waived." in text
        assert "They also learned your band (very good)." in text
        assert day(inquiry.at) in text and re.search(r"\b\d{1,2} [A-Z][a-z]{2} \d{4}\b", text)
        assert not ISO_INSTANT.search(text), ISO_INSTANT.search(text)
        assert "code:" not in text and "; text:" not in text and "deposit_waived" not in text
        assert f'<time datetime="{inquiry.at.isoformat(timespec="seconds")}"' in html
    # the raw answer stays one click away
    details = re.search(r"<details>\s*<summary>Details</summary>(.*?)</details>", page, re.S)
    assert details and f'"deposit_waived": {deposit}' in details.group(1)


def _decision_in_currency(world: WebWorld, subject) -> None:
    deposit = world.state.catalogue.get("bike").deposit
    decision, _ = _answered_decision(
        world,
        subject.person_id,
        outcome="decline",
        terms={"threshold": 600, "deposit_waived": 0, "deposit_due": deposit},
        reasons=[{"code": "score_below_threshold", "text": "Your score is below 600."}],
    )
    listing = _visible(subject.get("/decisions").text)
    assert f"Declined, deposit due ¥{deposit}" in listing
    assert "City Bikes" in listing and "Deposit-free bike" in listing
    page = _visible(subject.get(f"/decisions/{decision.id}").text)
    assert f"Deposit due ¥{deposit}" in page
    assert "Score needed 600 or more" in page
    assert "Declined: Deposit-free bike" in page and "Your score is below 600." in page
    assert not ISO_INSTANT.search(page)


def _records_in_words(subject) -> None:
    from openscore.decisions.policy import RECORD_LABELS

    html = subject.get("/disputes").text
    text = _visible(html)
    # a public record by its kind's name, never its identifier
    assert RECORD_LABELS["court_judgment_default"].capitalize() in text
    assert not SNAKE.search(text), SNAKE.search(text)
    assert not ISO_INSTANT.search(text)
    assert "Furnisher a" in text  # furnisher-a has no partner name: one made from its id
    assert re.search(r"Paid [A-Z]{0,3}\s?[¥€$£]?[\d,.]+ (online|in person)\.", text)
    assert re.search(r"Instalment of [\d,.]+ due \d{1,2} [A-Z][a-z]{2} \d{4}", text)
    # every record's raw fields are one click away
    rows = html.count('data-label="What it says"')
    assert rows > 0 and html.count("<summary>Details</summary>") == rows


def test_money_and_record_words() -> None:
    from openscore.web.vocabulary import furnisher_name, money, record_kind, record_summary

    assert money(50, "CNY") == "¥50"
    assert money(1250.5, "CHF") == "CHF 1,250.50"
    assert money(None, "EUR") == "–"
    assert furnisher_name("synth-furnisher") == "Synth (data furnisher)"
    assert furnisher_name("bikes", {"bikes": "City Bikes"}) == "City Bikes"
    record = {
        "type": "credit_account",
        "fields": {"account_kind": "bnpl", "action": "opened", "credit_limit": 500.0},
    }
    assert record_kind(record) == "Buy now, pay later opened"
    assert record_summary(record) == "Buy now, pay later opened with a limit of 500."
    unpaid = {"type": "repayment", "fields": {"amount_due": 120.0, "due_date": "2026-06-03"}}
    assert record_summary(unpaid) == "Instalment of 120 due 3 Jun 2026: not paid."
