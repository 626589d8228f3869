"""What the score means (issue 13): no number without enough data on any scoring path,
weights read from the model file, reasons in plain words, declines never citing missing
information, and products that must say what they do for unscorable people."""

from __future__ import annotations

import re

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.decisions import (
    NOT_ENOUGH_DATA,
    UnscorableTreatment,
    decide,
    default_catalogue,
    parse_catalogue,
)
from openscore.errors import InputError
from openscore.features import FEATURE_NAMES, FEATURES
from openscore.features.expert import expert_scorecard
from openscore.scoring import score_person, score_table
from openscore.scoring.eligibility import ScoringRule
from openscore.scoring.weights import dimension_weights

RULE = ScoringRule()
CARD = expert_scorecard()

#: a feature row of the ledger's features: each value missing or a plausible number
feature_values = st.fixed_dictionaries(
    {
        name: st.one_of(st.none(), st.floats(0, 400, allow_nan=False), st.integers(0, 12))
        for name in FEATURE_NAMES
    }
)


def _batch(rows: list[dict]) -> list[dict]:
    cols = {"person_id": pa.array([f"p{i}" for i in range(len(rows))])}
    for name in FEATURE_NAMES:
        cols[name] = pa.array([r[name] for r in rows], type=pa.float64())
    con = ibis.duckdb.connect()
    try:
        expr = score_table(CARD, ibis.memtable(pa.table(cols)), "person_id", rule=RULE)
        return con.to_pyarrow(expr.order_by("person_id")).to_pylist()
    finally:
        con.disconnect()


@settings(max_examples=8, deadline=None)
@given(rows=st.lists(feature_values, min_size=1, max_size=30))
def test_an_unscorable_person_never_gets_a_number_batch_or_one_person(rows: list[dict]) -> None:
    out = sorted(_batch(rows), key=lambda r: int(r["person_id"][1:]))
    for row, got in zip(rows, out, strict=True):
        want = score_person(CARD, row, rule=RULE)
        expected = RULE.scorable(CARD, row)
        assert want.scored == expected and got["status"] == want.status
        if not expected:
            assert (want.score, want.band, got["score"], got["band"]) == (None,) * 4
            assert all(v is None for v in want.dimensions.values())
            assert all(got[f"dim_{d}"] is None for d in CARD.dimensions)
            assert not want.reasons and not want.helps and not want.contributions
            assert got["reason_1"] is None and got["help_1"] is None
        else:
            assert got["score"] == want.score is not None


def test_the_rule_in_examples() -> None:
    nothing = dict.fromkeys(FEATURE_NAMES)
    assert not RULE.scorable(CARD, nothing)
    assert not RULE.scorable(CARD, {**nothing, "identity_verified": 1, "verified_income": 3000})
    assert not RULE.scorable(CARD, {**nothing, "active_months_12m": 5})
    assert RULE.scorable(CARD, {**nothing, "active_months_12m": 6})
    assert RULE.scorable(CARD, {**nothing, "credit_age_months": 0})
    assert RULE.scorable(CARD, {**nothing, "rentals_on_time_24m": 1.0})
    assert RULE.scorable(CARD, {**nothing, "bills_on_time_12m": 0.5})
    stricter = ScoringRule(history_features=("credit_age_months",), min_activity=12)
    assert not stricter.scorable(CARD, {**nothing, "bills_on_time_12m": 0.5})


def test_the_rule_is_configurable_and_a_bad_setting_is_refused() -> None:
    from openscore.config import Settings

    rule = ScoringRule.from_settings(
        Settings(scorable_history_features=("credit_age_months",), scorable_min_active_months=9)
    )
    assert rule.history_features == ("credit_age_months",) and rule.min_activity == 9
    with pytest.raises(InputError, match="'shoe_size' is not a feature"):
        ScoringRule.from_settings(Settings(scorable_history_features=("shoe_size",)))


def test_weights_are_the_share_of_the_point_range_in_the_file() -> None:
    weights = dimension_weights(CARD)
    assert sum(weights.values()) == pytest.approx(1.0)
    for d, r in CARD.dimensions.items():
        assert weights[d] == pytest.approx(r.weight, abs=1e-4)
        span = sum(t.max_points - t.min_points for t in CARD.terms if t.dimension == d)
        total = sum(t.max_points - t.min_points for t in CARD.terms)
        assert weights[d] == span / total


JARGON = re.compile(
    r"coefficient|variation|\(else missing\)|\(1\)|\(0\)|0 to 1|past due|\bdpd\b|"
    r"utili[sz]ation ratio|woe|logit|\bbin\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("spec", FEATURES, ids=lambda f: f.name)
def test_every_feature_text_is_plain_words(spec) -> None:
    for text in (spec.description, spec.reason, spec.improve):
        assert text and not JARGON.search(text), text


def test_a_decline_never_cites_missing_information() -> None:
    loan = default_catalogue().get("personal_loan")
    reasons = [
        {"code": "verified_income", "text": "Not on file: income", "missing": True},
        {"code": "late_30_24m", "text": "Several payments were late", "missing": False},
    ]
    decision = decide(loan, 560, "fair", reasons)
    codes = [r.code for r in decision.reasons]
    assert decision.outcome == "decline" and "verified_income" not in codes
    assert "late_30_24m" in codes
    assert not any("Not on file" in r.text for r in decision.reasons)


def test_every_shipped_product_declares_its_unscorable_treatment() -> None:
    for product in default_catalogue().products:
        decision = decide(product, None, None, [])
        assert product.unscorable.treatment in UnscorableTreatment
        assert decision.reasons[-1].code == NOT_ENOUGH_DATA
        assert "Not enough data to score" in decision.reasons[-1].text
        if product.kind.value == "loan":  # the shipped loan declines: no invented line
            assert decision.outcome == "decline" and decision.credit_line is None
        if product.unscorable.treatment is UnscorableTreatment.DEPOSIT:
            assert decision.deposit_due == product.deposit and decision.deposit_waived == 0


def _raw_catalogue() -> dict:
    return {
        "schema_version": 1,
        "currency": "EUR",
        "products": [
            {
                "id": "starter",
                "name": "Starter loan",
                "kind": "loan",
                "min_score": 600,
                "unscorable": {"treatment": "smaller_line", "credit_line": 300, "apr": 0.2},
                "loan": {
                    "apr_by_band": {"good": 0.19, "very_good": 0.14, "excellent": 0.09},
                    "line_steps": [{"min_score": 600, "amount": 1000}],
                },
            }
        ],
    }


def test_a_smaller_line_for_an_unscorable_person() -> None:
    product = parse_catalogue(_raw_catalogue()).get("starter")
    decision = decide(product, None, None, [])
    assert decision.outcome == "approve" and decision.credit_line == 300
    assert decision.apr == 0.2 and decision.reasons[0].code == NOT_ENOUGH_DATA


def test_a_product_without_an_unscorable_treatment_is_refused_by_name() -> None:
    raw = _raw_catalogue()
    del raw["products"][0]["unscorable"]
    with pytest.raises(InputError, match=r"products\[0\] \(starter\)\.unscorable: Field required"):
        parse_catalogue(raw)
    raw = _raw_catalogue()
    raw["products"][0]["unscorable"]["credit_line"] = 5000
    with pytest.raises(InputError, match="smaller than the first line step"):
        parse_catalogue(raw)
    raw = _raw_catalogue()
    raw["products"][0]["unscorable"] = {"treatment": "deposit"}
    with pytest.raises(InputError, match="only for deposit_waiver"):
        parse_catalogue(raw)
