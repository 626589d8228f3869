"""What each feature means, on hand-made events; and that the future is never seen."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import ibis
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openscore.engines.base import get_engine
from openscore.engines.duckdb import ibis_connect
from openscore.features import FEATURE_NAMES, FEATURES, build_features
from openscore.features.frame import AsOf, day_of
from openscore.ingest import Ingester, no_consent_check
from openscore.ledger import Ledger, latest_event

from fixtures.data import INPUT_SCHEMA, make_events, write_events

AS_OF = date(2025, 6, 30)
T0 = datetime(2025, 6, 30, 12, tzinfo=UTC)
DAY_US = 86_400_000_000


def ev(**kw) -> dict:
    row = dict.fromkeys(INPUT_SCHEMA.names)
    row.update(kw)
    row.setdefault("event_id", f"x{id(kw)}")
    return row


def features_of(rows: list[dict], as_of: date = AS_OF, people: list[str] | None = None) -> dict:
    for i, r in enumerate(rows):
        r["event_id"] = f"e{i}"
    table = pa.Table.from_pylist(rows, schema=INPUT_SCHEMA)
    table = table.append_column("furnisher_id", pa.array(["f"] * table.num_rows, pa.string()))
    con = ibis_connect()
    events = con.create_table("events", table)
    ppl = con.create_table("people", pa.table({"person_id": people})) if people else None
    df = con.execute(build_features(events, as_of, ppl))
    df = df.astype(object).where(df.notna(), None)  # NaN -> None, so rows compare equal
    return {r["person_id"]: r for r in df.to_dict("records")}


def days_ago(n: int) -> datetime:
    return T0 - timedelta(days=n)


def repayment(person: str, due_days_ago: int, late: int | None, acc: str = "a1") -> dict:
    due = (T0 - timedelta(days=due_days_ago)).date()
    return ev(
        type="repayment",
        source="credit",
        person_id=person,
        occurred_at=days_ago(due_days_ago),
        account_id=acc,
        due_date=due,
        paid_date=None if late is None else due + timedelta(days=late),
        amount_due=100.0,
        amount_paid=0.0 if late is None else 100.0,
    )


def test_lateness_counts_and_defaults() -> None:
    rows = [
        ev(
            type="credit_account",
            source="credit",
            person_id="p1",
            occurred_at=days_ago(400),
            account_id="a1",
            action="opened",
            account_kind="credit_card",
            credit_limit=1000.0,
        ),
        repayment("p1", 300, 0),
        repayment("p1", 200, 45),
        repayment("p1", 150, None),  # never paid: 150 days past due, a default
        repayment("p1", 20, 2),
        repayment("p1", 900, 120),  # older than 24 months: not counted
    ]
    f = features_of(rows)["p1"]
    assert f["worst_dpd_24m"] == 150
    assert f["late_30_24m"] == 2 and f["late_90_24m"] == 1 and f["defaults_24m"] == 1
    assert f["recent_dpd_3m"] == 2
    assert f["accounts_good_standing"] == 0
    assert f["credit_age_months"] == int((900) / 30.4375)  # the first instalment is older
    assert f["utilisation"] == pytest.approx(100 / 1000)


def test_payment_paid_after_the_as_of_date_is_still_late_on_that_date() -> None:
    rows = [repayment("p1", 40, 60)]  # due 40 days ago, paid 20 days in the future
    assert features_of(rows)["p1"]["worst_dpd_24m"] == 40


def test_events_after_the_as_of_date_are_not_seen() -> None:
    base = [repayment("p1", 100, 0)]
    future = [
        repayment("p1", -5, None),
        ev(
            type="payment",
            source="wallet",
            person_id="p1",
            occurred_at=T0 + timedelta(days=3),
            channel="online",
            amount=50.0,
            currency="CNY",
        ),
    ]
    assert features_of(base) == features_of(base + future)


def test_behaviour_bills_rentals_and_regularity() -> None:
    rows = [
        ev(
            type="bill_payment",
            source="wallet",
            person_id="p1",
            occurred_at=days_ago(60),
            bill_kind="phone",
            due_date=days_ago(60).date(),
            paid_date=days_ago(60).date(),
            amount_due=10.0,
        ),
        ev(
            type="bill_payment",
            source="wallet",
            person_id="p1",
            occurred_at=days_ago(30),
            bill_kind="utility",
            due_date=days_ago(30).date(),
            paid_date=days_ago(20).date(),
            amount_due=10.0,
        ),
        ev(
            type="rental",
            source="rentals",
            person_id="p1",
            occurred_at=days_ago(10),
            product="bike",
            deposit_waived=True,
            due_back=days_ago(9),
            returned_at=days_ago(9),
            rental_outcome="returned",
        ),
        ev(
            type="rental",
            source="rentals",
            person_id="p1",
            occurred_at=days_ago(5),
            product="power_bank",
            deposit_waived=True,
            due_back=days_ago(4),
            returned_at=None,
            rental_outcome="lost",
        ),
        *[
            ev(
                type="payment",
                source="wallet",
                person_id="p1",
                occurred_at=days_ago(d),
                channel="offline",
                amount=100.0,
                currency="CNY",
            )
            for d in (1, 2, 40, 100)
        ],
    ]
    f = features_of(rows)["p1"]
    assert f["bills_on_time_12m"] == 0.5
    assert f["rentals_on_time_24m"] == 0.5 and f["rentals_lost_24m"] == 1
    assert f["active_months_12m"] == 3
    assert f["monthly_spend_12m"] == pytest.approx(400 / 12, abs=0.01)


def fact(
    person: str, days: int, kind: str, verified: bool | None, amount: float | None = None
) -> dict:
    return ev(
        type="profile_fact",
        source="profile",
        person_id=person,
        occurred_at=days_ago(days),
        fact=kind,
        verified=verified,
        amount=amount,
    )


def test_identity_and_capacity_facts() -> None:
    rows = [
        fact("p1", 800, "identity", True),
        fact("p1", 365, "address", False),
        fact("p1", 300, "income", True, 9000.0),
        fact("p1", 30, "income", True, 12000.0),
        fact("p1", 30, "vehicle", True),
        fact("p2", 30, "phone", False),
        # not verified: neither counts (features/profile.py reads every fact in one pass)
        fact("p2", 20, "income", False, 50000.0),
        fact("p2", 20, "property", None),
    ]
    f = features_of(rows)
    assert f["p2"]["verified_assets"] == 0  # shares profile, no verified asset: the fill
    assert f["p1"]["identity_verified"] == 1 and f["p2"]["identity_verified"] == 0
    assert f["p1"]["verified_income"] == 12000 and f["p1"]["verified_assets"] == 1
    assert f["p1"]["address_tenure_months"] == 11
    assert (
        f["p2"]["phone_tenure_months"] == 0
        and f["p2"]["verified_income"] is None
        or f["p2"]["verified_income"] != f["p2"]["verified_income"]
    )


def test_public_records_count_until_they_expire() -> None:
    rows = [
        ev(
            type="public_record",
            source="public_records",
            person_id="p1",
            occurred_at=days_ago(99),
            record_kind="court_judgment_default",
            legal_basis="law",
            expires_at=T0 + timedelta(days=9),
        ),
        ev(
            type="public_record",
            source="public_records",
            person_id="p1",
            occurred_at=days_ago(999),
            record_kind="tax_arrears",
            legal_basis="law",
            expires_at=days_ago(5),
        ),
    ]
    f = features_of(rows, people=["p1", "p2"])
    assert f["p1"]["live_public_records"] == 1
    assert f["p2"]["live_public_records"] == 0


def test_a_person_who_shares_nothing_has_every_consented_feature_missing() -> None:
    f = features_of(make_events(80).to_pylist(), people=["nobody"])["nobody"]
    for spec in FEATURES:
        value = f[spec.name]
        if spec.source.value == "public_records":
            assert value == 0
        else:
            assert value is None, spec.name


def test_every_catalogued_feature_is_computed() -> None:
    f = features_of(make_events(80).to_pylist())
    assert set(next(iter(f.values()))) == {"person_id", *FEATURE_NAMES}


def instalment(person: str, due_ago: int, due: float, paid: float, paid_ago: int | None) -> dict:
    """A repayment due ``due_ago`` days before the as-of date, paid ``paid_ago`` days
    before it (negative: after it; None: not settled)."""
    due_day = (T0 - timedelta(days=due_ago)).date()
    return ev(
        type="repayment",
        source="credit",
        person_id=person,
        occurred_at=days_ago(due_ago if paid_ago is None else max(paid_ago, due_ago)),
        account_id=f"{person}-card",
        due_date=due_day,
        paid_date=None if paid_ago is None else (T0 - timedelta(days=paid_ago)).date(),
        amount_due=due,
        amount_paid=paid,
    )


def card(person: str, limit: float) -> dict:
    return ev(
        type="credit_account",
        source="credit",
        person_id=person,
        occurred_at=days_ago(400),
        account_id=f"{person}-card",
        action="opened",
        account_kind="credit_card",
        credit_limit=limit,
    )


def test_amount_features_equal_a_hand_computed_ledger() -> None:
    rows = [
        card("p2", 1000.0),
        instalment("p2", 200, 1000.0, 1000.0, 200),  # older than 6 months: not in amounts
        instalment("p2", 150, 200.0, 200.0, 150),  # on time, in full
        instalment("p2", 120, 300.0, 100.0, None),  # part paid, still open: 120 days
        instalment("p2", 90, 400.0, 400.0, 55),  # paid 35 days late, in full
        instalment("p2", 20, 500.0, 500.0, 20),  # on time, in full; last month
        card("p3", 2000.0),
        instalment("p3", 10, 100.0, 100.0, -5),  # paid after the as-of date: not yet
        card("p4", 500.0),  # an account and no instalment yet
        card("p6", 1000.0),
        instalment("p6", 170, 0.0, 0.0, 170),  # nothing due: not an instalment paid in full
        instalment("p6", 100, 300.0, 300.0, 100),  # on time, in full
        instalment("p6", 45, 400.0, 0.0, None),  # the month before: nothing paid, overdue
        instalment("p6", 15, 200.0, 100.0, 15),  # last month: 100 paid on time
    ]
    f = features_of(rows)
    p2 = f["p2"]
    assert p2["current_dpd"] == 120  # the open instalment, not the one paid late
    assert p2["months_since_late"] == 2  # latest late one due 90 days ago: 90 / 30.44
    assert p2["paid_to_due_6m"] == pytest.approx(round(1200 / 1400, 4))
    assert p2["paid_in_full_6m"] == 3
    assert p2["balance_months_6m"] == 4
    assert p2["utilisation"] == pytest.approx(0.5)
    assert p2["utilisation_trend"] == pytest.approx(round((500 - 1400 / 6) / 1000, 4))
    assert p2["credit_limit"] == 1000.0
    assert p2["amount_paid_6m"] == 200.0  # 1200 over 6 months
    assert p2["paid_to_prev_due"] is None  # nothing was due 31-61 days ago
    assert p2["overdue_to_limit"] == pytest.approx((300 - 100) / 1000)  # part paid off
    assert p2["min_paid_6m"] == 100.0  # the open one's part payment
    p3 = f["p3"]
    assert p3["current_dpd"] == 10 and p3["months_since_late"] == 0
    assert p3["paid_to_due_6m"] == 0.0 and p3["paid_in_full_6m"] == 0
    assert p3["amount_paid_6m"] == 0.0 and p3["credit_limit"] == 2000.0
    assert p3["overdue_to_limit"] == pytest.approx(100 / 2000)  # paid only after as-of
    assert p3["min_paid_6m"] == 0.0 and p3["paid_to_prev_due"] is None
    p4 = f["p4"]
    assert p4["current_dpd"] == 0 and p4["months_since_late"] == 24  # shares, none late
    assert p4["paid_to_due_6m"] is None and p4["paid_in_full_6m"] is None
    assert p4["balance_months_6m"] is None and p4["amount_paid_6m"] is None
    assert p4["utilisation"] == 0.0 and p4["credit_limit"] == 500.0
    assert p4["overdue_to_limit"] == 0.0
    assert p4["min_paid_6m"] is None and p4["paid_to_prev_due"] is None
    p6 = f["p6"]
    assert p6["paid_in_full_6m"] == 1  # not 2: the month with nothing due does not count
    assert p6["balance_months_6m"] == 3
    assert p6["paid_to_prev_due"] == pytest.approx(100 / 400)  # last month's pay / before
    assert p6["overdue_to_limit"] == pytest.approx(400 / 1000)
    assert p6["min_paid_6m"] == 0.0
    assert p6["current_dpd"] == 45 and p6["recent_dpd_3m"] == 45
    assert p6["paid_to_due_6m"] == pytest.approx(round(400 / 900, 4))


def test_amounts_at_the_largest_accepted_still_compute_and_ties_round_away() -> None:
    """An amount at ``MAX_AMOUNT`` (what ingestion and the API accept at most) is summed
    in whole cents without overflow; a ratio that prints as a tie (145 / 100,000 prints
    0.00145, the double just below it) rounds down, as ``features.frame.rounded`` does
    on every engine (Spark's ``round`` made it 0.0015: ``tests/engines/test_rounding.py``)."""
    from openscore.domain.events import MAX_AMOUNT

    rows = [
        card("big", MAX_AMOUNT),
        instalment("big", 20, MAX_AMOUNT, MAX_AMOUNT, 20),
        instalment("big", 50, MAX_AMOUNT, MAX_AMOUNT, 50),
        card("tie", 100_000.0),
        instalment("tie", 20, 145.0, 145.0, 20),
    ]
    f = features_of(rows)
    assert f["big"]["credit_limit"] == MAX_AMOUNT
    assert f["big"]["utilisation"] == 1.0
    assert f["big"]["amount_paid_6m"] == round(2 * MAX_AMOUNT / 6, 2)
    assert f["tie"]["utilisation"] == 0.0014


def test_revolved_on_time_equals_a_hand_computed_ledger() -> None:
    rows = [
        card("p7", 1000.0),
        instalment("p7", 200, 500.0, 100.0, 200),  # on time, part paid, but before 6 months
        instalment("p7", 170, 400.0, 100.0, 170),  # on time, part paid: counts
        instalment("p7", 140, 400.0, 400.0, 140),  # on time, paid in full: not carried over
        instalment("p7", 110, 300.0, 50.0, 100),  # part paid 10 days late: not on time
        instalment("p7", 80, 0.0, 0.0, 80),  # nothing due: no balance to carry
        instalment("p7", 50, 300.0, 20.0, None),  # part paid, still open: not on time
        instalment("p7", 20, 250.0, 249.99, 25),  # a cent short, paid before it was due: counts
        instalment("p7", 5, 200.0, 100.0, -3),  # paid after the as-of date: not yet paid
        card("p8", 500.0),
        instalment("p8", 30, 100.0, 100.0, 30),  # only paid in full
    ]
    f = features_of(rows)
    assert f["p7"]["revolved_on_time_6m"] == 2
    assert f["p7"]["balance_months_6m"] == 6  # of the same six months, for comparison
    assert f["p8"]["revolved_on_time_6m"] == 0


def test_amount_features_are_missing_for_someone_who_does_not_share_credit() -> None:
    rows = [
        ev(
            type="payment",
            source="wallet",
            person_id="p5",
            occurred_at=days_ago(3),
            channel="online",
            amount=5.0,
            currency="CNY",
        )
    ]
    p5 = features_of(rows)["p5"]
    for name in (
        "current_dpd",
        "months_since_late",
        "paid_to_due_6m",
        "paid_in_full_6m",
        "utilisation_trend",
        "credit_limit",
        "amount_paid_6m",
        "paid_to_prev_due",
        "overdue_to_limit",
        "min_paid_6m",
        "revolved_on_time_6m",
    ):
        assert p5[name] is None, name


def test_payment_rhythm_equals_a_hand_computed_ledger_and_ignores_volume() -> None:
    def pays(person: str, days: list[int]) -> list[dict]:
        return [
            ev(
                type="payment",
                source="wallet",
                person_id=person,
                occurred_at=days_ago(d),
                channel="offline",
                amount=10.0,
                currency="CNY",
            )
            for d in days
        ]

    # monthly counts 3, 0, 3, 0, 2, 0, 4, then nothing: 12 payments in 4 months
    bursty = [1, 2, 3, 62, 63, 64, 125, 126, 200, 201, 202, 203]
    steady = [5 + 30 * m for m in range(12)]  # one a month
    rows = [*pays("p1", bursty), *pays("p2", steady), *pays("p3", steady + steady)]
    rows += pays("p4", [1, 40, 80, 120, 160])  # 5 payments: too few for either
    f = features_of(rows)
    assert f["p1"]["payment_evenness_12m"] == pytest.approx(round(4 / (12 * (1 - math.exp(-1))), 4))
    # (12 S - N^2 - 12 N) / N^2 with S = 9 + 9 + 4 + 16
    assert f["p1"]["payment_bursts_12m"] == pytest.approx(round((12 * 38 - 144 - 144) / 144, 4))
    # one payment a month is under-dispersed (regular) -> bursts below 0, evenness above 1
    assert f["p2"]["payment_bursts_12m"] < 0 < f["p1"]["payment_bursts_12m"]
    assert f["p2"]["payment_evenness_12m"] > 1 > f["p1"]["payment_evenness_12m"]
    # twice the payments in the same rhythm: active months stay 12, evenness about as even
    assert f["p3"]["active_months_12m"] == f["p2"]["active_months_12m"] == 12
    assert f["p3"]["payment_bursts_12m"] < 0
    assert f["p4"]["payment_evenness_12m"] is None and f["p4"]["payment_bursts_12m"] is None


def test_training_reads_the_model_inputs_and_can_be_given_every_feature() -> None:
    from openscore.features import MODEL_INPUTS
    from openscore.jobs.train import NOT_INPUTS, feature_meta
    from openscore.model.format import Scaling

    assert set(NOT_INPUTS) == {"active_months_12m", "monthly_spend_12m"}
    assert tuple(feature_meta(Scaling())) == MODEL_INPUTS
    assert not set(NOT_INPUTS) & set(MODEL_INPUTS)
    assert tuple(feature_meta(Scaling(), inputs_only=False)) == FEATURE_NAMES
    assert {"payment_evenness_12m", "payment_bursts_12m"} <= set(MODEL_INPUTS)


@given(
    offsets=st.lists(st.integers(-3 * DAY_US, 3 * DAY_US), min_size=1, max_size=40),
    days=st.sampled_from([1, 31, 183, 365, 730]),
)
def test_a_window_on_the_time_keeps_the_same_events_as_one_on_the_day(
    offsets: list[int], days: int
) -> None:
    """``AsOf.since(days)`` (a filter the Parquet scan applies) keeps exactly the events
    whose day number is within the window, ``day > as_of.day - days``."""
    a = AsOf(AS_OF)
    edge = datetime.combine(AS_OF - timedelta(days=days - 1), datetime.min.time(), UTC)
    times = [edge + timedelta(microseconds=o) for o in [0, -1, *offsets]]
    con = ibis_connect()
    t = ibis.memtable(pa.table({"at": pa.array(times, pa.timestamp("us", tz="UTC"))}))
    got = con.execute(t.select(by_time=t.at >= a.since(days), by_day=day_of(t.at) > a.day - days))
    assert got["by_time"].tolist() == got["by_day"].tolist()
    assert got["by_time"].tolist()[:2] == [True, False]  # the window's first instant is in


def test_features_with_the_ledgers_latest_time_equal_those_without(
    data_dir: Path, tmp_path: Path
) -> None:
    """The as-of filter is left out only where the ledger's statistics show it keeps
    every event: before the latest event it is kept, so the future stays unseen."""
    ledger = Ledger(data_dir / "ledger")
    path = write_events(make_events(400, seed=3), tmp_path / "b.parquet")
    assert Ingester(ledger, consent_gate=no_consent_check).run([path], "f").accepted == 400
    snapshot = ledger.snapshot()
    latest = latest_event(snapshot)
    assert latest is not None and latest.tzinfo is not None
    engine = get_engine("duckdb")
    try:
        events = engine.ledger(snapshot.paths)
        day = latest.date()
        for as_of in (
            day - timedelta(days=40),
            day - timedelta(days=1),
            day,
            day + timedelta(days=1),
        ):
            with_latest = engine.to_pandas(build_features(events, as_of, latest=latest))
            plain = engine.to_pandas(build_features(events, as_of))
            key = "person_id"
            pd.testing.assert_frame_equal(
                with_latest.sort_values(key, ignore_index=True),
                plain.sort_values(key, ignore_index=True),
            )
    finally:
        engine.close()
