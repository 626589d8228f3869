"""Profile facts a person chose to declare, some verified.

Facts and how often they are declared: identity 95 %, phone 90 %, address 70 %,
employer 60 % (under 65), income 45 %, vehicle and property with income (and age).
Verification rates are fixed per fact, except income: verified with
``sigmoid(-0.4 - 0.35 z + 0.8 (e - 0.5))`` -- people with nothing to hide and a digital
life verify more. Declared income is the true income with noise, inflated a little by
risky people. Nothing a person *is* (sex, age, education, ...) is ever a profile fact.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openscore.domain.events import PROFILE_FACTS
from openscore.eventfiles import columns as col
from openscore.synth.chunk import Chunk
from openscore.synth.world import sigmoid

# PROFILE_FACTS = identity, address, phone, employer, income, vehicle, property
_VERIFIED = np.array([0.92, 0.5, 0.85, 0.45, 0.0, 0.7, 0.75])
#: What an identity, phone, employer, vehicle or property fact says (never scored as text).
SECTORS = (
    "manufacturing",
    "services",
    "public_sector",
    "technology",
    "retail",
    "construction",
    "self_employed",
)
_WORDS: dict[int, tuple[str, ...]] = {
    0: ("national_id",),
    2: ("mobile",),
    3: SECTORS,
    5: ("car", "motorbike"),
    6: ("apartment", "house"),
}


def profile_events(chunk: Chunk) -> list[pa.Table]:
    p, s, tl = chunk.people, chunk.streams, chunk.timeline
    nf = len(PROFILE_FACTS)
    counts = chunk.person_counts
    log_inc = np.log(p.income / chunk.world.params.world.median_income)
    declare_p = np.column_stack(
        [
            np.full(chunk.n, 0.95),
            np.full(chunk.n, 0.70),
            np.full(chunk.n, 0.90),
            0.6 * (p.age < 65),
            np.full(chunk.n, 0.45),
            sigmoid(-1.5 + 1.2 * log_inc),
            sigmoid(-1.2 + 1.0 * log_inc + 0.04 * (p.age - 40)),
        ]
    )
    u = s.uniform("profile.declared", counts * nf).reshape(chunk.n, nf)
    present = (u < declare_p) & p.shares["profile"][:, None]
    person_pos, fact = np.nonzero(present)
    rows = chunk.counts(person_pos)
    risk, e = p.risk[person_pos], p.e_literacy[person_pos]
    verified_p = np.where(fact == 4, sigmoid(-0.4 - 0.35 * risk + 0.8 * (e - 0.5)), _VERIFIED[fact])
    verified = s.uniform("profile.verified", rows) < verified_p
    span = tl.as_of_us - tl.start_us + 2 * 365 * col.US_PER_DAY
    at = tl.as_of_us - 1 - np.floor(s.uniform("profile.time", rows) * span).astype(np.int64)
    declared_income = p.income[person_pos] * np.exp(
        0.1 * s.normal("profile.income_noise", rows) + 0.08 * np.maximum(risk, 0)
    )
    # fact_value: the city for an address, a word for the others, nothing for income.
    pick = s.uniform("profile.value", rows)
    vocabulary = list(chunk.world.cities.name)
    index = np.where(fact == 1, p.city[person_pos], 0).astype(np.int64)
    for f, words in _WORDS.items():
        sel = fact == f
        index[sel] = len(vocabulary) + np.minimum(np.floor(pick[sel] * len(words)), len(words) - 1)
        vocabulary.extend(words)
    fact_value = pa.array(vocabulary, pa.string()).take(pa.array(index, mask=fact == 4))
    n = len(person_pos)
    return [
        col.event_table(
            n,
            {
                "event_id": chunk.event_ids("profile_fact", person_pos),
                "type": col.constant("profile_fact", n),
                "person_id": chunk.person_ids(person_pos),
                "source": col.constant("profile", n),
                "occurred_at": col.timestamps(at),
                "fact": col.enum(fact, PROFILE_FACTS),
                "fact_value": fact_value,
                "verified": col.bools(verified),
                "amount": col.amounts(np.round(declared_income, -2), fact == 4),
            },
        )
    ]
