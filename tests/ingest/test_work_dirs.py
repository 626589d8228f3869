"""Concurrent ingestions never touch each other's work directories (issue 18, API 3).

A run's clean-up of killed runs' leftovers deleted another live run's directory in the
moment between its ``mkdir`` and its pid file (six concurrent fulfilment retries: one
500). The owner's pid is now part of the directory's name, so there is no such moment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from openscore.config import Settings
from openscore.ingest import Ingester, no_consent_check
from openscore.ingest.ingester import _clean_stale_work
from openscore.ledger import Ledger

HEADER = "event_id,type,person_id,source,occurred_at,channel,amount,currency"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_runs_directory_is_never_cleaned_up(tmp_path: Path) -> None:
    ours = tmp_path / f"ingest-20261202T000000-aaaaaaaa-p{os.getpid()}"
    ours.mkdir()  # just made: no pid file, nothing inside yet
    dead = tmp_path / f"ingest-20261202T000000-bbbbbbbb-p{_dead_pid()}"
    (dead / "staged").mkdir(parents=True)
    young = tmp_path / "ingest-20261202T000000-cccccccc"  # an older version's, no owner
    young.mkdir()
    old = tmp_path / "ingest-20261101T000000-dddddddd"
    old.mkdir()
    a_day_ago = time.time() - 25 * 3600
    os.utime(old, (a_day_ago, a_day_ago))

    _clean_stale_work(tmp_path)

    assert ours.is_dir() and young.is_dir()
    assert not dead.exists() and not old.exists()


def test_concurrent_runs_all_complete(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    ledger = Ledger.open(settings)
    paths = []
    for n in range(6):
        path = tmp_path / f"in-{n}.csv"
        rows = [
            f"e{n}-{i},payment,p{n},wallet,2024-01-0{i + 1}T10:00:00Z,online,10,CNY"
            for i in range(5)
        ]
        path.write_text("\n".join([HEADER, *rows]) + "\n")
        paths.append(path)
    results: dict[int, object] = {}
    start = threading.Barrier(len(paths))

    def ingest(n: int) -> None:
        start.wait()
        try:
            results[n] = Ingester(ledger, consent_gate=no_consent_check, settings=settings).run(
                [paths[n]], f"f{n}"
            )
        except Exception as exc:
            results[n] = exc

    threads = [threading.Thread(target=ingest, args=(n,)) for n in range(len(paths))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [getattr(results[n], "accepted", results[n]) for n in range(6)] == [5] * 6
    assert not list((settings.data_dir / "tmp").glob("ingest-*"))
