"""Relationship events: one per person per mutual friendship, when both share ``social``.

A friendship between A and B becomes two events -- A's (counterparty B) and B's
(counterparty A) -- dated when it started. Each is written in the chunk of the person it
belongs to. A friendship with someone who does not share ``social`` is not written at
all, on either side: consent is mutual.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from openscore.eventfiles import columns as col
from openscore.synth.chunk import Chunk
from openscore.synth.graph import neighbourhood


def social_events(chunk: Chunk) -> tuple[list[pa.Table], np.ndarray]:
    """The chunk's relationship events, and every chunk person's degree (before consent)."""
    p, ext = chunk.people, chunk.neighbours
    lo = int(p.index[0]) if len(p) else 0
    hi = lo + len(p)
    person, friend, since, degree = neighbourhood(chunk.world, ext, lo, hi)
    social = ext.shares["social"]
    base = int(ext.index[0])
    both = social[person - base] & social[friend - base]
    person_pos = person[both] - lo
    friend_number = ext.number[friend[both] - base]
    n = len(person_pos)
    table = col.event_table(
        n,
        {
            "event_id": chunk.event_ids("relationship", person_pos),
            "type": col.constant("relationship", n),
            "person_id": chunk.person_ids(person_pos),
            "source": col.constant("social", n),
            "occurred_at": col.timestamps(since[both]),
            "counterparty_id": col.fixed_strings(chunk.id_matrix(friend_number)),
        },
    )
    return [table], degree
