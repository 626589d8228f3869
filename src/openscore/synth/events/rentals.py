"""Deposit-free rentals: bikes, power banks, umbrellas, cars, hotel nights, rooms.

A person rents ``0.04 + 0.55 e^2`` times a month (``e`` e-literacy); cars and hotels are
more frequent with income. Each rental is due back after a product-typical time.
With latent risk ``z`` it is returned late with ``sigmoid(-2.6 + 1.1 z)``, lost with
``sigmoid(-6.5 + 1.6 z)`` and damaged with 1 %; the deposit was waived with
``sigmoid(2.2 - 0.9 z)`` (partners waive it for people who score well). A rental whose
return (or, for a loss, due-back plus 30 days) lies on or after ``as_of`` is still out:
no ``returned_at``, no outcome.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openscore.domain.events import RENTAL_PRODUCTS
from openscore.eventfiles import columns as col
from openscore.synth.chunk import Chunk, expand
from openscore.synth.world import sigmoid

# RENTAL_PRODUCTS = bike, power_bank, umbrella, car, hotel, room
_WEIGHTS = np.array([0.34, 0.30, 0.10, 0.05, 0.12, 0.02])
_INCOME_ELASTIC = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 0.0])
#: planned duration in hours: (shortest, longest)
_HOURS = np.array([(0.25, 3), (2, 48), (12, 72), (24, 168), (24, 120), (720, 8760)])
_LOSS_FACTOR = np.array([1.0, 1.5, 2.0, 0.2, 0.0, 0.1])
US_PER_HOUR = 3_600_000_000


def rental_events(chunk: Chunk) -> list[pa.Table]:
    p, s, tl = chunk.people, chunk.streams, chunk.timeline
    who = np.flatnonzero(p.shares["rentals"])
    rate = 0.04 + 0.55 * p.e_literacy[who] ** 2
    months = (tl.as_of_day - tl.start_day) / 30.4375
    n_rent = s.poisson("rental.count", chunk.counts(who), rate * months)
    person_pos = who[expand(n_rent)]
    counts = chunk.counts(person_pos)
    risk = p.risk[person_pos]
    inc = p.income[person_pos] / chunk.world.params.world.median_income
    weights = _WEIGHTS[None, :] * inc[:, None] ** _INCOME_ELASTIC[None, :]
    product = s.categorical("rental.product", counts, weights)
    start = tl.start_us + np.floor(
        s.uniform("rental.start", counts) * (tl.as_of_us - tl.start_us)
    ).astype(np.int64)
    lo, hi = _HOURS[product, 0], _HOURS[product, 1]
    planned = (lo + (hi - lo) * s.uniform("rental.duration", counts)) * US_PER_HOUR
    due_back = start + planned.astype(np.int64)
    waived = s.uniform("rental.waived", counts) < sigmoid(2.2 - 0.9 * risk)
    u_fate = s.uniform("rental.fate", counts)
    p_lost = sigmoid(-6.5 + 1.6 * risk) * _LOSS_FACTOR[product]
    p_damaged = 0.01
    p_late = sigmoid(-2.6 + 1.1 * risk)
    lost = u_fate < p_lost
    damaged = ~lost & (u_fate < p_lost + p_damaged)
    late = ~lost & ~damaged & (u_fate < p_lost + p_damaged + p_late)
    lateness = s.exponential("rental.lateness", counts) * (0.5 * planned + 2 * US_PER_HOUR)
    early = (0.3 + 0.7 * s.uniform("rental.early", counts)) * planned
    returned_at = np.where(late, due_back + lateness, start + early).astype(np.int64)
    returned_at = np.maximum(returned_at, start + 60_000_000)
    settled = np.where(lost, due_back + 30 * col.US_PER_DAY, returned_at) < tl.as_of_us
    outcome = np.where(lost, 2, np.where(damaged, 1, 0))
    n = len(person_pos)
    return [
        col.event_table(
            n,
            {
                "event_id": chunk.event_ids("rental", person_pos),
                "type": col.constant("rental", n),
                "person_id": chunk.person_ids(person_pos),
                "source": col.constant("rentals", n),
                "occurred_at": col.timestamps(start),
                "product": col.enum(product, RENTAL_PRODUCTS),
                "deposit_waived": col.bools(waived),
                "due_back": col.timestamps(due_back),
                "returned_at": col.timestamps(returned_at, settled & ~lost),
                "rental_outcome": col.enum(outcome, ("returned", "damaged", "lost"), settled),
            },
        )
    ]
