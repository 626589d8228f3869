"""Wallet events: payments (online and offline) and utility / phone / rent bills.

Payments: a person pays ``0.25 + 3.2 e^2`` times a month on average (``e`` their
e-literacy); each month's rate is multiplied by a gamma shock whose shape
``exp(0.8 - 0.5 z)`` makes risky people's spending burstier. A payment is online with
probability ``0.3 + 0.6 e``; its amount is log-normal around a per-category median scaled
by income. Merchant categories are stored, never scored.

Bills: a phone bill (95 % of people), a utility bill (more often past 28) and rent
(renters: young people, big cities) fall due monthly on a fixed day; how they are paid
follows ``settlement``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openscore.eventfiles import columns as col
from openscore.synth.chunk import Chunk, expand
from openscore.synth.events.settlement import settle

ONLINE_CATEGORIES = ("online_shopping", "food_delivery", "digital_services", "travel")
ONLINE_WEIGHTS = np.array([0.45, 0.30, 0.15, 0.10])
ONLINE_MEDIANS = np.array([120.0, 45.0, 30.0, 600.0])
OFFLINE_CATEGORIES = ("groceries", "restaurants", "taxis", "convenience_store", "transport")
OFFLINE_WEIGHTS = np.array([0.30, 0.25, 0.15, 0.20, 0.10])
OFFLINE_MEDIANS = np.array([80.0, 70.0, 35.0, 20.0, 8.0])
CATEGORIES = ONLINE_CATEGORIES + OFFLINE_CATEGORIES

BILL_KINDS = ("utility", "phone", "rent")


def payments(chunk: Chunk) -> pa.Table:
    p, s, tl = chunk.people, chunk.streams, chunk.timeline
    who = np.flatnonzero(p.shares["wallet"])
    k = tl.n_months
    e = p.e_literacy[who]
    rate = 0.25 + 3.2 * e**2
    shape = np.exp(0.8 - 0.5 * p.risk[who])
    pm_counts = chunk.counts(who) * k
    shock = s.gamma("payment.month_shock", pm_counts, np.repeat(shape, k)) / np.repeat(shape, k)
    lam = np.repeat(rate, k) * np.tile(tl.month_fraction, len(who)) * shock
    n_pm = s.poisson("payment.count", pm_counts, lam)
    pm = expand(n_pm)  # person-month of each payment
    person_pos = who[pm // k]
    month = pm % k
    counts = chunk.counts(person_pos)
    lo = tl.month_lo[month] * col.US_PER_DAY
    span = (tl.month_hi[month] - tl.month_lo[month]) * col.US_PER_DAY
    at = lo + np.floor(s.uniform("payment.time", counts) * span).astype(np.int64)
    online = s.uniform("payment.channel", counts) < 0.3 + 0.6 * p.e_literacy[person_pos]
    on_cat = s.categorical("payment.online_category", counts, ONLINE_WEIGHTS)
    off_cat = s.categorical("payment.offline_category", counts, OFFLINE_WEIGHTS)
    category = np.where(online, on_cat, len(ONLINE_CATEGORIES) + off_cat)
    median = np.concatenate([ONLINE_MEDIANS, OFFLINE_MEDIANS])[category]
    income_factor = (p.income[person_pos] / chunk.world.params.world.median_income) ** 0.35
    amount = median * income_factor * np.exp(0.8 * s.normal("payment.amount", counts))
    n = len(person_pos)
    return col.event_table(
        n,
        {
            "event_id": chunk.event_ids("payment", person_pos),
            "type": col.constant("payment", n),
            "person_id": chunk.person_ids(person_pos),
            "source": col.constant("wallet", n),
            "occurred_at": col.timestamps(at),
            "channel": col.enum(np.where(online, 0, 1), ("online", "offline")),
            "amount": col.amounts(amount),
            "currency": col.constant(chunk.world.cities.currency, n),
            "merchant_category": col.enum(category, CATEGORIES),
        },
    )


def bills(chunk: Chunk) -> pa.Table:
    p, s, tl = chunk.people, chunk.streams, chunk.timeline
    n_people = chunk.n
    counts = chunk.person_counts
    # Which bills each person has, and the day of the month they fall due.
    u = s.uniform("bill.has", counts * 3).reshape(n_people, 3)
    renter_p = np.clip(0.55 - 0.012 * (p.age - 25) + 0.06 * p.band, 0.05, 0.8)
    has = np.column_stack([u[:, 0] < 0.35 + 0.3 * (p.age > 28), u[:, 1] < 0.95, u[:, 2] < renter_p])
    has &= p.shares["wallet"][:, None]
    day = np.floor(s.uniform("bill.due_day", counts * 3) * 28).astype(np.int64).reshape(-1, 3)
    level = np.exp(0.25 * s.normal("bill.level", counts * 3)).reshape(-1, 3)
    # Rows: person x kind x month, in person order.
    due = tl.month_first[None, None, :] + day[:, :, None]
    ok = has[:, :, None] & (due >= tl.start_day) & (due < tl.as_of_day)
    person_pos, kind, month = np.nonzero(ok)
    due_day = due[person_pos, kind, month]
    rows = chunk.counts(person_pos)
    income = p.income[person_pos]
    income_factor = (income / chunk.world.params.world.median_income) ** 0.3
    jitter = np.exp(s.normal("bill.amount", rows) * np.array([0.35, 0.2, 0.02])[kind])
    base = np.array([120.0, 60.0, 0.0])[kind] * income_factor
    rent = income / 12 * 0.28
    amount_due = np.round(np.where(kind == 2, rent, base) * level[person_pos, kind] * jitter, 2)
    paid_day, paid = settle(chunk, "bill", person_pos, month, due_day)
    at_day = np.where(paid, paid_day, due_day)
    at = at_day * col.US_PER_DAY + np.where(
        paid, np.floor(s.uniform("bill.time", rows) * col.US_PER_DAY).astype(np.int64), 0
    )
    n = len(person_pos)
    return col.event_table(
        n,
        {
            "event_id": chunk.event_ids("bill_payment", person_pos),
            "type": col.constant("bill_payment", n),
            "person_id": chunk.person_ids(person_pos),
            "source": col.constant("wallet", n),
            "occurred_at": col.timestamps(at),
            "bill_kind": col.enum(kind, BILL_KINDS),
            "due_date": col.dates(due_day),
            "paid_date": col.dates(paid_day, paid),
            "amount_due": col.amounts(amount_due),
            "amount_paid": col.amounts(np.where(paid, amount_due, 0.0)),
        },
    )


def wallet_events(chunk: Chunk) -> list[pa.Table]:
    return [payments(chunk), bills(chunk)]
