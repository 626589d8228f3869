"""A damaged segment, or a manifest entry whose file is gone: detected by ``openscore
ledger verify`` (against the checksums recorded at write), named, and recoverable — from
a backup (the same bytes, found by checksum), or, with no copy anywhere, dropped on the
record and the batch sent again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from openscore.backup import take_backup
from openscore.errors import IntegrityError
from openscore.ledger import Ledger
from reliability.harness import World, check_integrity, id_set, make_world

pytestmark = pytest.mark.slow


def cli(world: World, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "openscore", *args],
        env=world.env(),
        capture_output=True,
        text=True,
        check=False,
    )


def flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_damage_is_named_and_repaired_from_a_backup(tmp_path: Path) -> None:
    world = make_world(tmp_path, people=30, batches=3, events=600)
    original = id_set(world.ledger)
    backup = take_backup(tmp_path / "backup", settings=world.settings, engine=world.engine).path
    segments = world.ledger.manifest().segments
    damaged, missing = segments[0], segments[1]
    flip(world.ledger.root / damaged.file)
    (world.ledger.root / missing.file).unlink()

    found = cli(world, "ledger", "verify")
    assert found.returncode == 6
    assert f"{damaged.file}: checksum differs from the one recorded at write" in found.stderr
    assert f"{missing.file}: missing (named by the manifest)" in found.stderr
    assert "--from-backup" in found.stderr  # it says how to recover
    with pytest.raises(IntegrityError, match="missing"):  # a reader names it too
        Ledger(world.ledger.root).read_person(missing.min_person or "p00000")

    fixed = cli(world, "ledger", "verify", "--repair", "--from-backup", str(backup), "--json")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    body = json.loads(fixed.stdout[fixed.stdout.index("{") :])
    assert sorted(body["repair"]["restored"]) == sorted([damaged.file, missing.file])
    assert body["ok"] and not body["problems"]
    assert id_set(world.ledger) == original  # nothing lost
    assert list((world.ledger.root / "damaged").iterdir())  # the bad file kept aside
    check_integrity(world)


def test_without_a_copy_the_loss_is_dropped_on_the_record_and_resent(tmp_path: Path) -> None:
    world = make_world(tmp_path, people=30, batches=3, events=600)
    original = id_set(world.ledger)
    seg = world.ledger.manifest().segments[2]
    batch = next(b for b in world.ledger.manifest().batches if b.batch_id == seg.batch_id)
    flip(world.ledger.root / seg.file, 0.3)

    stuck = cli(world, "ledger", "verify", "--repair")  # no copy: still named, still bad
    assert stuck.returncode == 6 and seg.file in stuck.stderr

    dropped = cli(world, "ledger", "verify", "--repair", "--drop-lost")
    assert dropped.returncode == 0, dropped.stdout + dropped.stderr
    assert f"{seg.rows:,} rows lost" in dropped.stderr and "re-send" in dropped.stderr
    record = world.ledger.manifest().removals[-1]
    assert record["kind"] == "lost_segment" and record["file"] == seg.file
    assert record["rows"] == seg.rows and record["input_files"] == batch.files
    lost = original - id_set(world.ledger)
    assert len(lost) == seg.rows
    check_integrity(world)

    # the furnisher sends the batch again: idempotent, so only what was lost comes back
    for path in record["input_files"]:
        assert cli(world, "ingest", path, "--furnisher", batch.furnisher_id).returncode == 0
    assert id_set(world.ledger) == original
    check_integrity(world)


def test_a_damaged_manifest_is_named(tmp_path: Path) -> None:
    world = make_world(tmp_path, people=10, batches=1, events=200)
    path = world.ledger.manifest_path
    path.write_bytes(path.read_bytes()[:-40])
    found = cli(world, "ledger", "verify")
    assert found.returncode == 6
    assert "manifest is not valid" in found.stderr and "Traceback" not in found.stderr
