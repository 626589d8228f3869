"""Files written in one thread beside the ingest's validation.

Validation runs in DuckDB's threads; writing a batch's part and keys with pyarrow runs
in this one, so on two cores the write of one batch overlaps the validation of the next
(both let go of the GIL while they work). At most one job waits behind the one being
written, so memory holds at most three batches. A job's error is kept and raised to the
caller at its next ``submit``, ``wait`` or at ``close``: nothing is lost silently.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType

Job = Callable[[], None]


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
