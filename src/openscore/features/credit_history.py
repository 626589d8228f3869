"""Credit history: how past instalments were repaid, how long and how full the credit is."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from openscore.features.frame import AsOf, cents, months_since

WINDOW_24M = 730
WINDOW_3M = 91
LAST_MONTH = 31


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
    return rep.mutate(dpd=dpd, unpaid=~paid_in_time, age=as_of.day - rep.due_day)


def aggregates(ev: ir.Table, as_of: AsOf) -> list[ir.Table]:
    """Per-person aggregates of instalments and accounts (people with none are absent)."""
    rep = instalments(ev, as_of)
    recent = rep.age <= WINDOW_24M
    per_person = rep.group_by("person_id").aggregate(
        worst_dpd_24m=rep.dpd.max(where=recent),
        recent_dpd_3m=rep.dpd.max(where=rep.age <= WINDOW_3M),
        late_30_24m=rep.count(where=recent & (rep.dpd >= 30)),
        late_90_24m=rep.count(where=recent & (rep.dpd >= 90)),
        defaults_24m=rep.count(where=recent & rep.unpaid & (rep.dpd >= 90)),
        # whole cents (int64): sums of floats depend on the engine's order of addition
        due_last_month=cents(rep.amount_due).sum(where=rep.age < LAST_MONTH),
        first_due=rep.due_day.min(),
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
        (t.open_limit > 0, (t.due_last_month.fill_null(0).cast("float64") / t.open_limit).round(4)),
        else_=ibis.null("float64"),
    )
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
    }
