"""The one place where errors become HTTP answers.

=========================  ======  ==================  ===================================
raised                      status  ``error``           notes
=========================  ======  ==================  ===================================
AuthError                   401     unauthenticated     ``WWW-Authenticate`` names the scheme
Forbidden                   403     forbidden           wrong role, CSRF token missing or wrong
ConsentError                403     no_consent          revoked/expired grant, product or
                                                        purpose not granted, **locked file**
NotFound                    404     not_found           also: someone else's object
Conflict                    409     conflict            duplicate, already closed, key reuse
BodyTooLarge                413     too_large           before the body is read
InputError                  422     invalid_input       ``field`` names the field
request validation          422     invalid_input       ``errors`` lists every field
malformed JSON / form       422     invalid_input       ``field`` is ``body``
RateLimited                 429     rate_limited        ``Retry-After``
StorageError, database      503     unavailable         ``Retry-After``; the database is away
  unreachable, disk full
EngineError                 503     unavailable         ``Retry-After``
NotReady                    503     not_ready           no scoring model installed yet
anything else               500     internal            no detail, only the request id
=========================  ======  ==================  ===================================

A locked file answers 403 like every other refusal of consent: the partner learns that it
may not have a decision now, and the message says why (HTTP's 423 "Locked" is WebDAV's
answer for a resource locked against editing, which a client would not expect here).

The web portal reuses :func:`problem` to render the same decisions as pages.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy.exc as sa_exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openscore.errors import (
    AuthError,
    Conflict,
    ConsentError,
    EngineError,
    Forbidden,
    InputError,
    NotFound,
    NotReady,
    OpenscoreError,
    RateLimited,
    StorageError,
)

log = logging.getLogger("openscore.api")

#: Seconds a client should wait before retrying when storage is away.
RETRY_AFTER_UNAVAILABLE = 5


class BodyTooLarge(StarletteHTTPException):
    """The request body is over the limit. An HTTPException so that FastAPI's body reader
    lets it through instead of turning it into a generic 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Problem:
    """What an error becomes: status, a stable ``error`` code, a message, where."""

    status: int
    error: str
    message: str
    field: str | None = None
    errors: list[dict[str, str | None]] = dataclasses.field(default_factory=list)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def body(self, request_id: str | None) -> dict[str, Any]:
        return {
            "status": self.status,
            "error": self.error,
            "message": self.message,
            "field": self.field,
            "errors": self.errors,
            "request_id": request_id,
        }


#: Most specific first: ``isinstance`` picks the first row that matches.
_STATUS: tuple[tuple[type[OpenscoreError], int, str], ...] = (
    (AuthError, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (ConsentError, 403, "no_consent"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (InputError, 422, "invalid_input"),
    (RateLimited, 429, "rate_limited"),
    (StorageError, 503, "unavailable"),
    (NotReady, 503, "not_ready"),
    (EngineError, 503, "unavailable"),
)

_HTTP_ERRORS = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}

_STORAGE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS}


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """``("body", "reports", 2, "due_date")`` -> ``reports[2].due_date``; a query, path or
    header parameter is named by itself; the whole body is ``body``."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = parts.pop(0)
        if where == "body" and parts and isinstance(parts[0], int):
            parts = []  # a JSON decode error: loc is ("body", position)
    if not parts:
        return "body"
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _validation(exc: RequestValidationError) -> Problem:
    errors: list[dict[str, str | None]] = []
    for err in exc.errors():
        name = field_name(err.get("loc", ()))
        message = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            message = f"not valid JSON: {ctx.get('error', 'could not decode')}"
        errors.append({"field": name, "message": message})
    first = errors[0] if errors else {"field": None, "message": "invalid request"}
    message = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid request"
    return Problem(422, "invalid_input", message, first["field"], errors)


def problem(exc: BaseException) -> Problem:
    """The answer for any exception (unknown ones become a bare 500)."""
    if isinstance(exc, RequestValidationError):
        return _validation(exc)
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 400:
            # FastAPI's "There was an error parsing the body" (a broken form or multipart):
            # bad input like any other, so it gets the status of bad input.
            return Problem(
                422,
                "invalid_input",
                "the body could not be parsed",
                "body",
                [{"field": "body", "message": "the body could not be parsed"}],
            )
        headers = dict(exc.headers or {})
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            detail = "no such route"
        return Problem(
            exc.status_code,
            _HTTP_ERRORS.get(exc.status_code, "http_error"),
            detail,
            headers=headers,
        )
    for cls, status, code in _STATUS:
        if isinstance(exc, cls):
            headers = {}
            field_: str | None = None
            message = exc.message
            if isinstance(exc, InputError):
                field_ = exc.field
                message = exc.reason if exc.field else exc.message
            if isinstance(exc, AuthError):
                headers["WWW-Authenticate"] = 'Bearer realm="openscore"'
            if isinstance(exc, RateLimited):
                headers["Retry-After"] = str(exc.retry_after)
            if status == 503:
                headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
            errors: list[dict[str, str | None]] = (
                [{"field": field_, "message": message}] if field_ else []
            )
            return Problem(status, code, message, field_, errors, headers)
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError):
        # The database is away, restarting, or (SQLite) locked for longer than the busy
        # timeout: try again shortly. Never a 500: nothing is wrong with the request.
        return Problem(
            503,
            "unavailable",
            "the registry database is unavailable: retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
        )
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return Problem(
            503,
            "unavailable",
            "storage refused the write: retry later",
            headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
        )
    return Problem(500, "internal", "internal error: quote the request id when reporting it")


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem_response(request: Request, exc: BaseException) -> JSONResponse:
    answer = problem(exc)
    if answer.status >= 500:
        if answer.status == 500:
            log.error(
                "unhandled %s on %s %s (request %s)",
                type(exc).__name__,
                request.method,
                request.url.path,
                request_id_of(request),
                exc_info=exc,
            )
        else:
            log.warning(
                "%s on %s %s (request %s): %s",
                answer.status,
                request.method,
                request.url.path,
                request_id_of(request),
                type(exc).__name__,
            )
    headers = dict(answer.headers)
    request_id = request_id_of(request)
    if request_id:
        # set here too: a 500 is sent from outside the middleware that adds it
        headers["X-Request-ID"] = request_id
    return JSONResponse(answer.body(request_id), status_code=answer.status, headers=headers)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's own 405 names only the
    methods of the first route whose path matched, not of all of them)."""
    from starlette.routing import Match

    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    response = problem_response(request, exc)
    if response.status_code == 405:
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


def install(app: FastAPI) -> None:
    """Register the handlers: openscore's errors, validation, HTTP errors, the rest."""
    app.add_exception_handler(OpenscoreError, _handle)
    app.add_exception_handler(RequestValidationError, _handle)
    app.add_exception_handler(StarletteHTTPException, _handle)
    app.add_exception_handler(sa_exc.SQLAlchemyError, _handle)
    app.add_exception_handler(OSError, _handle)
    # Exception: Starlette sends this from its outermost middleware, then re-raises so
    # that the server logs it; the body carries no trace, only the request id.
    app.add_exception_handler(Exception, _handle)
