"""The ingest's threads beside validation: in order, and an error is never lost."""

from __future__ import annotations

import threading

import pytest

from openscore.errors import StorageError
from openscore.ingest.writer import BackgroundWriter, read_ahead


def test_jobs_run_in_order_in_one_other_thread() -> None:
    done: list[tuple[int, str]] = []
    with BackgroundWriter() as writer:
        for i in range(20):
            writer.submit(lambda i=i: done.append((i, threading.current_thread().name)))
    assert [i for i, _ in done] == list(range(20))
    assert {name for _, name in done} == {"ingest-writer-0"}


def test_an_error_is_raised_to_the_caller_and_the_rest_is_not_written() -> None:
    done: list[int] = []

    def fail() -> None:
        raise StorageError("no space left on the device holding /x")

    writer = BackgroundWriter()
    writer.submit(lambda: done.append(1))
    writer.submit(fail)
    writer.submit(lambda: done.append(2))
    with pytest.raises(StorageError, match="no space left"):
        writer.wait()
    with pytest.raises(StorageError, match="no space left"):
        writer.__exit__(None, None, None)
    assert done == [1]


def test_leaving_the_block_waits_for_the_jobs_and_raises_their_error() -> None:
    gate = threading.Event()
    done: list[int] = []

    def slow() -> None:
        gate.wait(5)
        done.append(1)

    with pytest.raises(OSError, match="disk"):
        with BackgroundWriter() as writer:
            writer.submit(slow)
            writer.submit(lambda: (_ for _ in ()).throw(OSError("disk")))
            gate.set()
    assert done == [1]


def test_the_callers_own_error_wins_and_the_thread_still_ends() -> None:
    with pytest.raises(KeyError):
        with BackgroundWriter() as writer:
            writer.submit(lambda: None)
            raise KeyError("caller")
    assert not any(t.is_alive() for t in writer._threads)


def test_lanes_run_beside_each_other_and_can_be_waited_for_alone() -> None:
    """A job that waits in one lane does not hold up the other lane: waiting for that
    lane returns while the first is still busy; each lane keeps its own order."""
    gate = threading.Event()
    done: list[tuple[int, str]] = []
    with BackgroundWriter(lanes=2) as writer:
        writer.submit(gate.wait, 0)
        for i in range(5):
            writer.submit(lambda i=i: done.append((i, threading.current_thread().name)), 1)
        writer.wait(1)
        assert [i for i, _ in done] == list(range(5))
        assert {name for _, name in done} == {"ingest-writer-1"}
        assert not gate.is_set()  # lane 0 still busy
        gate.set()
        writer.wait()


def test_an_error_in_one_lane_stops_the_other_and_is_raised() -> None:
    """A job queued in another lane when one fails does not run, nor does any submitted
    after; the error is raised by ``wait``, ``submit`` and leaving the block."""
    gate = threading.Event()
    done: list[int] = []
    writer = BackgroundWriter(lanes=2)
    writer.submit(gate.wait, 1)
    writer.submit(lambda: done.append(1), 1)  # queued behind the gate
    writer.submit(lambda: (_ for _ in ()).throw(OSError("disk")), 0)
    with pytest.raises(OSError, match="disk"):
        writer.wait(0)
    gate.set()
    with pytest.raises(OSError, match="disk"):
        writer.submit(lambda: done.append(2), 1)
    with pytest.raises(OSError, match="disk"):
        writer.__exit__(None, None, None)
    assert done == []
    assert not any(t.is_alive() for t in writer._threads)


# -- read_ahead ------------------------------------------------------------------------------


def test_read_ahead_gives_the_items_in_order_from_another_thread() -> None:
    made: list[str] = []

    def items():
        for i in range(50):
            made.append(threading.current_thread().name)
            yield i

    assert list(read_ahead(items())) == list(range(50))
    assert set(made) == {"ingest-reader"}


def test_read_ahead_raises_an_error_where_it_happened() -> None:
    def items():
        yield 1
        yield 2
        raise ValueError("line 3: bad")

    got: list[int] = []
    with pytest.raises(ValueError, match="line 3"):
        for item in read_ahead(items()):
            got.append(item)
    assert got == [1, 2]


def test_a_caller_that_stops_early_stops_the_reader_and_closes_its_items() -> None:
    closed = threading.Event()

    def items():
        try:
            i = 0
            while True:
                i += 1
                yield i
        finally:
            closed.set()

    with pytest.raises(KeyError):
        for item in read_ahead(items()):
            if item == 3:
                raise KeyError("caller")
    assert closed.wait(5)
    assert not [t for t in threading.enumerate() if t.name == "ingest-reader"]
