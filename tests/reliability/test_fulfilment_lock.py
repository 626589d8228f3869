"""A fulfilment report waiting for the ledger does not hold up anybody else's decision.

On SQLite the registry's write lock is the only one: a report that wrote its ledger batch
inside the registry's write transaction made every decision and consent change wait for
the ledger (the soak benchmark found decisions at seconds while the ledger was busy).
Here another process holds the ledger's writer lock for a few seconds, a report arrives
and waits for it, and a decision sent meanwhile must answer at once; then the report
completes, and its retry replays the same answer without storing anything twice.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from reliability.harness import Server, id_set, make_world, partner_and_subjects

HOLD_SECONDS = 5.0


def test_a_report_waiting_for_the_ledger_does_not_block_decisions(tmp_path: Path) -> None:
    world = make_world(tmp_path, people=8, batches=1, events=300)
    key, grants, _ = partner_and_subjects(world, n_people=2)
    person = next(iter(grants))
    auth = {"Authorization": f"Bearer {key}"}
    decision = {
        "grant_id": grants[person],
        "person_id": person,
        "product_id": "bike",
        "purpose": "deposit_waiver",
    }
    report = {
        "kind": "rental",
        "report_id": "r-lock-1",
        "person_id": person,
        "grant_id": grants[person],
        "product": "bike",
        "deposit_waived": True,
        "started_at": "2025-08-01T10:00:00Z",
        "due_back": "2025-08-01T12:00:00Z",
        "returned_at": "2025-08-01T11:00:00Z",
        "outcome": "returned",
    }
    server = Server(world, tmp_path / "server.log")
    server.start()
    holder = None
    try:
        with httpx.Client(base_url=server.url, headers=auth, timeout=60) as client:
            assert client.post("/v1/decisions", json=decision).status_code == 201  # warm
            holder = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "import sys, time\n"
                    "from openscore.ledger import Ledger\n"
                    f"with Ledger({str(world.data_dir / 'ledger')!r}).writing():\n"
                    "    print('held', flush=True)\n"
                    f"    time.sleep({HOLD_SECONDS})\n",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            held_at = time.monotonic()
            answers: dict[str, httpx.Response] = {}

            def fulfil() -> None:
                answers["first"] = client.post(
                    "/v1/fulfilment",
                    json={"reports": [report]},
                    headers={"Idempotency-Key": "lock-1"},
                )

            reporter = threading.Thread(target=fulfil)
            reporter.start()
            time.sleep(0.5)  # the report is now waiting for the ledger's lock
            started = time.monotonic()
            answered = client.post("/v1/decisions", json=decision)
            took = time.monotonic() - started
            assert answered.status_code == 201, answered.text
            assert time.monotonic() - held_at < HOLD_SECONDS, "the ledger was free already"
            assert took < 2.0, f"a decision waited {took:.1f} s behind a fulfilment report"
            reporter.join(timeout=60)
            first = answers["first"]
            assert first.status_code == 201, first.text
            assert first.json()["accepted"] == 1
            again = client.post(
                "/v1/fulfilment", json={"reports": [report]}, headers={"Idempotency-Key": "lock-1"}
            )
            assert again.status_code == 201 and again.json() == first.json()
            assert again.headers["idempotent-replayed"] == "true"
            reused = client.post(
                "/v1/fulfilment",
                json={"reports": [{**report, "report_id": "r-lock-2"}]},
                headers={"Idempotency-Key": "lock-1"},
            )
            assert reused.status_code == 409
        stored = id_set(world.ledger)
        assert "bikes/r-lock-1" in stored
        assert "bikes/r-lock-2" not in stored  # a reused key's 409 stores nothing
    finally:
        if holder is not None:
            holder.wait(timeout=30)
        server.stop()
