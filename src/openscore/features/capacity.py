"""Fulfilment capacity: verified income and assets, and how steady wallet payments are."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from openscore.features.frame import DAYS_PER_MONTH, AsOf, cents, rounded

YEAR = 365
#: active months of 12 needed before payment stability means anything
STABILITY_MIN_MONTHS = 6
#: active months of 12 before the amount spent is read as means rather than habit
SPEND_MIN_MONTHS = 3


def monthly_payments(ev: ir.Table, as_of: AsOf) -> ir.Table:
    """Wallet payment totals and counts per person and month (0 = the month ending on the
    as-of date).

    Totals are whole cents (int64): a sum of floats depends on the order the engine adds
    them in, so DuckDB and Spark could round 29.475 to different sides; integers cannot.
    """
    pay = ev.filter((ev.type == "payment") & (ev.occurred_at >= as_of.since(YEAR)))
    pay = pay.mutate(
        month=((as_of.day - pay.day) / DAYS_PER_MONTH).floor().cast("int64"),
        cents=cents(pay.amount),
    )
    return pay.group_by(["person_id", "month"]).aggregate(
        total=pay.cents.sum(), payments=pay.count()
    )


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    # verified_income and verified_assets: features/profile.py, which reads the profile
    # facts once for identity and capacity
    monthly = monthly_payments(ev, as_of)
    spend = monthly.group_by("person_id").aggregate(
        spend_s=monthly.total.sum(),
        spend_ss=(monthly.total * monthly.total).sum(),
        # also behaviour's regularity feature: one pass over the monthly totals for both
        # (a row per person and month, so the rows are the distinct months: a count, not
        # the hash set per person ``nunique`` builds)
        active_months_12m=monthly.count(),
        # behaviour's payment rhythm: the count and the sum of squares of monthly counts
        payments_12m=monthly.payments.sum(),
        payments_ss=(monthly.payments * monthly.payments).sum(),
    )
    return [spend]


def features(t: ir.Table, as_of: AsOf) -> dict[str, ir.Value]:
    # in cents: the mean is floored to a whole cent with integer arithmetic (exact anywhere)
    months = t.active_months_12m
    mean = t.spend_s.cast("float64") / 12
    var = ibis.greatest(t.spend_ss.cast("float64") / 12 - mean * mean, 0)
    return {
        "verified_income": t.verified_income,
        "monthly_spend_12m": ibis.cases(
            (months >= SPEND_MIN_MONTHS, (t.spend_s // 12).cast("float64") / 100),
            else_=ibis.null("float64"),
        ),
        "spend_stability_12m": ibis.cases(
            # over a few active months the variation measures how seldom someone uses
            # the wallet, not how steady their finances are: unknown (neutral) then
            ((mean > 0) & (months >= STABILITY_MIN_MONTHS), rounded(var.sqrt() / mean, 4)),
            else_=ibis.null("float64"),
        ),
        "verified_assets": t.verified_assets,
        # from credit history's aggregates: the lines granted and the amounts repaid
        "credit_limit": rounded(t.open_limit.cast("float64") / 100, 2),
        "amount_paid_6m": rounded((t.paid_6m // 6).cast("float64") / 100, 2),
    }
