"""Credit history: how past instalments were repaid, how long and how full the credit is.

Besides lateness, the amounts: what was due and what was paid on the instalments of the
last six months (the signal a lender's own model reads from statements), last month's
payments against the month before's amounts due (a card's statement is paid the month
after it is drawn), the smallest repayment of the six months, how much is overdue now
against the credit lines, how full the lines are now and compared with the six-month
average, how long ago a payment was last late, and the months a balance was carried over
on an instalment paid on time. Amounts are summed in whole cents so
that every engine gets the same sums.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from openscore.features.frame import AsOf, cents, months_since, rounded

WINDOW_24M = 730
WINDOW_3M = 91
LAST_MONTH = 31
#: instalments due in the last six months (183 days) make the amount features
WINDOW_6M = 183
#: ``months_since_late`` for someone with instalments but none late in 24 months
NEVER_LATE_MONTHS = 24
#: payment-to-due ratios above this (paying back more than was due) are capped
MAX_PAID_RATIO = 2.0


def instalments(ev: ir.Table, as_of: AsOf) -> ir.Table:
    """Repayments due by the as-of date, with days past due as seen on that date."""
    rep = ev.filter(ev.type == "repayment")
    rep = rep.mutate(due_day=rep.due_date.epoch_days(), paid_day=rep.paid_date.epoch_days())
    rep = rep.filter(rep.due_day <= as_of.day)
    paid_in_time = rep.paid_day.notnull() & (rep.paid_day <= as_of.day)
    dpd = ibis.cases(
        (paid_in_time, ibis.greatest(rep.paid_day - rep.due_day, 0)),
        else_=as_of.day - rep.due_day,
    )
    # what was paid towards it by the as-of date: a payment dated later has not happened
    # yet; one with no date is a part payment of an instalment still open (kept as sent)
    paid_so_far = ibis.cases(
        (rep.paid_day.notnull() & (rep.paid_day > as_of.day), 0.0),
        else_=rep.amount_paid.fill_null(0),
    )
    return rep.mutate(
        dpd=dpd, unpaid=~paid_in_time, age=as_of.day - rep.due_day, paid_so_far=paid_so_far
    )


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    """Per-person aggregates of instalments and accounts (people with none are absent)."""
    rep = instalments(ev, as_of)
    recent = rep.age <= WINDOW_24M
    half_year = rep.age < WINDOW_6M
    per_person = rep.group_by("person_id").aggregate(
        worst_dpd_24m=rep.dpd.max(where=recent),
        recent_dpd_3m=rep.dpd.max(where=rep.age <= WINDOW_3M),
        late_30_24m=rep.count(where=recent & (rep.dpd >= 30)),
        late_90_24m=rep.count(where=recent & (rep.dpd >= 90)),
        defaults_24m=rep.count(where=recent & rep.unpaid & (rep.dpd >= 90)),
        # whole cents (int64): sums of floats depend on the engine's order of addition
        due_last_month=cents(rep.amount_due).sum(where=rep.age < LAST_MONTH),
        paid_last_month=cents(rep.paid_so_far).sum(where=rep.age < LAST_MONTH),
        due_prev_month=cents(rep.amount_due).sum(
            where=(rep.age >= LAST_MONTH) & (rep.age < 2 * LAST_MONTH)
        ),
        # what is still owed on instalments past due and unpaid today (part payments off)
        overdue=cents(ibis.greatest(rep.amount_due - rep.paid_so_far, 0)).sum(
            where=rep.unpaid & (rep.dpd > 0)
        ),
        min_paid_6m=cents(rep.paid_so_far).min(where=half_year),
        first_due=rep.due_day.min(),
        current_dpd=rep.dpd.max(where=rep.unpaid),
        last_late_day=rep.due_day.max(where=recent & (rep.dpd > 0)),
        due_6m=cents(rep.amount_due).sum(where=half_year),
        paid_6m=cents(rep.paid_so_far).sum(where=half_year),
        # an instalment with nothing due is not one paid in full (a line left unused is not
        # a balance cleared): counting those made six of six read as the safest
        paid_in_full_6m=rep.count(
            where=half_year & (rep.amount_due > 0) & (rep.paid_so_far >= rep.amount_due)
        ),
        balance_months_6m=rep.count(where=half_year & (rep.amount_due > 0)),
        # a balance carried over (less than the amount due paid) on an instalment paid on
        # time: credit used as a revolving line and kept up with
        revolved_on_time_6m=rep.count(
            where=half_year
            & (rep.amount_due > 0)
            & ~rep.unpaid
            & (rep.dpd == 0)
            & (rep.paid_so_far < rep.amount_due)
        ),
    )
    per_account = rep.group_by(["person_id", "account_id"]).aggregate(
        worst=rep.dpd.max(where=recent)
    )
    standing = per_account.group_by("person_id").aggregate(
        accounts_good_standing=per_account.count(where=per_account.worst.fill_null(0) < 30)
    )
    acc = ev.filter(ev.type == "credit_account")
    accounts = acc.group_by(["person_id", "account_id"]).aggregate(
        opened_day=acc.day.min(where=acc.action == "opened"),
        credit_limit=acc.credit_limit.max(where=acc.action == "opened"),
        closed=acc.count(where=acc.action == "closed"),
    )
    lines = accounts.group_by("person_id").aggregate(
        first_opened=accounts.opened_day.min(),
        open_limit=cents(accounts.credit_limit).sum(where=accounts.closed == 0),
    )
    pr = ev.filter(ev.type == "public_record")
    live = pr.filter(pr.expires_at >= as_of.end_literal)
    records = live.group_by("person_id").aggregate(live_public_records=live.count())
    return [per_person, standing, lines, records]


def features(t: ir.Table, as_of: AsOf) -> dict[str, ir.Value]:
    """The credit-history features from the joined aggregates."""
    oldest = ibis.least(t.first_opened, t.first_due)
    utilisation = ibis.cases(
        (
            t.open_limit > 0,
            rounded(t.due_last_month.fill_null(0).cast("float64") / t.open_limit, 4),
        ),
        else_=ibis.null("float64"),
    )
    due_6m = t.due_6m.fill_null(0).cast("float64")
    limit = t.open_limit.cast("float64")
    # how much fuller the lines are now than on average over the six months (in limits)
    trend = (t.due_last_month.fill_null(0).cast("float64") - due_6m / 6) / limit
    due_prev = t.due_prev_month.fill_null(0).cast("float64")
    return {
        "credit_age_months": months_since(oldest, as_of),
        "accounts_good_standing": t.accounts_good_standing,
        "worst_dpd_24m": t.worst_dpd_24m,
        "recent_dpd_3m": t.recent_dpd_3m,
        "late_30_24m": t.late_30_24m,
        "late_90_24m": t.late_90_24m,
        "utilisation": utilisation,
        "defaults_24m": t.defaults_24m,
        "live_public_records": t.live_public_records,
        "current_dpd": t.current_dpd,
        "months_since_late": months_since(t.last_late_day, as_of),
        "paid_to_due_6m": ibis.cases(
            (
                due_6m > 0,
                rounded(
                    ibis.least(t.paid_6m.fill_null(0).cast("float64") / due_6m, MAX_PAID_RATIO), 4
                ),
            ),
            else_=ibis.null("float64"),
        ),
        "paid_in_full_6m": t.paid_in_full_6m,
        "balance_months_6m": t.balance_months_6m,
        "utilisation_trend": ibis.cases(
            (t.open_limit > 0, rounded(trend, 4)), else_=ibis.null("float64")
        ),
        # a statement is paid the month after it is drawn: last month's payments against
        # the month before's amounts due
        "paid_to_prev_due": ibis.cases(
            (
                due_prev > 0,
                rounded(
                    ibis.least(
                        t.paid_last_month.fill_null(0).cast("float64") / due_prev, MAX_PAID_RATIO
                    ),
                    4,
                ),
            ),
            else_=ibis.null("float64"),
        ),
        "overdue_to_limit": ibis.cases(
            (t.open_limit > 0, rounded(t.overdue.fill_null(0).cast("float64") / limit, 4)),
            else_=ibis.null("float64"),
        ),
        "min_paid_6m": rounded(t.min_paid_6m.cast("float64") / 100, 2),
        "revolved_on_time_6m": t.revolved_on_time_6m,
    }
