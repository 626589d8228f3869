"""Graceful overload: beyond what a worker can handle at once, answer 503 with
``Retry-After`` within a bounded time instead of queueing without end.

A request takes one of ``limit`` slots for as long as the app handles it. When none is
free it waits at most ``queue_timeout`` seconds for one, then is answered
``503 overloaded`` with ``Retry-After`` — so beyond capacity the answer comes in about
``queue_timeout`` plus the time to write it, whatever the offered rate, where without a
limit every request would wait behind all the others (the p99 of seconds a constant-rate
client sees past the knee). The limit sits below the thread pool that runs the sync
handlers (40 threads), so requests wait here, where the wait is bounded, and not in the
pool's queue, where it is not.

``/v1/health`` and ``/metrics`` bypass the limit: they must answer when the rest cannot.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send


class OverloadMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        queue_timeout: float,
        retry_after: int = 1,
        exempt: Iterable[str] = ("/v1/health", "/metrics"),
        on_reject: Callable[[Scope], None] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.queue_timeout = queue_timeout
        self.retry_after = retry_after
        self.exempt = frozenset(exempt)
        self.on_reject = on_reject
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made in the server's loop, not at import
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        if slots.locked():
            try:
                await asyncio.wait_for(slots.acquire(), self.queue_timeout)
            except TimeoutError:
                await self._reject(scope, send)
                return
        else:
            await slots.acquire()
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _reject(self, scope: Scope, send: Send) -> None:
        if self.on_reject is not None:
            self.on_reject(scope)
        request_id = scope.get("state", {}).get("request_id")
        body = json.dumps(
            {
                "status": 503,
                "error": "overloaded",
                "message": "the server is at capacity: retry after the time in Retry-After",
                "field": None,
                "errors": [],
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
