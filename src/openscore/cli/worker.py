"""``openscore worker``: the background jobs (audit sequencer, ledger compaction, expiry)
in a process of their own, for deployments that run servers with
``OPENSCORE_API_HOUSEKEEPING=false`` — or beside servers that run them too: each job runs
only where its lease is held."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from openscore.cli.app import app, console

if TYPE_CHECKING:  # (SQLAlchemy is imported only when the worker runs: every command starts faster)
    from sqlalchemy.engine import Connection


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run every due job once (if its lease is free), exit.")
    ] = False,
) -> None:
    """Run the housekeeping jobs on their schedules until stopped (SIGTERM or Ctrl-C)."""
    from openscore.api.settings import ApiSettings
    from openscore.api.state import _writers, housekeeping_jobs
    from openscore.config import get_settings
    from openscore.jobs.housekeeping import Housekeeper
    from openscore.ledger import Ledger
    from openscore.registry import engine_from_settings, upgrade

    settings = get_settings()
    api = ApiSettings()
    engine = engine_from_settings(settings)
    upgrade(engine)
    writers = _writers(engine)

    @contextlib.contextmanager
    def write() -> Iterator[Connection]:
        # SQLite: queue with the servers' writers of the same file
        with writers or contextlib.nullcontext(), engine.begin() as conn:
            yield conn

    ledger = Ledger.open(settings)
    keeper = Housekeeper(write=write, jobs=housekeeping_jobs(settings, api, ledger, write))
    try:
        if once:
            for name, result in keeper.run_due().items():
                console.print(f"{name}: {result or 'nothing to do'}", highlight=False)
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        console.print(f"worker {keeper.holder}: running {', '.join(j.name for j in keeper.jobs)}")
        keeper.start()
        stop.wait()
    finally:
        keeper.stop()
        engine.dispose()
