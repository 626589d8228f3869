"""Behaviour: bills paid on time, rentals returned on time, regular payments.

What was bought is never looked at: only whether obligations were met, and when.
"""

from __future__ import annotations

import ibis.expr.types as ir

from openscore.features.frame import AsOf

YEAR = 365
TWO_YEARS = 730


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    bills = ev.filter(ev.type == "bill_payment")
    bills = bills.mutate(due_day=bills.due_date.epoch_days(), paid_day=bills.paid_date.epoch_days())
    bills = bills.filter((bills.due_day <= as_of.day) & (bills.due_day > as_of.day - YEAR))
    on_time = bills.paid_day.notnull() & (bills.paid_day <= bills.due_day)
    bill_share = bills.group_by("person_id").aggregate(
        bills_on_time_12m=(bills.count(where=on_time) / bills.count()).round(4)
    )

    rentals = ev.filter((ev.type == "rental") & (ev.day > as_of.day - TWO_YEARS))
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


def features(t: ir.Table, as_of: AsOf) -> dict[str, ir.Value]:
    return {
        "bills_on_time_12m": t.bills_on_time_12m,
        "rentals_on_time_24m": (t.on_time / t.finished.nullif(0)).round(4),
        "rentals_lost_24m": t.rentals_lost_24m,
        "active_months_12m": t.active_months_12m,
    }
