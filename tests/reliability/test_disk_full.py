"""The ledger's disk fills up: a clear error, nothing corrupted, success once space returns.

The ledger directory is a small tmpfs mounted by the test (root only: skipped with the
reason otherwise). Ingestion, compaction, expiry and erasure are run with the disk
filled to leave a random few hundred kilobytes free — so that the failure lands in
different places: the segment being written, its fsync, the manifest — and each either
completes or fails with the one StorageError ("no space left on the device holding …"),
after which the ledger verifies and holds exactly what it held before. Then the space is
given back (the file that filled it removed) and the same operation succeeds.

``OPENSCORE_DISK_FULL_TRIALS`` trials (default sized for CI).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from openscore.errors import StorageError
from openscore.ledger import compact, expire, verify
from openscore.online import erase
from reliability.harness import World, check_integrity, fresh_events, id_set, make_world, trials

from fixtures.data import write_events

pytestmark = pytest.mark.slow

SIZE = "6m"


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path, leave: int) -> Path:
    """A file that takes all but ``leave`` bytes of the file system's free space."""
    filler = directory / "filler.bin"
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as fh:
        remaining = max(0, free - leave)
        block = b"\0" * (1 << 20)
        while remaining > 0:
            n = min(remaining, len(block))
            try:
                fh.write(block[:n])
            except OSError:
                break
            remaining -= n
    return filler


def test_a_full_disk_is_a_clear_error_and_nothing_is_lost(tmp_path: Path) -> None:
    root = tmp_path / "world"
    ledger_dir = root / "data" / "ledger"
    n = trials("disk_full", 8)
    with tmpfs(ledger_dir, SIZE):
        # one person erased per four trials: enough people for every erasure
        world = make_world(root, people=max(30, n // 4 + 1), batches=2, events=800)
        check_integrity(world)
        rng = random.Random(99)
        outcomes: dict[str, int] = {}
        for trial in range(n):
            op = ("ingest", "compact", "expire", "erase")[trial % 4]
            action = _action(world, op, trial, tmp_path)
            before = id_set(world.ledger)
            filler = fill(ledger_dir, leave=rng.randint(4_096, 400_000))
            try:
                action()
                outcome = "done"
            except StorageError as exc:
                assert "no space left on the device holding" in exc.message, exc.message
                assert str(ledger_dir) in exc.message
                outcome = "refused"
                assert id_set(world.ledger) == before  # nothing committed, nothing lost
            report = verify(world.ledger, deep=True)
            assert report.ok, report.problems
            filler.unlink()
            if outcome == "refused":
                action()  # the space is back: the same operation succeeds
            check_integrity(world)
            outcomes[f"{op}:{outcome}"] = outcomes.get(f"{op}:{outcome}", 0) + 1
        print("disk full outcomes", outcomes)
        assert any(k.endswith("refused") for k in outcomes)
        _check_cli_message(world, ledger_dir, tmp_path)
        shutil.rmtree(world.data_dir / "tmp", ignore_errors=True)
        world.engine.dispose()


def _action(world: World, op: str, trial: int, tmp: Path):
    if op == "ingest":
        path = write_events(
            fresh_events(world, 6_000, seed=trial, prefix=f"d{trial}-"),
            tmp / f"full-{trial}.parquet",
        )
        return lambda: _ingest(world, path)
    if op == "compact":
        return lambda: compact(world.ledger, force=True)
    if op == "expire":
        return lambda: expire(
            world.ledger, retention_years=1, now=datetime.fromisoformat("2026-06-01T00:00:00+00:00")
        )
    person = world.people[trial // 4]
    return lambda: erase(world.engine, person, actor="subject", settings=world.settings)


def _ingest(world: World, path: Path) -> None:
    from openscore.ingest import Ingester
    from openscore.online import registry_consent_gate

    Ingester(
        world.ledger, consent_gate=registry_consent_gate(world.engine), settings=world.settings
    ).run([path], "fx")


def _check_cli_message(world: World, ledger_dir: Path, tmp: Path) -> None:
    """What an operator sees: one line saying what happened and what to do; exit 7."""
    path = write_events(fresh_events(world, 20_000, seed=5, prefix="cli-"), tmp / "cli.parquet")
    filler = fill(ledger_dir, leave=8_192)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "openscore", "ingest", str(path), "--furnisher", "fx"],
            env=world.env(),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        filler.unlink()
    assert run.returncode == 7, run.stdout + run.stderr
    assert "error: no space left on the device holding" in run.stderr
    assert "Traceback" not in run.stderr
    assert verify(world.ledger).ok
