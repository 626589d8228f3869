"""The ingest's work beside its validation: batches read ahead, files written behind.

Validation runs in DuckDB's threads. Reading the next batch (:func:`read_ahead`: pyarrow's
CSV parser, its Parquet reader) and writing the last one's part and keys with pyarrow
(:class:`BackgroundWriter`: the parts in one lane, the keys in another, a thread each) run
beside it, so the cores a batch's validation leaves idle do the rest (all of them let go
of the GIL while they work). At most one job waits in each lane, so memory holds at most
five batches. An error in any thread is raised to the caller: nothing is lost silently.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TypeVar

Job = Callable[[], None]
T = TypeVar("T")

_DONE = object()


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """``items`` as they are, each one produced in a thread while the caller works on the
    one before. An error of ``items`` is raised where it happened in the sequence; a
    caller that stops early stops the thread too (and ``items`` is closed there)."""
    slot: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                slot.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # raised to the caller, in its thread
            put((_DONE, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, error = slot.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


class BackgroundWriter:
    """``with BackgroundWriter() as w: w.submit(job) ...``: jobs run in order, in one thread
    per lane (``lanes``; a job names its lane); leaving the block waits for them and
    raises the first error of any. After an error no further job of any lane runs."""

    def __init__(self, lanes: int = 1) -> None:
        self._queues: list[queue.Queue[Job | None]] = [queue.Queue(maxsize=1) for _ in range(lanes)]
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._work, args=(q,), name=f"ingest-writer-{n}", daemon=True)
            for n, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self, jobs: queue.Queue[Job | None]) -> None:
        while True:
            job = jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:  # after an error the rest is not written
                    job()
            except BaseException as exc:  # raised to the caller, in its thread
                if self._error is None:
                    self._error = exc
            finally:
                jobs.task_done()

    def submit(self, job: Job, lane: int = 0) -> None:
        """Queue ``job`` in ``lane`` (blocks while another one waits there); an earlier
        job's error first."""
        self._raise()
        self._queues[lane].put(job)

    def wait(self, lane: int | None = None) -> None:
        """Until every job queued so far (in ``lane``, or in all) is done; then any job's
        error."""
        for n, jobs in enumerate(self._queues):
            if lane is None or n == lane:
                jobs.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for jobs in self._queues:
            jobs.put(None)
        for thread in self._threads:
            thread.join()
        if exc is None:
            self._raise()
