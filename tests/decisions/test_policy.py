"""``decide``: thresholds, terms, adverse-action reasons, and public records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openscore.decisions import (
    BELOW_THRESHOLD,
    ProductKind,
    PublicRecord,
    ScoreReason,
    decide,
    default_catalogue,
)
from openscore.domain import band_of
from openscore.errors import InputError

CATALOGUE = default_catalogue()
NOW = datetime(2025, 3, 1, tzinfo=UTC)
REASONS = [
    {"term": "utilisation", "reason": "Credit used is high", "improve": "Keep balances low"},
    ScoreReason(code="late_payments", text="Recent late payments"),
    {"code": "short_history", "text": "Short credit history"},
    {"code": "few_rentals", "text": "Few rentals returned"},
    {"code": "fifth", "text": "Never shown: four key factors at most"},
]
JUDGMENT = PublicRecord(
    "court_judgment_default", "Civil Procedure Act s.12", NOW + timedelta(days=400), "court/j1"
)


def _decide(product_id: str, score: int, records: list[PublicRecord] | None = None):  # type: ignore[no-untyped-def]
    return decide(CATALOGUE.get(product_id), score, band_of(score), REASONS, records or [], now=NOW)


@pytest.mark.parametrize(
    ("product_id", "threshold"),
    [
        ("bike", 600),
        ("power_bank", 550),
        ("umbrella", 550),
        ("room", 650),
        ("hotel", 650),
        ("car", 700),
        ("personal_loan", 600),
        ("health_check", 700),
    ],
)
def test_the_threshold_is_inclusive(product_id: str, threshold: int) -> None:
    assert _decide(product_id, threshold).outcome == "approve"
    assert _decide(product_id, 950).outcome == "approve"
    below = _decide(product_id, threshold - 1)
    assert below.outcome == "decline" and below.threshold == threshold
    assert below.reasons[0].code == BELOW_THRESHOLD
    assert "score below the product's threshold" in below.reasons[0].text
    assert f"{threshold - 1}" in below.reasons[0].text
    # then the score's own reasons, four at most, in the score's order
    assert [r.code for r in below.reasons[1:]] == [
        "utilisation",
        "late_payments",
        "short_history",
        "few_rentals",
    ]
    assert below.reasons[1].improve == "Keep balances low"


def test_deposit_waivers_waive_or_ask_for_the_deposit() -> None:
    approved, declined = _decide("bike", 640), _decide("bike", 520)
    assert (approved.deposit_waived, approved.deposit_due) == (50, 0)
    assert (declined.deposit_waived, declined.deposit_due) == (0, 50)
    assert approved.credit_line is None and approved.apr is None
    assert approved.terms() == {"threshold": 600, "deposit_waived": 50, "deposit_due": 0}
    assert approved.to_json()["reasons"] == []


def test_loans_price_by_band_and_size_by_score() -> None:
    good, very_good, excellent = (
        _decide("personal_loan", 610),
        _decide("personal_loan", 660),
        _decide("personal_loan", 760),
    )
    assert [d.rate_band for d in (good, very_good, excellent)] == [
        "good",
        "very_good",
        "excellent",
    ]
    assert good.apr > very_good.apr > excellent.apr  # type: ignore[operator]
    assert (good.credit_line, very_good.credit_line, excellent.credit_line) == (1000, 3000, 10000)
    assert good.deposit_waived is None
    declined = _decide("personal_loan", 580)
    assert declined.credit_line is None and declined.apr is None
    assert "credit_line" not in declined.terms()


@given(st.integers(350, 949))
def test_a_higher_score_never_gets_a_worse_answer(score: int) -> None:
    for product in CATALOGUE.products:
        low = decide(product, score, band_of(score), [], now=NOW)
        high = decide(product, score + 1, band_of(score + 1), [], now=NOW)
        assert not (low.approved and not high.approved), product.id
        if product.kind is ProductKind.LOAN and low.approved:
            assert high.credit_line >= low.credit_line  # type: ignore[operator]
            assert high.apr <= low.apr  # type: ignore[operator]


def test_a_live_public_record_declines_regardless_of_score_where_the_policy_says_so() -> None:
    for product_id in ("car", "personal_loan", "room"):
        decision = _decide(product_id, 950, [JUDGMENT])
        assert decision.outcome == "decline"
        assert [r.code for r in decision.reasons] == ["public_record:court_judgment_default"]
        text = decision.reasons[0].text
        assert "Civil Procedure Act s.12" in text and "whatever the score" in text
        assert "2026-04-05" in text  # until when
    # Products whose policy does not name the record ignore it.
    assert _decide("bike", 950, [JUDGMENT]).outcome == "approve"
    assert _decide("hotel", 950, [JUDGMENT]).outcome == "approve"
    # Tax arrears decline the loan but not the car.
    arrears = PublicRecord("tax_arrears", "Tax Code art. 7")
    assert _decide("personal_loan", 900, [arrears]).outcome == "decline"
    assert _decide("car", 900, [arrears]).outcome == "approve"


def test_a_record_and_a_low_score_give_both_reasons() -> None:
    decision = _decide("car", 640, [JUDGMENT])
    codes = [r.code for r in decision.reasons]
    assert codes[:2] == ["public_record:court_judgment_default", BELOW_THRESHOLD]
    assert decision.deposit_due == 1000


def test_an_expired_record_never_declines() -> None:
    expired = PublicRecord("court_judgment_default", "Civil Procedure Act", NOW - timedelta(days=1))
    assert _decide("car", 900, [expired]).outcome == "approve"


def test_inconsistent_input_is_refused() -> None:
    bike = CATALOGUE.get("bike")
    for score, band, field in ((640, "poor", "band"), (1000, "excellent", "score")):
        with pytest.raises(InputError) as err:
            decide(bike, score, band, [])
        assert err.value.field == field
    with pytest.raises(InputError) as err:
        decide(bike, 500, "poor", [{"text": "no code"}])
    assert err.value.field == "reasons[0]"
