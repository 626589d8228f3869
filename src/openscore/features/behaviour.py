"""Behaviour: bills paid on time, rentals returned on time, regular payments.

What was bought is never looked at: only whether obligations were met, and when.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from openscore.features.frame import AsOf, rounded

YEAR = 365
TWO_YEARS = 730
#: payments in 12 months before their spread over the months says anything
EVENNESS_MIN_PAYMENTS = 6
#: payments in 12 months before their month-to-month swings say anything
BURSTS_MIN_PAYMENTS = 12


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    bills = ev.filter(ev.type == "bill_payment")
    bills = bills.mutate(due_day=bills.due_date.epoch_days(), paid_day=bills.paid_date.epoch_days())
    bills = bills.filter((bills.due_day <= as_of.day) & (bills.due_day > as_of.day - YEAR))
    on_time = bills.paid_day.notnull() & (bills.paid_day <= bills.due_day)
    bill_share = bills.group_by("person_id").aggregate(
        bills_on_time_12m=rounded(bills.count(where=on_time) / bills.count(), 4)
    )

    rentals = ev.filter((ev.type == "rental") & (ev.occurred_at >= as_of.since(TWO_YEARS)))
    due_back = rentals.due_back < as_of.end_literal
    back_in_time = rentals.returned_at.notnull() & (rentals.returned_at <= rentals.due_back)
    lost = rentals.rental_outcome.isin(("lost", "damaged"))
    rental_stats = rentals.group_by("person_id").aggregate(
        finished=rentals.count(where=due_back),
        on_time=rentals.count(where=due_back & back_in_time & ~lost.fill_null(False)),
        rentals_lost_24m=rentals.count(where=lost.fill_null(False)),
    )
    # regularity (active_months_12m) comes from capacity's one aggregate over monthly
    # wallet totals, which counts the active months beside the sums
    return [bill_share, rental_stats]


def payment_rhythm(t: ir.Table) -> dict[str, ir.Value]:
    """How regularly a person pays, whatever how much: the wallet's signal without its
    volume (docs/fairness.md, "E-literacy").

    How often someone pays follows how much of their life runs through the wallet
    (e-literacy), not their risk; *how the payments fall over the year* does not. With
    ``N`` payments in 12 months, spread at random (Poisson), they would touch on average
    ``12 (1 - e^(-N/12))`` months, and the monthly counts would vary by their mean:

    * ``payment_evenness_12m`` = active months / that expectation (1: as even as chance;
      below: bunched into fewer months);
    * ``payment_bursts_12m`` = (variance − mean) / mean² of the 12 monthly counts, the
      moment estimate of over-dispersion: 0 for chance, above for bursts. With ``S`` the
      sum of squared counts it is ``(12 S − N² − 12 N) / N²``, integers to the division,
      so every engine gets the same value.
    """
    n = t.payments_12m.cast("float64")
    months = t.active_months_12m.cast("float64")
    expected = 12.0 * (1.0 - (-n / 12.0).exp())
    bursts = (12 * t.payments_ss - t.payments_12m * t.payments_12m - 12 * t.payments_12m).cast(
        "float64"
    ) / (n * n)
    return {
        "payment_evenness_12m": ibis.cases(
            (t.payments_12m >= EVENNESS_MIN_PAYMENTS, rounded(months / expected, 4)),
            else_=ibis.null("float64"),
        ),
        "payment_bursts_12m": ibis.cases(
            (t.payments_12m >= BURSTS_MIN_PAYMENTS, rounded(bursts, 4)),
            else_=ibis.null("float64"),
        ),
    }


def features(t: ir.Table, as_of: AsOf) -> dict[str, ir.Value]:
    return {
        "bills_on_time_12m": t.bills_on_time_12m,
        "rentals_on_time_24m": rounded(t.on_time / t.finished.nullif(0), 4),
        "rentals_lost_24m": t.rentals_lost_24m,
        "active_months_12m": t.active_months_12m,
        **payment_rhythm(t),
    }
