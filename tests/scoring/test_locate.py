"""The compiled loop's edge locator == ``bisect_right`` (NaN: one past the last interval),
with and without a grid, on edges even, clustered and far apart, and on values at, beside
and far from the edges."""

from __future__ import annotations

import bisect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openscore.scoring.locate import EdgeLocator


def want(edges: np.ndarray, x: np.ndarray) -> list[int]:
    e = edges.tolist()
    return [len(e) + 1 if math.isnan(v) else bisect.bisect_right(e, v) for v in x.tolist()]


def probes(edges: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Every edge, its neighbours, -0.0, ±inf, NaN, huge and random values in the range."""
    near = np.concatenate(
        [edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf), edges + 0.5]
    )
    lo, hi = float(edges.min(initial=0.0)), float(edges.max(initial=1.0))
    spread = rng.uniform(lo - 1, hi + 1, 500) if math.isfinite(hi - lo) else rng.normal(0, 1, 9)
    odd = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 5e-324, -5e-324]
    x = np.concatenate([near, spread, np.round(spread), odd, odd]).astype(np.float64)
    return rng.permutation(x)  # NaN and ±inf anywhere, not only in a loop's remainder


finite = st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False)


@st.composite
def edge_sets(draw: st.DrawFn) -> np.ndarray:
    """Even, random, clustered near zero among far-apart, or spanning the floats."""
    kind = draw(st.sampled_from(["random", "cluster", "even", "wide", "integers"]))
    if kind == "random":
        values = draw(st.lists(finite, min_size=0, max_size=400))
    elif kind == "cluster":
        dense = draw(st.lists(st.floats(0, 50), min_size=10, max_size=200))
        sparse = draw(st.lists(finite, min_size=1, max_size=50))
        values = dense + sparse
    elif kind == "even":
        n, step = draw(st.integers(1, 300)), draw(st.sampled_from([0.1, 1.0, 1000.0]))
        values = [i * step - 7 for i in range(n)]
    elif kind == "wide":
        values = draw(st.lists(st.floats(-1.7e308, 1.7e308, allow_nan=False), max_size=60))
        values = [v for v in values if math.isfinite(v)]
    else:
        values = [v + 0.5 for v in draw(st.lists(st.integers(-(10**6), 10**6), max_size=300))]
    return np.unique(np.asarray(values, dtype=np.float64))


def compiled_codes(edges: np.ndarray, x: np.ndarray, dtype: type[np.signedinteger]) -> list[int]:
    """The codes of the compiled loop (``scoring/fused.py``), from the kernel's grids."""
    from openscore.scoring.fused import locate
    from openscore.scoring.kernel import _Grids, _NumericCodes

    g = _Grids.of([_NumericCodes.of(edges)], dtype)
    out = np.empty(len(x), dtype=np.uint64)
    locate(x, out, g.lo[0], g.scale[0], g.cells[0], g.start, g.padded, g.levels[0], g.missing[0])
    return [int(c) for c in out]


@settings(max_examples=120, deadline=None)
@given(
    edges=edge_sets(),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from([np.int32, np.int64]),
)
def test_the_compiled_loop_is_bisect_right(
    edges: np.ndarray, seed: int, dtype: type[np.signedinteger]
) -> None:
    """The same grids read by the compiled loop, with or without a grid (one cell: a
    search from the first edge), in either integer type."""
    x = probes(edges, np.random.default_rng(seed))
    assert compiled_codes(edges, x, dtype) == want(edges, x)
    assert compiled_codes(edges, x[:0], dtype) == []


@pytest.mark.parametrize("n", [3, 40, 300])
def test_lognormal_edges(n: int) -> None:
    rng = np.random.default_rng(n)
    edges = np.unique(np.round(rng.lognormal(6, 2, n), 1))
    x = probes(edges, rng)
    assert EdgeLocator(edges).grid is not None
    for dtype in (np.int32, np.int64):
        assert compiled_codes(edges, x, dtype) == want(edges, x)


def test_a_grid_where_one_fits() -> None:
    assert EdgeLocator(np.arange(300, dtype=np.float64)).grid is not None
    # edges a billionth apart next to a far one, and thousands of them: still a grid
    for count, gap in ((300, 1e-9), (50_000, 1e-12)):
        tight = np.concatenate([1 + np.arange(count) * gap, [1e12]])
        loc = EdgeLocator(tight)
        assert loc.grid is not None
        x = probes(tight, np.random.default_rng(count))
        assert compiled_codes(tight, x, np.int64) == want(tight, x)
    # one edge, or a span beyond the floats: none (the loop searches from the first edge)
    assert EdgeLocator(np.array([1.5])).grid is None
    assert EdgeLocator(np.array([-1.7e308, 1.7e308])).grid is None
