"""The building blocks of reproducibility: per-block streams and the id permutation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openscore.eventfiles.columns import digits
from openscore.synth.streams import Streams
from openscore.synth.world import IdPermutation, default_intercept, sigmoid


@given(st.integers(1, 6), st.integers(0, 5), st.integers(0, 2**32))
def test_a_block_draws_the_same_numbers_in_any_run_of_blocks(n: int, k: int, seed: int) -> None:
    counts = np.arange(1, n + 1) * 7
    whole = Streams(seed, 0, n).normal("x", counts)
    k = min(k, n - 1)
    part = Streams(seed, k, n - k).normal("x", counts[k:])
    assert np.array_equal(whole[counts[:k].sum() :], part)


def test_a_stream_is_drawn_once_per_run() -> None:
    streams = Streams(1, 0, 1)
    streams.uniform("x", np.array([3]))
    with pytest.raises(RuntimeError, match="drawn twice"):
        streams.uniform("x", np.array([3]))


@given(st.integers(1, 5000), st.integers(0, 2**40))
def test_ids_are_a_permutation(n: int, seed: int) -> None:
    perm = IdPermutation(n, seed)(np.arange(n))
    assert np.array_equal(np.sort(perm), np.arange(n))


@given(st.lists(st.integers(0, 10**12 - 1), max_size=50), st.integers(1, 12))
def test_digits(numbers: list[int], width: int) -> None:
    numbers = [x % 10**width for x in numbers]
    m = digits(np.array(numbers, dtype=np.int64), width)
    assert [bytes(row).decode() for row in m] == [f"{x:0{width}d}" for x in numbers]


@given(st.floats(0.01, 0.4), st.floats(0.3, 3.0))
def test_default_intercept_hits_the_bad_rate(bad_rate: float, slope: float) -> None:
    z = np.random.default_rng(0).standard_normal(400_000)
    a = default_intercept(bad_rate, slope)
    assert abs(sigmoid(a + slope * z).mean() - bad_rate) < 0.004


def test_public_names() -> None:
    import openscore.synth as synth

    assert synth.__all__ == sorted(synth.__all__)
    assert set(synth.__all__) == {
        "RunOptions",
        "Shares",
        "SynthParams",
        "WorldParams",
        "generate",
        "parse_params",
    }
