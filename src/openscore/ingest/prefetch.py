"""Reading ahead: the next item of an iterator is produced in a thread while the caller
works on this one.

An ingest run reads a batch (pyarrow: parsing, decoding) and looks at its bytes (numpy)
while DuckDB validates and writes the batch before; all of them let go of the GIL for
their heavy parts, so the two overlap on separate cores. At most ``depth`` items wait
ahead (memory stays bounded: one extra batch by default).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
#: how often a waiting producer looks whether the caller stopped listening (seconds)
_POLL = 0.1


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The items of ``items``, in order, each produced in a background thread while the
    caller has the one before. An exception raised while producing is raised here, at
    the item where it happened (the items before it are delivered first). When the
    caller stops early (``break``, an exception, ``close()``), the producer stops after
    the item it is on, and this waits for it: nothing runs on once this returns."""
    slots: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[bool, object]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((True, _DONE))
        except BaseException as exc:  # handed to the caller, raised there
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="prefetch", daemon=True)
    worker.start()
    try:
        while True:
            ok, item = slots.get()
            if not ok:
                raise item  # type: ignore[misc]
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
