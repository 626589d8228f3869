"""How monthly obligations (bills, credit instalments) get paid.

Two mechanisms, both driven by latent risk ``z``:

* a monthly *distress* chain per person (enter with ``sigmoid(-4.6 + 1.4 z)``, stay with
  ``sigmoid(0.2 + 0.6 z)``): in a distress month most obligations are paid 30-120 days
  late, and a quarter of them never;
* outside distress, an obligation is paid 1-29 days late with ``sigmoid(-3.0 + 1.1 z)``,
  otherwise on time (0-7 days early).

A payment dated on or after ``as_of`` has not happened yet: the obligation is reported
unpaid (``paid_date`` null, ``amount_paid`` 0).
"""

from __future__ import annotations

import numpy as np

from openscore.synth.chunk import Chunk
from openscore.synth.world import sigmoid


def distress(chunk: Chunk) -> np.ndarray:
    """(people, months) booleans: who is in financial distress in which month."""
    if "distress" in chunk.cache:
        return chunk.cache["distress"]
    p = chunk.people
    k = chunk.timeline.n_months
    u = chunk.streams.uniform("settle.distress", chunk.person_counts * k).reshape(len(p), k)
    enter = sigmoid(-4.6 + 1.4 * p.risk)
    stay = sigmoid(0.2 + 0.6 * p.risk)
    state = np.empty((len(p), k), dtype=bool)
    # Start from the chain's stationary share so the first months are not special.
    current = u[:, 0] < enter / (1 - stay + enter)
    state[:, 0] = current
    for m in range(1, k):
        current = np.where(current, u[:, m] < stay, u[:, m] < enter)
        state[:, m] = current
    chunk.cache["distress"] = state
    return state


def settle(
    chunk: Chunk,
    name: str,
    person_pos: np.ndarray,
    month: np.ndarray,
    due_day: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """When each obligation was paid: (paid day or -1 if unpaid, paid flag).

    ``name`` names the random streams (one set per kind of obligation).
    """
    counts = chunk.counts(person_pos)
    s = chunk.streams
    u_late = s.uniform(f"{name}.late", counts)
    u_never = s.uniform(f"{name}.never", counts)
    delay_exp = s.exponential(f"{name}.delay", counts)
    u_early = s.uniform(f"{name}.early", counts)
    risk = chunk.people.risk[person_pos]
    in_distress = distress(chunk)[person_pos, month]
    minor = u_late < sigmoid(-3.0 + 1.1 * risk)
    delay = np.where(
        in_distress & (u_late < 0.85),
        30 + np.minimum(np.floor(delay_exp * 30), 90),
        np.where(minor, 1 + np.minimum(np.floor(delay_exp * 6), 28), -np.floor(u_early * 8)),
    ).astype(np.int64)
    paid_day = due_day + delay
    paid = (paid_day < chunk.timeline.as_of_day) & ~(in_distress & (u_never < 0.25))
    return np.where(paid, paid_day, -1), paid
