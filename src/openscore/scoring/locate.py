"""Where every value of a numeric column falls among sorted edges: ``bisect_right`` of the
one-person scorer for a whole array at once, in a few branch-free numpy passes.

``np.searchsorted`` is a binary search per value whose branches the processor cannot
predict (35-55 ns a value for 8 edges, more for the few hundred of an EBM's feature), so
the kernel locates a value in one of three ways, chosen per feature when it is made:

- **count** (few edges): the number of edges ``<= x`` as a compare and an add per edge;
- **grid** (many edges): a uniform grid of ``2^p`` cells over the edges' range puts ``x``
  in cell ``c = min(max((x − lo) · scale, 0), 2^p − 1)`` (truncated), and a table gives
  the number of edges in the cells below; the few edges of ``x``'s own cell are then
  counted by a branch-free binary search of ``levels`` steps (a take, a compare and a
  masked add each). It is exact: the cell is a monotone function of ``x`` computed with
  the same floating-point operations for the edges and for the rows, so an edge in a
  lower cell is ``< x`` and one in a higher cell is ``> x``;
- **search** (``np.searchsorted``): edges no grid of at most ``2^MAX_GRID_BITS`` cells
  separates well (a few clustered among far-apart ones).

NaN (a null read as NaN) gets ``m + 1``, ``m`` being the number of edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Codes = npt.NDArray[np.intp]

#: the grid's cells: at most ``2^MAX_GRID_BITS``; beyond ``2^CHEAP_GRID_BITS`` its table
#: leaves the first-level cache (a small cost a doubling)
MAX_GRID_BITS = 14
CHEAP_GRID_BITS = 12

# rough costs in ns a value (numpy 2.4 on the shared 2-core EPYC, 16,384 values), to
# choose a way per feature: a take ~1.4, a float compare ~0.2, an int8 add ~0.1
_COUNT_FIXED = 1.0  # NaN's start, to integer
_COUNT_PER_EDGE = 0.3  # a compare and an add
_GRID_FIXED = 4.1  # subtract, scale, clip, NaN cell, to integer, the table
_GRID_PER_LEVEL = 2.7  # a take, a compare into integers, a shift, an add
_SEARCH = 40.0  # np.searchsorted, branchy, for a few hundred edges


@dataclass(frozen=True, slots=True)
class _Grid:
    lo: float
    scale: float
    cells: int
    #: edges in the cells below each cell; the extra cell ``cells`` is NaN's (``m + 1``)
    start: Codes
    #: the edges, then ``2^levels`` NaN (never ``<=`` anything: a search never passes them)
    padded: F64
    levels: int

    def cell(self, x: F64) -> Codes:
        """The cell of every value (the same operations for the edges and the rows)."""
        with np.errstate(over="ignore"):  # beyond the floats: ±inf, clipped below
            u = x - self.lo
            u *= self.scale
        np.clip(u, 0.0, self.cells - 1, out=u)  # NaN stays NaN
        np.fmin(u, self.cells, out=u)  # NaN -> the extra cell
        out: Codes = u.astype(np.intp)  # truncation of a value >= 0: its floor
        return out

    def codes(self, x: F64) -> Codes:
        idx = self.start.take(self.cell(x))
        hit = np.empty(len(x), dtype=np.intp)
        for level in range(self.levels - 1, -1, -1):
            # the edge ``2^level`` places on: passed when it is <= x (a masked add,
            # ``where=``, is several times slower than a compare into integers and a shift)
            probe = self.padded[(1 << level) - 1 :].take(idx)
            np.greater_equal(x, probe, out=hit, casting="unsafe")
            if level:
                np.left_shift(hit, level, out=hit)
            idx += hit
        return idx

    @classmethod
    def build(cls, edges: F64, bits: int) -> _Grid | None:
        """The grid of ``2^bits`` cells over ``edges`` (None where their span overflows)."""
        lo, span, cells = float(edges[0]), float(edges[-1]) - float(edges[0]), 1 << bits
        scale = cells / span if span > 0 else math.inf
        if not (math.isfinite(scale) and scale > 0):
            return None
        grid = cls(lo, scale, cells, np.empty(0, dtype=np.intp), edges, 0)
        at = grid.cell(edges)
        start = np.searchsorted(at, np.arange(cells + 1), side="left").astype(np.intp)
        start[cells] = len(edges) + 1
        levels = int(np.bincount(at, minlength=cells).max()).bit_length()
        padded = np.concatenate([edges, np.full(1 << levels, np.nan)])
        return cls(lo, scale, cells, start, padded, levels)

    @property
    def cost(self) -> float:
        bits = self.cells.bit_length() - 1
        return _GRID_FIXED + _GRID_PER_LEVEL * self.levels + 0.3 * max(0, bits - CHEAP_GRID_BITS)


def _best_grid(edges: F64) -> _Grid | None:
    """The cheapest grid (the fewest search steps, then the fewest cells)."""
    best: _Grid | None = None
    for bits in range(1, MAX_GRID_BITS + 1):
        grid = _Grid.build(edges, bits)
        if grid is None:
            return None
        if best is None or grid.cost < best.cost:
            best = grid
        if grid.levels <= 1:
            break
    return best


class EdgeLocator:
    """The interval of every value among ``edges`` (sorted, unique, finite): ``0 .. m`` as
    ``bisect_right``, ``m + 1`` where NaN (see the module docstring)."""

    def __init__(self, edges: F64) -> None:
        self.edges = edges
        m = len(edges)
        self.grid = _best_grid(edges) if m > 1 and bool(np.isfinite(edges).all()) else None
        counting = _COUNT_FIXED + _COUNT_PER_EDGE * m
        if counting <= min(self.grid.cost if self.grid else _SEARCH, _SEARCH):
            self.way = "count"
        elif self.grid is not None and self.grid.cost < _SEARCH:
            self.way = "grid"
        else:
            self.way = "search"
        self._with_nan = np.append(edges, np.nan)  # NaN sorts last: code m + 1

    @property
    def missing(self) -> int:
        """The code of NaN."""
        return len(self.edges) + 1

    def codes(self, x: F64) -> Codes:
        """The code of every value of ``x`` (float64)."""
        if self.way == "grid" and self.grid is not None:
            return self.grid.codes(x)
        if self.way == "search":
            out: Codes = np.searchsorted(self._with_nan, x, side="right")
            return out
        # NaN fails every comparison, so it starts at m + 1 and stays there (in one byte
        # a value, as counting is chosen for a few edges)
        small = np.dtype(np.int8 if self.missing < 128 else np.intp)
        acc: npt.NDArray[np.signedinteger[Any]] = np.isnan(x).astype(small)
        acc *= self.missing
        hit = np.empty(len(x), dtype=np.bool_)
        for e in self.edges:
            np.greater_equal(x, e, out=hit)
            acc += hit.view(np.int8)
        return acc.astype(np.intp, copy=False)
