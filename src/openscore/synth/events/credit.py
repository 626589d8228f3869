"""Credit events: accounts opened and closed, and their monthly instalments.

A person holds ``Poisson(0.2 + 0.9 e + 0.3 sqrt(income / median) + 0.25 max(z, 0))``
accounts (at most 8; ``e`` e-literacy, ``z`` latent risk): riskier people seek a little
more credit, and about a quarter of people hold none. Kinds follow income, age and
e-literacy (cards, loans, mortgages, consumer credit, buy-now-pay-later). Accounts were
opened on average ~4 years before ``as_of`` (never before the holder was 18); instalment
accounts close when their term ends, cards close now and then.

Instalments fall due monthly while the account is open. A card's statement is its
utilisation times its limit; utilisation rises with risk. Revolvers (more often risky)
pay part of the statement. Lateness and non-payment follow ``settlement``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openscore.domain.events import ACCOUNT_KINDS
from openscore.eventfiles import columns as col
from openscore.synth.chunk import Chunk, expand, rank_within
from openscore.synth.events.settlement import settle
from openscore.synth.timeline import EARLIEST_DAY
from openscore.synth.world import sigmoid

# ACCOUNT_KINDS = credit_card, loan, mortgage, consumer_credit, bnpl
_TERM_MONTHS = {1: (12, 60), 2: (120, 360), 3: (6, 36), 4: (3, 12)}
_RATE = np.array([0.0, 0.08, 0.05, 0.15, 0.0])


def _accounts(chunk: Chunk) -> dict[str, np.ndarray]:
    """Every account of the chunk's credit sharers alive in the window."""
    p, s, tl = chunk.people, chunk.streams, chunk.timeline
    wp = chunk.world.params.world
    inc = p.income / wp.median_income
    lam = 0.2 + 0.9 * p.e_literacy + 0.3 * np.sqrt(inc) + 0.25 * np.maximum(p.risk, 0)
    n_acc = np.minimum(s.poisson("credit.n_accounts", chunk.person_counts, lam), 8)
    n_acc = np.where(p.shares["credit"], n_acc, 0)
    owner = expand(n_acc)
    counts = chunk.counts(owner)
    age = p.age[owner].astype(np.float64)
    weights = np.column_stack(
        [
            1.0 * np.sqrt(inc[owner]),
            np.full(len(owner), 0.35),
            0.25 * ((age >= 27) & (age <= 60)) * inc[owner],
            np.full(len(owner), 0.35),
            1.2 * p.e_literacy[owner],
        ]
    )
    kind = s.categorical("credit.kind", counts, weights)
    # Opening date: exponential ages, at least 20 days before as_of, not before 18.
    years_back = 4.0 * s.exponential("credit.age", counts)
    open_day = tl.as_of_day - 20 - np.floor(years_back * 365.25).astype(np.int64)
    adult_day = tl.as_of_day - np.floor((age - 18) * 365.25).astype(np.int64)
    open_day = np.maximum(open_day, np.minimum(adult_day, tl.as_of_day - 20))
    open_day = np.maximum(open_day, EARLIEST_DAY)
    lo, hi = np.zeros(len(kind)), np.ones(len(kind))
    for k, (a, b) in _TERM_MONTHS.items():
        lo[kind == k], hi[kind == k] = a, b
    term = np.floor(lo + (hi - lo) * s.uniform("credit.term", counts)).astype(np.int64)
    term_days = np.round(term * 30.4375).astype(np.int64)
    close_day = np.where(kind == 0, np.iinfo(np.int64).max, open_day + term_days)
    # Cards close now and then inside the window.
    card_close = tl.start_day + np.floor(
        s.uniform("credit.card_close", counts) * (tl.as_of_day - tl.start_day)
    ).astype(np.int64)
    closes = (kind == 0) & (s.uniform("credit.card_closes", counts) < 0.08)
    close_day = np.where(closes & (card_close > open_day + 30), card_close, close_day)
    income = p.income[owner]
    limit_factor = np.exp(0.3 * s.normal("credit.limit", counts))
    limit = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3],
        [income * 0.3, income * 0.6, income * 5.0, income * 0.15],
        default=np.minimum(income * 0.05, 5000.0),
    )
    limit = np.round(limit * limit_factor, -2) + 100.0
    # Alive in the window: opened before as_of (always) and not closed before it began.
    alive = close_day > tl.start_day
    acc = {
        "owner": owner,
        "number": rank_within(owner),
        "kind": kind,
        "open_day": open_day,
        "close_day": close_day,
        "term": np.maximum(term, 1),
        "limit": limit,
        "due_day": np.floor(s.uniform("credit.due_day", counts) * 28).astype(np.int64),
        "utilisation": sigmoid(-1.0 + 0.9 * p.risk[owner] + 0.5 * s.normal("credit.util", counts)),
        "revolver": s.uniform("credit.revolver", counts) < sigmoid(-0.7 + 0.9 * p.risk[owner]),
    }
    return {k: v[alive] for k, v in acc.items()}


