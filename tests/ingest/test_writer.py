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
    assert {name for _, name in done} == {"ingest-writer"}


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
    assert not writer._thread.is_alive()


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
