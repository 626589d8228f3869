"""Graceful overload (503 + Retry-After within a bounded time, never a 500, reset or hang),
/metrics counting what happened, and the sequencer running in the server, over real HTTP
on 127.0.0.1."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from openscore import registry
from openscore.registry import leases, sequencer

from fixtures.api import build_world, serve_in_thread


def _metrics(url: str) -> dict[tuple[str, tuple], float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _publish(engine: Engine, person_id: str) -> None:
    with engine.begin() as conn:
        registry.publish_score(
            conn,
            registry.ScoreToPublish(
                person_id=person_id,
                score=712,
                dimensions={"credit_history": 60},
                reasons=[{"code": "utilisation", "text": "High", "improve": "Pay down"}],
                model_id="test-model",
                as_of=datetime(2025, 9, 1, tzinfo=UTC),
            ),
            actor="system",
        )


@pytest.mark.timeout(300)
def test_a_burst_beyond_capacity_gets_503_with_retry_after_and_is_counted(
    registry_engine: Engine, tmp_path: Path, cheap_passwords: None
) -> None:
    world = build_world(
        registry_engine,
        tmp_path / "data",
        max_concurrent_requests=2,
        queue_timeout_seconds=0.01,
        audit_max_merge_delay_seconds=0.4,
    )
    partner = world.partner("bikes")
    subjects = [world.subject() for _ in range(3)]
    grants = []
    for subject in subjects:
        _publish(world.engine, subject.id)
        grants.append(world.grant(subject, "bikes"))
    results: list[tuple[int | str, str | None, float]] = []
    lock = threading.Lock()
    with serve_in_thread(world.app) as url:
        barrier = threading.Barrier(40)

        def fire(i: int) -> None:
            grant = grants[i % len(grants)]
            body = {
                "grant_id": grant["id"],
                "person_id": grant["person_id"],
                "product_id": "bike",
                "purpose": grant["purpose"],
            }
            headers = {"Authorization": f"Bearer {partner.secret}"}
            with httpx.Client(timeout=10) as client:
                barrier.wait()
                for _ in range(5):
                    started = time.perf_counter()
                    try:
                        r = client.post(f"{url}/v1/decisions", json=body, headers=headers)
                        outcome: tuple = (r.status_code, r.headers.get("retry-after"))
                    except httpx.HTTPError as exc:  # a reset or a hang is a failure
                        outcome = (type(exc).__name__, None)
                    with lock:
                        results.append((*outcome, time.perf_counter() - started))

        threads = [threading.Thread(target=fire, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = [s for s, _, _ in results]
        assert set(statuses) <= {201, 503}, statuses
        rejected = [(s, ra) for s, ra, _ in results if s == 503]
        accepted = statuses.count(201)
        assert rejected and accepted, statuses
        assert all(ra == "1" for _, ra in rejected)
        # bounded: a refusal comes back at once, not after the queue ahead of it
        refusal_times = sorted(t for s, _, t in results if s == 503)
        assert refusal_times[len(refusal_times) // 2] < 1.0, refusal_times
        assert max(refusal_times) < 5.0
        # health answers beside the overload (it bypasses the limit)
        assert httpx.get(f"{url}/v1/health", timeout=5).status_code == 200

        # the sequencer runs in the server: every receipt is integrated within the delay
        deadline = time.monotonic() + 10
        while True:
            with world.engine.connect() as conn:
                if sequencer.queue_state(conn).queued == 0:
                    break
            assert time.monotonic() < deadline, "the server's sequencer did not integrate"
            time.sleep(0.1)
        seen = _metrics(url)
        assert seen[("openscore_rejections_total", (("reason", "overload"),))] == len(rejected)
        assert seen[("openscore_decisions_total", (("outcome", "approve"),))] == accepted
        count = seen[
            (
                "openscore_http_request_duration_seconds_count",
                (("method", "POST"), ("route", "/v1/decisions"), ("status", "201")),
            )
        ]
        assert count == accepted
        assert seen[("openscore_audit_queued_entries", ())] == 0
        assert seen[("openscore_audit_sequencer_lag_seconds", ())] == 0
        assert seen[("openscore_job_last_ok", (("job", "audit-sequencer"),))] == 1
        assert ("openscore_ledger_segments", ()) in seen
        # the Grafana dashboard in docs/ asks only for metrics the server exposes
        dashboard = (Path(__file__).parents[2] / "docs" / "grafana-openscore.json").read_text()
        exposed = {name for name, _ in seen}
        asked = set(re.findall(r"openscore_[a-z_]+", dashboard))
        assert asked and asked <= exposed, asked - exposed
        with world.engine.connect() as conn:
            assert registry.audit.verify(conn).ok
            held = {lease.name: lease for lease in leases.list_leases(conn)}
        assert held["audit-sequencer"].holder == world.state.housekeeper.holder
