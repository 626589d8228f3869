"""Reading ahead in a thread (``ingest.prefetch``): the same items in the same order, an
error raised where it happened, and nothing left running when the caller stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from openscore.ingest.prefetch import prefetched


def test_items_arrive_in_order_and_are_produced_ahead() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for i in range(5):
            produced.append(i)
            yield i

    got = []
    for item in prefetched(items()):
        if item == 0:
            # the next item is produced while the caller still holds this one
            deadline = time.monotonic() + 5
            while len(produced) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert produced[:2] == [0, 1]
        got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_an_error_is_raised_after_the_items_before_it() -> None:
    def items() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("damaged after row 2")

    got = []
    with pytest.raises(ValueError, match="damaged after row 2"):
        for item in prefetched(items()):
            got.append(item)
    assert got == [1, 2]


def test_stopping_early_stops_the_producer_and_closes_its_iterator() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def items() -> Iterator[int]:
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    before = threading.active_count()
    with pytest.raises(RuntimeError):
        for item in prefetched(items()):
            if item == 1:
                raise RuntimeError("the caller failed")
    # the generator's clean-up ran, in the producer, before prefetched returned
    assert closed.is_set()
    assert len(produced) <= 4  # at most the item in hand, one waiting and one being made
    assert threading.active_count() == before
