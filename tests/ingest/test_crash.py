"""SIGKILL at a random moment: all of the batch or none, and a rerun completes it."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from openscore.ledger import Ledger, verify

from fixtures.data import make_events, write_events

KILLS = int(os.environ.get("OPENSCORE_CRASH_TRIALS", "20"))


def ids_checksum(ledger: Ledger) -> tuple[int, str]:
    ids = sorted(
        e
        for p in ledger.snapshot().paths
        for e in pq.read_table(p, columns=["event_id"]).column("event_id").to_pylist()
    )
    return len(ids), hashlib.sha256("\n".join(ids).encode()).hexdigest()


@pytest.mark.slow
def test_sigkill_during_ingest_leaves_all_or_nothing(tmp_path: Path) -> None:
    base = write_events(make_events(2_000, seed=1, prefix="base-"), tmp_path / "base.parquet")
    batch = write_events(make_events(20_000, seed=2, prefix="big-"), tmp_path / "big.csv")
    data = tmp_path / "data"
    cmd = [
        sys.executable,
        "-m",
        "openscore",
        "--data-dir",
        str(data),
        "ingest",
        "--json",
        "--no-consent-check",
        "--furnisher",
        "fx",
    ]
    subprocess.run([*cmd, str(base)], check=True, capture_output=True)
    ledger = Ledger(data / "ledger")
    base_state = ids_checksum(ledger)
    # a reference run tells how long a whole ingest takes
    ref_data = tmp_path / "ref"
    subprocess.run([*cmd[:4], str(ref_data), *cmd[5:], str(base)], check=True, capture_output=True)
    t0 = time.monotonic()
    subprocess.run([*cmd[:4], str(ref_data), *cmd[5:], str(batch)], check=True, capture_output=True)
    full_time = time.monotonic() - t0
    full_state = ids_checksum(Ledger(ref_data / "ledger"))
    rng = random.Random(20261123)
    outcomes = {"none": 0, "all": 0}
    for _ in range(KILLS):
        proc = subprocess.Popen(
            [*cmd, str(batch)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.3, full_time * 1.05))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = ids_checksum(ledger)
        assert state in (base_state, full_state), "a partial batch is visible"
        outcomes["all" if state == full_state else "none"] += 1
        if state == full_state:
            # completed before the kill: roll the world back for the next trial
            import shutil

            shutil.rmtree(data)
            subprocess.run([*cmd, str(base)], check=True, capture_output=True)
            assert ids_checksum(ledger) == base_state
    # rerun after a kill completes the batch exactly once
    subprocess.run([*cmd, str(batch)], check=True, capture_output=True)
    assert ids_checksum(ledger) == full_state
    assert verify(ledger).ok
    subprocess.run([*cmd, str(batch)], check=True, capture_output=True)
    assert ids_checksum(ledger) == full_state
    assert outcomes["none"] >= 1, outcomes
