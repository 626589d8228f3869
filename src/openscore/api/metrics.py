"""Prometheus metrics: ``GET /metrics`` in the text exposition format.

Counted as requests pass (:class:`MetricsMiddleware`, :func:`count_decision`):

* ``openscore_http_request_duration_seconds{method, route, status}`` — a histogram per
  route template (``/v1/decisions``, never the raw path, so the label set stays small);
* ``openscore_decisions_total{outcome}`` — decisions answered, by approve / decline;
* ``openscore_rejections_total{reason}`` — requests refused to protect the service:
  ``overload`` (503 from :mod:`openscore.api.overload`) and ``rate_limited`` (429).

Read from the registry and the ledger when scraped (:class:`StateCollector`):

* ``openscore_audit_queued_entries`` and ``openscore_audit_sequencer_lag_seconds`` (the
  age of the oldest entry not yet in the tree: above the maximum merge delay means the
  sequencer is behind or halted), ``openscore_audit_tree_size``;
* ``openscore_ledger_segments``;
* ``openscore_job_last_ok{job}`` (1 if the housekeeping job's last run succeeded).

Several workers (``openscore serve --workers N``) share their counts through
prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, which ``serve``
sets up); one worker keeps them in memory.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from openscore.api.state import AppState

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The metrics of one app (their own registry: two apps in a test never share)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.latency = Histogram(
            "openscore_http_request_duration_seconds",
            "Time to answer a request, by route template and status.",
            ("method", "route", "status"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "openscore_decisions",
            "Decisions answered to partners, by outcome.",
            ("outcome",),
            registry=self.registry,
        )
        self.rejections = Counter(
            "openscore_rejections",
            "Requests refused to protect the service (overload 503, rate limit 429).",
            ("reason",),
            registry=self.registry,
        )

    def exposition(self, state: AppState) -> bytes:
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = CollectorRegistry()
            registry.register(_Forward(self.registry))
        registry.register(StateCollector(state))
        return generate_latest(registry)


class _Forward(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator:
        yield from self.registry.collect()


class StateCollector(Collector):
    """Gauges read at scrape time (a failed read leaves its gauge out, never the page)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from openscore.registry import audit, leases, sequencer

        try:
            with self.state.read() as conn:
                queued = sequencer.queue_state(conn)
                size = audit.tree_size(conn)
                jobs = leases.list_leases(conn)
        except Exception:
            pass
        else:
            yield GaugeMetricFamily(
                "openscore_audit_queued_entries",
                "Audit entries answered with a receipt, not yet in the tree.",
                value=queued.queued,
            )
            yield GaugeMetricFamily(
                "openscore_audit_sequencer_lag_seconds",
                "Age of the oldest queued audit entry (0 when none is queued).",
                value=queued.lag_seconds(),
            )
            yield GaugeMetricFamily(
                "openscore_audit_tree_size", "Entries in the audit log's tree.", value=size
            )
            ok = GaugeMetricFamily(
                "openscore_job_last_ok",
                "1 if the housekeeping job's last run succeeded, 0 if it failed.",
                labels=("job",),
            )
            for job in jobs:
                if job.last_ok is not None:
                    ok.add_metric((job.name,), 1.0 if job.last_ok else 0.0)
            yield ok
        try:
            segments = len(self.state.ledger.manifest().segments)
        except Exception:
            pass
        else:
            yield GaugeMetricFamily(
                "openscore_ledger_segments", "Segments in the ledger.", value=segments
            )


class MetricsMiddleware:
    """Time every HTTP request by route template; count 429s and overload 503s."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            route = getattr(scope.get("route"), "path", None)
            if route is None:
                route = "overloaded" if status == 503 else "unmatched"
            self.metrics.latency.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
            if status == 429:
                self.metrics.rejections.labels("rate_limited").inc()


def metrics_response_headers() -> dict[str, str]:
    return {"Content-Type": CONTENT_TYPE_LATEST}
