"""One chunk of work: whole blocks of people, their streams, and row bookkeeping.

Event generators receive a ``Chunk`` and return tables; they never see other chunks.
Rows are always produced in person order, so that event ids -- ``<type>-<block>-<seq>``,
``seq`` counting the type's rows within the block -- are the same whatever the chunking.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from openscore.eventfiles.columns import digits, fixed_strings, text_matrix
from openscore.synth.streams import Streams
from openscore.synth.timeline import Timeline
from openscore.synth.world import People, World

#: Event id prefix of each type (readable, and unique per type).
TYPE_CODES = {
    "payment": b"pay",
    "bill_payment": b"bil",
    "credit_account": b"acc",
    "repayment": b"rep",
    "rental": b"ren",
    "profile_fact": b"pro",
    "relationship": b"rel",
    "public_record": b"pub",
}
SEQ_DIGITS = 7


@dataclass
class Chunk:
    world: World
    timeline: Timeline
    streams: Streams
    people: People
    #: the chunk's people and one block on each side (for the friend graph)
    neighbours: People
    #: per-chunk values shared by several event generators (the distress chain)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.people)

    @property
    def block_digits(self) -> int:
        return max(6, len(str(self.world.n_blocks)))

    def counts(self, person_pos: np.ndarray) -> np.ndarray:
        """Per-block number of rows, for rows belonging to chunk positions ``person_pos``
        (non-decreasing)."""
        return np.bincount(
            self.people.block[person_pos] - self.people.first_block,
            minlength=self.people.n_blocks,
        ).astype(np.int64)

    @property
    def person_counts(self) -> np.ndarray:
        return self.people.block_sizes

    def id_matrix(self, numbers: np.ndarray) -> np.ndarray:
        """``p`` + zero-padded person numbers, as a byte matrix."""
        return text_matrix([b"p", digits(numbers, self.world.id_digits)], len(numbers))

    @property
    def _people_ids(self) -> np.ndarray:
        if "people_ids" not in self.cache:
            self.cache["people_ids"] = self.id_matrix(self.people.number)
        return self.cache["people_ids"]

    def person_ids(self, person_pos: np.ndarray) -> pa.Array:
        """The ``person_id`` of each row (rows given by chunk position)."""
        return fixed_strings(self._people_ids[person_pos])

    def event_ids(self, type_name: str, person_pos: np.ndarray) -> pa.Array:
        """Unique, chunking-independent ids for rows of one type in person order."""
        if len(person_pos) and np.any(np.diff(person_pos) < 0):
            raise ValueError(f"{type_name} rows are not in person order")
        p = self.people
        local_block = p.block[person_pos] - p.first_block
        per_block = np.bincount(local_block, minlength=p.n_blocks)
        self.cache[f"rows_per_block.{type_name}"] = per_block
        if len(per_block) and per_block.max() > 10**SEQ_DIGITS:
            raise OverflowError(f"more than 10^{SEQ_DIGITS} {type_name} rows in one block")
        first_row = np.concatenate([[0], np.cumsum(per_block)[:-1]])
        seq = np.arange(len(person_pos), dtype=np.int64) - first_row[local_block]
        blocks = np.arange(p.first_block, p.first_block + p.n_blocks)
        prefix = text_matrix(
            [TYPE_CODES[type_name] + b"-", digits(blocks, self.block_digits), b"-"], len(blocks)
        )
        return fixed_strings(np.hstack([prefix[local_block], digits(seq, SEQ_DIGITS)]))


def interleave_blocks(chunk: Chunk, tables: list[pa.Table]) -> pa.Table | None:
    """One source's tables (one per type) as one, block after block.

    A file then holds block 0's payments and bills, block 1's ... -- an order that does
    not depend on how many blocks a chunk holds.
    """
    tables = [t for t in tables if t.num_rows]
    if len(tables) <= 1:
        return tables[0] if tables else None
    pieces = []
    offsets = []
    counts = []
    for t in tables:
        per_block = chunk.cache[f"rows_per_block.{t.column('type')[0].as_py()}"]
        counts.append(per_block)
        offsets.append(np.concatenate([[0], np.cumsum(per_block)[:-1]]))
    for b in range(chunk.people.n_blocks):
        for t, off, cnt in zip(tables, offsets, counts, strict=True):
            if cnt[b]:
                pieces.append(t.slice(int(off[b]), int(cnt[b])))
    return pa.concat_tables(pieces)


def expand(counts: np.ndarray) -> np.ndarray:
    """Positions repeated ``counts`` times: the owner of each derived row."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def rank_within(owner: np.ndarray) -> np.ndarray:
    """0, 1, 2 ... within each run of equal (sorted) owners."""
    return np.arange(len(owner), dtype=np.int64) - np.searchsorted(owner, owner, side="left")
