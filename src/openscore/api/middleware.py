"""Pure-ASGI middleware: request ids, security headers, one log line per request, and the
body-size limit.

Pure ASGI rather than ``BaseHTTPMiddleware``: no extra task per request, and the body
limit can answer 413 from the ``Content-Length`` header alone, before a byte of the body
is read (and still stops a chunked body at the limit).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openscore.api.errors import BodyTooLarge, problem
from openscore.api.logs import REQUEST_ID

log = logging.getLogger("openscore.api.access")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

#: Sent on every answer. The API's answers are personal data: never cached, never framed,
#: never sniffed into something executable.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
API_ONLY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)


class RequestContextMiddleware:
    """Give each request an id (the client's ``X-Request-ID`` if it is sane), add the
    security headers, and log method, route, status and time — never headers, query
    strings or bodies, which is where credentials travel."""

    def __init__(self, app: ASGIApp, *, api_prefixes: Iterable[str] = ("/v1", "/openapi")):
        self.app = app
        self.api_prefixes = tuple(api_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        is_api = scope["path"].startswith(self.api_prefixes)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = SECURITY_HEADERS + (API_ONLY_HEADERS if is_api else ())
                headers.extend((k, v) for k, v in extra if k not in present)
                if b"x-request-id" not in present:
                    headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            REQUEST_ID.reset(token)
            route = getattr(scope.get("route"), "path", None) or "-"
            ms = round((time.perf_counter() - started) * 1000, 1)
            log.info(
                "%s %s %s %.1fms %s",
                scope["method"],
                route,
                status,
                ms,
                request_id,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "ms": ms,
                    "request_id": request_id,
                },
            )


class BodyLimitMiddleware:
    """413 for a body over ``max_bytes``: at once from ``Content-Length``, or as soon as a
    streamed body crosses the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False  # the server rejects a malformed length itself
            if too_big:
                await _send_problem(scope, send, BodyTooLarge(self.max_bytes))
                return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _send_problem(scope, send, exc)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _send_problem(scope: Scope, send: Send, exc: Exception) -> None:
    from starlette.responses import JSONResponse

    answer = problem(exc)
    request_id = scope.get("state", {}).get("request_id")
    response = JSONResponse(
        answer.body(request_id),
        status_code=answer.status,
        headers={**answer.headers, "Connection": "close"},
    )

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_body, send)
