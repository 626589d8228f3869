"""The scoring kernel's inner loop, compiled: every row's codes, points, sub-scores and top
reasons in one pass over the rows (numba, ``nogil``: threads score slices side by side).

``scoring/kernel.py`` builds the small tables (each term's points, reason and help keys
over the codes of its feature, or over a pair's cells; each numeric feature's grid over
its edges) once per scorecard, and calls :func:`score_rows` per batch. A row's values are
read once; nothing ``rows × terms`` is ever built, and the intermediate arrays of the
whole-array version (a code array per feature, a points array per term, two arrays per
place of the top keys) no longer exist: the loop keeps a row's codes and top keys in a
few registers' worth of local arrays.

Every rule is the kernel's (and so the one-person scorer's), operation for operation:

- a numeric value's code is ``bisect_right`` of the feature's sorted edges (NaN: ``m + 1``),
  found by the grid of ``scoring/locate.py`` (the cell from the same two floating-point
  operations as the edges' cells, then a branch-free binary search in the cell; a
  feature without a grid is searched from the first edge);
- a key is unique in a row and orders by loss then position; the top ``k`` are kept by
  insertion (largest first) and decoded to the reason's index ``2·term + missing`` and
  its points (``-1`` where absent);
- the score is the intercept plus every term's points, clipped; a sub-score is
  ``(200·(points − min) + span) // (2·span)`` (``NEUTRAL_SUBSCORE`` when the span is 0),
  absent where no term of the dimension is on file.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

#: rows per step of the loop (its scratch is a few arrays of this length per feature)
CHUNK = 1024


@njit(nogil=True, cache=True, boundscheck=False)
def locate(
    x: np.ndarray,
    out: np.ndarray,
    lo: float,
    scale: float,
    cells: int,
    start: np.ndarray,
    padded: np.ndarray,
    levels: int,
    missing: int,
) -> None:
    """``out[j]``: the code of ``x[j]`` among one feature's edges (``bisect_right``; NaN:
    ``missing``), by its grid (``scoring/locate.py``: ``start`` is the count of edges in
    the cells below each cell, ``padded`` the edges then NaN)."""
    top = float(cells - 1)
    for j in range(len(x)):
        v = x[j]
        if v != v:
            out[j] = missing
            continue
        # the cell: the same two operations as the edges' cells, clipped
        u = min(max((v - lo) * scale, 0.0), top) if top > 0.0 else 0.0
        c = start[np.uint64(u)]
        # then past the edge ``step`` places on when it is <= v (branch-free; a NaN pad
        # never is)
        for level in range(levels - 1, -1, -1):
            step = 1 << level
            c += step * (padded[np.uint64(c + step - 1)] <= v)
        out[j] = c


@njit(nogil=True, cache=True, boundscheck=False)
def score_rows(
    numeric: np.ndarray,  # float64 (features, rows), NaN where missing
    categorical: np.ndarray,  # int64 (features, rows): the bin
    lo: np.ndarray,
    scale: np.ndarray,
    cells: np.ndarray,
    start_at: np.ndarray,
    start: np.ndarray,
    pad_at: np.ndarray,
    padded: np.ndarray,
    levels: np.ndarray,
    missing: np.ndarray,
    by_code: np.ndarray,  # bool (numeric features): not missing means 'on file'
    term_first: np.ndarray,  # slot of the term's (first) feature: numeric, then categorical
    term_second: np.ndarray,  # a pair's second slot, −1 for a single feature
    term_dim: np.ndarray,
    term_at: np.ndarray,  # where the term's tables start in ``points`` ...
    row_at: np.ndarray,  # a pair's: where its row map starts in ``row_map``
    column_at: np.ndarray,  # ... and its column map in ``column_map`` (another length)
    points: np.ndarray,
    present: np.ndarray,
    reason_key: np.ndarray,
    help_key: np.ndarray,
    row_map: np.ndarray,
    column_map: np.ndarray,
    intercept: int,
    score_min: int,
    score_max: int,
    dim_min: np.ndarray,
    dim_span: np.ndarray,
    neutral: int,
    n_terms: int,
    pos_bits: int,
    term_loses: np.ndarray,  # bool: some cell of the term has a reason key (else all −1)
    term_earns: np.ndarray,  # bool: ... a help key
    band_lows: np.ndarray,  # int64: the lowest score of each band but the first
    on_file: np.ndarray,  # bool (rows), in and out
    score: np.ndarray,  # int64 (rows)
    band: np.ndarray,  # int32 (rows): the band's index (``bisect_right`` of ``band_lows``)
    sub: np.ndarray,  # int64 (dimensions, rows); −1 where absent
    reason_at: np.ndarray,  # int32 (k, rows): 2·term + missing, 0 where absent
    reason_points: np.ndarray,  # int64 (k, rows): its loss, −1 where absent
    help_at: np.ndarray,  # int32 (k, rows): the term, 0 where absent
    help_points: np.ndarray,  # int64 (k, rows): its points, −1 where absent
) -> None:
    n_num = numeric.shape[0]
    n_cat = categorical.shape[0]
    rows = numeric.shape[1] if n_num else categorical.shape[1]
    n_dims = dim_min.shape[0]
    n_bands = band_lows.shape[0]
    k_reasons = reason_at.shape[0]
    k_helps = help_at.shape[0]
    # a chunk's scratch, reused: every step reads one feature's (one term's) small table
    # for CHUNK rows, so that table stays in the core's cache
    # (keys, points and codes in the tables' integer type: int32 where everything fits,
    # twice the lanes of a vector instruction, and a native minimum and maximum)
    # (indices unsigned: numba checks a signed index for a negative one, which costs more
    # than the load itself and keeps the loop from vector instructions)
    codes = np.empty((n_num + n_cat, CHUNK), dtype=np.uint64)
    dim_points = np.empty((n_dims, CHUNK), dtype=points.dtype)
    dim_count = np.empty((n_dims, CHUNK), dtype=points.dtype)
    top_r = np.empty((k_reasons, CHUNK), dtype=reason_key.dtype)
    top_h = np.empty((k_helps, CHUNK), dtype=reason_key.dtype)
    cell = np.empty(CHUNK, dtype=np.uint64)
    key = np.empty(CHUNK, dtype=reason_key.dtype)
    for lo0 in range(0, rows, CHUNK):
        m = min(CHUNK, rows - lo0)
        for f in range(n_num):
            out = codes[f, :m]
            locate(
                numeric[f, lo0 : lo0 + m],
                out,
                lo[f],
                scale[f],
                cells[f],
                start[start_at[f] :],
                padded[pad_at[f] :],
                levels[f],
                missing[f],
            )
            if by_code[f]:
                gone = missing[f]
                for j in range(m):
                    if out[j] != gone:
                        on_file[lo0 + j] = True
        for f in range(n_cat):
            for j in range(m):
                codes[n_num + f, j] = categorical[f, lo0 + j]
        dim_points[:, :m] = 0
        dim_count[:, :m] = 0
        top_r[:, :m] = -1
        top_h[:, :m] = -1
        # the terms, one at a time over the chunk's rows (each step a plain loop over the
        # rows without branches, which the compiler turns into vector instructions)
        for t in range(n_terms):
            first = term_first[t]
            second = term_second[t]
            d = term_dim[t]
            at = np.uint64(term_at[t])
            if second < 0:
                for j in range(m):
                    cell[j] = at + codes[first, j]
            else:
                r0 = np.uint64(row_at[t])
                c0 = np.uint64(column_at[t])
                for j in range(m):
                    row = row_map[r0 + codes[first, j]]
                    cell[j] = at + row + column_map[c0 + codes[second, j]]
            for j in range(m):
                dim_points[d, j] += points[cell[j]]
                dim_count[d, j] += present[cell[j]]
            # the top keys by an insertion network: a maximum and a minimum per place
            if term_loses[t]:
                for j in range(m):
                    key[j] = reason_key[cell[j]]
                for r in range(k_reasons):
                    for j in range(m):
                        old = top_r[r, j]
                        top_r[r, j] = max(old, key[j])
                        key[j] = min(old, key[j])
            if term_earns[t]:
                for j in range(m):
                    key[j] = help_key[cell[j]]
                for r in range(k_helps):
                    for j in range(m):
                        old = top_h[r, j]
                        top_h[r, j] = max(old, key[j])
                        key[j] = min(old, key[j])
        for j in range(m):
            raw = intercept
            for d in range(n_dims):
                raw += dim_points[d, j]
            clipped = min(max(raw, score_min), score_max)
            score[lo0 + j] = clipped
            b = 0
            for k in range(n_bands):
                b += band_lows[k] <= clipped
            band[lo0 + j] = b
        for d in range(n_dims):
            span = dim_span[d]
            low_points = dim_min[d]
            for j in range(m):
                if not on_file[lo0 + j] or dim_count[d, j] == 0:
                    sub[d, lo0 + j] = -1
                elif span <= 0:
                    sub[d, lo0 + j] = neutral
                else:
                    # floor division in floating point: exact for |numerator| < 2^53
                    sub[d, lo0 + j] = int(
                        math.floor((200 * (dim_points[d, j] - low_points) + span) / (2 * span))
                    )
        # decode: a key is ``(loss << pos_bits | pos) << 1 | missing`` (a help key
        # ``points << pos_bits | pos``), ``pos`` being ``T − 1 − term``
        mask = (1 << pos_bits) - 1
        last = n_terms - 1
        for r in range(k_reasons):
            for j in range(m):
                v = top_r[r, j]
                if v < 0 or not on_file[lo0 + j]:
                    reason_at[r, lo0 + j] = 0
                    reason_points[r, lo0 + j] = -1
                else:
                    reason_at[r, lo0 + j] = 2 * (last - ((v >> 1) & mask)) + (v & 1)
                    reason_points[r, lo0 + j] = v >> (pos_bits + 1)
        for r in range(k_helps):
            for j in range(m):
                v = top_h[r, j]
                if v < 0 or not on_file[lo0 + j]:
                    help_at[r, lo0 + j] = 0
                    help_points[r, lo0 + j] = -1
                else:
                    help_at[r, lo0 + j] = last - (v & mask)
                    help_points[r, lo0 + j] = v >> pos_bits
