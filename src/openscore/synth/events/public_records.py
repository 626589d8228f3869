"""Public records: rare, concentrated on high latent risk, held on a legal basis.

A person has ``Poisson(exp(-5.6 + 1.5 z))`` records (about 1 % of people have one), dated
uniformly over the eight years before ``as_of``; each expires ``record_years`` after its
date, so some have already expired. Public records need no consent: everyone's are
written.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openscore.domain.events import RECORD_KINDS
from openscore.eventfiles import columns as col
from openscore.synth.chunk import Chunk, expand

# RECORD_KINDS = court_judgment_default, tax_arrears, bankruptcy, enforcement_order
_KIND_WEIGHTS = np.array([0.55, 0.15, 0.05, 0.25])
LEGAL_BASIS_CN = (
    "Civil Procedure Law art. 253, court judgment",
    "Tax Collection and Administration Law art. 45, tax authority notice",
    "Shenzhen Special Economic Zone Personal Bankruptcy Regulations art. 2, court ruling",
    "Civil Procedure Law art. 247, enforcement order",
)
LEGAL_BASIS_GENERIC = (
    "Court judgment for an unpaid debt (civil procedure)",
    "Tax authority notice of arrears (tax administration law)",
    "Court ruling of personal insolvency (insolvency law)",
    "Court enforcement order (civil procedure)",
)


def public_record_events(chunk: Chunk) -> list[pa.Table]:
    p, s, tl = chunk.people, chunk.streams, chunk.timeline
    lam = np.exp(-5.6 + 1.5 * p.risk)
    n_rec = s.poisson("record.count", chunk.person_counts, lam)
    person_pos = expand(n_rec)
    counts = chunk.counts(person_pos)
    kind = s.categorical("record.kind", counts, _KIND_WEIGHTS)
    span = 8 * 365 * col.US_PER_DAY
    at = tl.as_of_us - 1 - np.floor(s.uniform("record.time", counts) * span).astype(np.int64)
    years = chunk.world.params.world.record_years
    expires = at + int(round(years * 365.25)) * col.US_PER_DAY
    owed = p.income[person_pos] * np.exp(-0.5 + 0.8 * s.normal("record.amount", counts))
    basis = LEGAL_BASIS_CN if chunk.world.cities.country == "CN" else LEGAL_BASIS_GENERIC
    n = len(person_pos)
    return [
        col.event_table(
            n,
            {
                "event_id": chunk.event_ids("public_record", person_pos),
                "type": col.constant("public_record", n),
                "person_id": chunk.person_ids(person_pos),
                "source": col.constant("public_records", n),
                "occurred_at": col.timestamps(at),
                "record_kind": col.enum(kind, RECORD_KINDS),
                "legal_basis": col.enum(kind, basis),
                "expires_at": col.timestamps(expires),
                "amount": col.amounts(np.round(owed, -1)),
            },
        )
    ]
