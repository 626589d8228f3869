"""A killed backup leaves ``.NAME.partial-PID`` behind; the next backup removes it (and
leaves a running backup's alone)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from openscore.backup import check_backup, take_backup
from reliability.harness import make_world


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_backup_removes_partials_of_killed_backups(tmp_path: Path) -> None:
    world = make_world(tmp_path / "live", people=4, batches=1, events=100)
    backups = tmp_path / "backups"
    backups.mkdir()
    killed = backups / f".nightly.partial-{_dead_pid()}"
    (killed / "ledger").mkdir(parents=True)
    (killed / "ledger" / "segment.parquet").write_bytes(b"half a copy")
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        alive = backups / f".weekly.partial-{running.pid}"
        alive.mkdir()
        lookalike = backups / "notes.partial-1"  # not a hidden partial: not ours to touch
        lookalike.write_text("keep")

        done = take_backup(backups / "today", settings=world.settings, engine=world.engine)

        assert check_backup(done.path).registry_backend == "sqlite"
        assert not killed.exists()
        assert alive.is_dir() and lookalike.read_text() == "keep"
        assert sorted(p.name for p in backups.iterdir()) == sorted(
            [alive.name, lookalike.name, "today"]
        )
    finally:
        running.send_signal(signal.SIGKILL)
        running.wait()
    # that backup's process is gone now: the next run removes its partial too
    take_backup(backups / "tomorrow", settings=world.settings, engine=world.engine)
    assert not alive.exists()
