"""Where a value falls among sorted edges (``bisect_right`` of the one-person scorer), the
tables of the compiled loop (``scoring/fused.py``) built here once per feature.

A uniform grid of ``2^p`` cells over the edges' range puts ``x`` in cell
``c = min(max((x − lo) · scale, 0), 2^p − 1)`` (truncated), and a table gives the number of
edges in the cells below; the few edges of ``x``'s own cell are then counted by a
branch-free binary search of ``levels`` steps. It is exact: the cell is a monotone
function of ``x`` computed with the same floating-point operations for the edges and for
the rows, so an edge in a lower cell is ``< x`` and one in a higher cell is ``> x``. A
feature whose edges no grid fits (fewer than two, or a span that overflows) is searched
from its first edge in one cell (``scoring/kernel.py``). NaN (a null read as NaN) gets
``m + 1``, ``m`` being the number of edges.

(``np.searchsorted``, a binary search per value with branches the processor cannot
predict, took 35-55 ns a value for 8 edges and more for an EBM's few hundred; the
kernel's earlier numpy versions chose per feature between counting, this grid and
``searchsorted`` by a cost model, ``docs/scale.md``; the compiled loop needs only the
grid.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
Codes = npt.NDArray[np.intp]

#: the grid's cells: at most ``2^MAX_GRID_BITS``; beyond ``2^CHEAP_GRID_BITS`` its table
#: leaves the first-level cache (a small cost a doubling)
MAX_GRID_BITS = 14
CHEAP_GRID_BITS = 12

# rough costs in ns a value of a grid's two parts (measured for the numpy version, 16,384
# values), to choose its size: the cell and its table, then each step of the search
_GRID_FIXED = 4.1
_GRID_PER_LEVEL = 2.7


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
    """The grid over ``edges`` (sorted, unique, finite; ``None`` where none fits) and the
    code of NaN, ``m + 1`` (see the module docstring)."""

    def __init__(self, edges: F64) -> None:
        self.edges = edges
        m = len(edges)
        self.grid = _best_grid(edges) if m > 1 and bool(np.isfinite(edges).all()) else None

    @property
    def missing(self) -> int:
        """The code of NaN."""
        return len(self.edges) + 1
