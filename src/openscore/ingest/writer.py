"""The ingest's work beside its validation: batches read ahead, files written behind.

Validation runs in DuckDB's threads. Reading the next batch (:func:`read_ahead`: pyarrow's
CSV parser, its Parquet reader) and writing the last one's part and keys with pyarrow
(:class:`BackgroundWriter`) run in a thread each, so the cores a batch's validation
leaves idle do the rest (all of them let go of the GIL while they work). At most one
batch waits on either side, so memory holds at most five. An error in either thread is
raised to the caller, in order: nothing is lost silently.
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
    """``with BackgroundWriter() as w: w.submit(job) ...``: jobs run in order, in one thread;
    leaving the block waits for them and raises the first error of any."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="ingest-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:  # after an error the rest is not written
                    job()
            except BaseException as exc:  # raised to the caller, in its thread
                self._error = exc
            finally:
                self._jobs.task_done()

    def submit(self, job: Job) -> None:
        """Queue ``job`` (blocks while another one waits); an earlier job's error first."""
        self._raise()
        self._jobs.put(job)

    def wait(self) -> None:
        """Until every job queued so far is done; then any job's error."""
        self._jobs.join()
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
        self._jobs.put(None)
        self._thread.join()
        if exc is None:
            self._raise()