def _account_ids(chunk: Chunk, owner: np.ndarray, number: np.ndarray) -> pa.Array:
    n = len(owner)
    matrix = col.text_matrix(
        [chunk.id_matrix(chunk.people.number[owner]), b"-a", col.digits(number, 2)], n
    )
    return col.fixed_strings(matrix)


def account_events(chunk: Chunk, acc: dict[str, np.ndarray]) -> pa.Table:
    tl = chunk.timeline
    closed = acc["close_day"] < tl.as_of_day
    # Rows: each account's opening, then its closing if it closed; in person order.
    row_acc = np.repeat(np.arange(len(acc["owner"])), 1 + closed)
    is_close = np.zeros(len(row_acc), dtype=bool)
    is_close[1:] = row_acc[1:] == row_acc[:-1]
    owner = acc["owner"][row_acc]
    counts = chunk.counts(owner)
    day = np.where(is_close, acc["close_day"][row_acc], acc["open_day"][row_acc])
    at = day * col.US_PER_DAY + np.floor(
        chunk.streams.uniform("credit.event_time", counts) * col.US_PER_DAY
    ).astype(np.int64)
    n = len(row_acc)
    return col.event_table(
        n,
        {
            "event_id": chunk.event_ids("credit_account", owner),
            "type": col.constant("credit_account", n),
            "person_id": chunk.person_ids(owner),
            "source": col.constant("credit", n),
            "occurred_at": col.timestamps(at),
            "account_id": _account_ids(chunk, owner, acc["number"][row_acc]),
            "action": col.enum(is_close.astype(np.int8), ("opened", "closed")),
            "account_kind": col.enum(acc["kind"][row_acc], ACCOUNT_KINDS),
            "credit_limit": col.amounts(acc["limit"][row_acc]),
        },
    )


def repayment_events(chunk: Chunk, acc: dict[str, np.ndarray]) -> pa.Table:
    tl, s = chunk.timeline, chunk.streams
    due = tl.month_first[None, :] + acc["due_day"][:, None]
    ok = (
        (due > acc["open_day"][:, None] + 20)
        & (due <= acc["close_day"][:, None])
        & (due >= tl.start_day)
        & (due < tl.as_of_day)
    )
    a, month = np.nonzero(ok)
    owner = acc["owner"][a]
    counts = chunk.counts(owner)
    due_day = due[a, month]
    kind, limit = acc["kind"][a], acc["limit"][a]
    util = np.clip(acc["utilisation"][a] * np.exp(0.3 * s.normal("repay.util", counts)), 0, 1)
    rate = _RATE[kind] / 12
    term = acc["term"][a].astype(np.float64)
    # Annuity instalment; interest-free kinds simply divide the principal.
    safe = np.where(rate > 0, rate, 1.0)
    instalment = np.where(rate > 0, limit * safe / (1 - (1 + safe) ** -term), limit / term)
    amount_due = np.round(np.where(kind == 0, util * limit, instalment), 2)
    paid_day, paid = settle(chunk, "repay", owner, month, due_day)
    part = 0.1 + 0.9 * s.uniform("repay.part", counts)
    amount_paid = np.where(
        paid, np.where(acc["revolver"][a] & (kind == 0), amount_due * part, amount_due), 0.0
    )
    at_day = np.where(paid, paid_day, due_day)
    at = at_day * col.US_PER_DAY + np.where(
        paid, np.floor(s.uniform("repay.time", counts) * col.US_PER_DAY).astype(np.int64), 0
    )
    n = len(a)
    return col.event_table(
        n,
        {
            "event_id": chunk.event_ids("repayment", owner),
            "type": col.constant("repayment", n),
            "person_id": chunk.person_ids(owner),
            "source": col.constant("credit", n),
            "occurred_at": col.timestamps(at),
            "account_id": _account_ids(chunk, owner, acc["number"][a]),
            "due_date": col.dates(due_day),
            "paid_date": col.dates(paid_day, paid),
            "amount_due": col.amounts(amount_due),
            "amount_paid": col.amounts(amount_paid),
        },
    )


def credit_events(chunk: Chunk) -> list[pa.Table]:
    acc = _accounts(chunk)
    return [account_events(chunk, acc), repayment_events(chunk, acc)]
