"""Per-block random streams: why the same seed gives the same world at any chunk size.

Every random number belongs to one *block* of people (``BLOCK`` consecutive people in
generation order) and one *purpose* (a name such as ``"age"`` or ``"payment.amount"``).
Each (block, purpose) pair has its own generator, seeded by
``SeedSequence(seed, spawn_key=(crc32(purpose), block))``. A chunk of work is any run of
whole blocks: its arrays are the concatenation of its blocks' draws, so the values do not
depend on how blocks are grouped into chunks, which worker draws them, or in which order
the purposes are drawn. Adding a purpose never shifts another purpose's numbers.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

#: People per block: the unit of randomness. Fixed: changing it changes every world.
BLOCK = 4096

Draw = Callable[[np.random.Generator, int, slice], np.ndarray]


def purpose_key(purpose: str) -> int:
    """A stable 32-bit number for a purpose name (``hash()`` is salted per process)."""
    return zlib.crc32(purpose.encode())


class Streams:
    """The random streams of a run of consecutive blocks.

    ``first_block`` is the index of the first block; ``counts`` arguments of the draw
    methods give how many values each block of the run needs (one entry per block).
    """

    def __init__(self, seed: int, first_block: int, n_blocks: int) -> None:
        self.seed = seed
        self.first_block = first_block
        self.n_blocks = n_blocks
        self._used: set[str] = set()

    def generator(self, purpose: str, block: int) -> np.random.Generator:
        """The generator of one (purpose, block): a fresh one every call."""
        seq = np.random.SeedSequence(self.seed, spawn_key=(purpose_key(purpose), block))
        return np.random.Generator(np.random.PCG64(seq))

    def draw(self, purpose: str, counts: np.ndarray, fn: Draw) -> np.ndarray:
        """Concatenate ``fn(generator, n, slice)`` over the blocks of the run.

        ``slice`` locates the block's values in the concatenated result, so that ``fn``
        can pick per-value parameters (a Poisson mean per person, say).
        """
        if purpose in self._used:
            # Drawing twice from one stream would make values depend on call order.
            raise RuntimeError(f"random stream {purpose!r} drawn twice for the same blocks")
        self._used.add(purpose)
        counts = np.asarray(counts, dtype=np.int64)
        if len(counts) != self.n_blocks:
            raise ValueError(f"{purpose}: {len(counts)} block counts for {self.n_blocks} blocks")
        parts = []
        start = 0
        for k, n in enumerate(counts.tolist()):
            sl = slice(start, start + n)
            parts.append(fn(self.generator(purpose, self.first_block + k), n, sl))
            start += n
        if not parts:
            return np.empty(0)
        return np.concatenate(parts)

    # Shorthands for the distributions the generator uses.

    def uniform(self, purpose: str, counts: np.ndarray) -> np.ndarray:
        return self.draw(purpose, counts, lambda g, n, sl: g.random(n))

    def normal(self, purpose: str, counts: np.ndarray) -> np.ndarray:
        return self.draw(purpose, counts, lambda g, n, sl: g.standard_normal(n))

    def exponential(self, purpose: str, counts: np.ndarray) -> np.ndarray:
        return self.draw(purpose, counts, lambda g, n, sl: g.standard_exponential(n))

    def poisson(self, purpose: str, counts: np.ndarray, lam: np.ndarray) -> np.ndarray:
        return self.draw(purpose, counts, lambda g, n, sl: g.poisson(lam[sl])).astype(np.int64)

    def gamma(self, purpose: str, counts: np.ndarray, shape: np.ndarray) -> np.ndarray:
        return self.draw(purpose, counts, lambda g, n, sl: g.standard_gamma(shape[sl]))

    def categorical(self, purpose: str, counts: np.ndarray, p: np.ndarray) -> np.ndarray:
        """Category codes drawn with probabilities ``p`` (one row of ``p`` per value, or one
        vector for all)."""
        u = self.uniform(purpose, counts)
        p = np.asarray(p, dtype=np.float64)
        if p.ndim == 1:
            cum = np.cumsum(p / p.sum())
            return np.minimum(np.searchsorted(cum, u, side="right"), len(p) - 1)
        cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        return np.minimum((u[:, None] >= cum).sum(axis=1), p.shape[1] - 1)


def block_counts(per_item: np.ndarray, item_block: np.ndarray, n_blocks: int, first_block: int):
    """How many derived values each block needs: ``per_item`` summed over the items of
    each block (``item_block`` gives each item's absolute block, non-decreasing)."""
    return np.bincount(item_block - first_block, weights=per_item, minlength=n_blocks).astype(
        np.int64
    )
