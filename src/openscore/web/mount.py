"""``install(app)``: the portal and the console on the app ``create_app`` made.

Adds the page routers (left out of the OpenAPI document: they are pages, not API), the
static files under ``/static``, and error *pages*: the API's handlers stay in charge of
``/v1`` and ``/openapi.json`` (JSON bodies), and every other path gets the same decision
— ``api.errors.problem`` says which status and message — rendered as a page, never a
stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy.exc as sa_exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from openscore.api.deps import UNSAFE_METHODS
from openscore.api.errors import allowed_methods, problem, problem_response, request_id_of
from openscore.api.state import AppState
from openscore.errors import OpenscoreError
from openscore.web.auth import (
    ConsoleLoginRequired,
    ConsoleSessions,
    LoginRequired,
    resume_url,
    safe_next,
)
from openscore.web.forms import OnceTokens
from openscore.web.render import PAGE_HEADERS, STATIC_DIR, page

log = logging.getLogger("openscore.web")

API_PREFIXES = ("/v1", "/openapi")

Handler = Callable[[Request, Exception], Awaitable[Response]]


@dataclass
class WebState:
    """What the pages keep besides the API's state (``app.state.openscore_web``)."""

    console: ConsoleSessions
    once: OnceTokens


def install(app: FastAPI) -> None:
    """Mount the subject portal, the operator console and their static files on ``app``
    (made by :func:`openscore.api.create_api`; call this after it, once:
    :func:`openscore.server.create_app` does)."""
    from openscore.web.routes import ROUTERS

    state: AppState = app.state.openscore
    app.state.openscore_web = WebState(
        console=ConsoleSessions(
            state.settings.secret_key, max_age_seconds=state.api.session_max_age_seconds
        ),
        once=OnceTokens(),
    )
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _install_error_pages(app)


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(API_PREFIXES)


def _install_error_pages(app: FastAPI) -> None:
    existing = dict(app.exception_handlers)
    for cls in (
        OpenscoreError,
        RequestValidationError,
        StarletteHTTPException,
        sa_exc.SQLAlchemyError,
        OSError,
        Exception,
    ):
        app.add_exception_handler(cls, _page_or_api(existing.get(cls)))
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(ConsoleLoginRequired, _to_console_login)


def _page_or_api(api_handler: Callable | None) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        if is_page(request):
            return error_page(request, exc)
        if api_handler is not None:
            return await api_handler(request, exc)
        return problem_response(request, exc)

    return handle


_TITLES = {
    400: "This request could not be read",
    403: "Not allowed",
    404: "Page not found",
    405: "Not available this way",
    409: "Already done",
    413: "Too large",
    422: "Something in the form is not right",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Please try again shortly",
}


def error_page(request: Request, exc: BaseException) -> Response:
    """The page for an error: its status, a title, what to do next; no trace, ever."""
    answer = problem(exc)
    if answer.status == 401:
        return _redirect(f"/login?{urlencode({'next': _here(request), 'ended': '1'})}")
    if answer.status >= 500:
        log.log(
            logging.ERROR if answer.status == 500 else logging.WARNING,
            "%s on page %s %s (request %s): %s",
            answer.status,
            request.method,
            request.url.path,
            request_id_of(request),
            type(exc).__name__,
            exc_info=exc if answer.status == 500 else None,
        )
    message = answer.message
    kind = answer.error
    if answer.status == 403 and ("CSRF" in message or "cross-origin" in message):
        kind = "csrf"
    elif answer.status == 404:
        message = "There is nothing here, or it is not yours to see."
    elif answer.status == 500:
        message = "The problem was logged. Nothing you did caused it."
    headers = {k: v for k, v in answer.headers.items() if k.lower() == "retry-after"}
    if answer.status == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    request_id = request_id_of(request)
    if request_id:  # a 500 leaves from outside the middleware that adds it
        headers["X-Request-ID"] = request_id
    return page(
        request,
        "error.html",
        status=answer.status,
        headers=headers,
        title=_TITLES.get(answer.status, "Something is not right"),
        status_code=answer.status,
        kind=kind,
        message=message,
        retry_after=answer.headers.get("Retry-After"),
        request_id=request_id,
        console=request.url.path.startswith("/console"),
    )


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=PAGE_HEADERS)


async def _to_login(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, LoginRequired):  # registered for it alone; not ours otherwise
        raise exc
    if request.method in UNSAFE_METHODS:
        target = await resume_url(request, "/dashboard")
    else:
        target = safe_next(_here(request), "/dashboard")
    params = {"next": target}
    if exc.ended:
        params["ended"] = "1"
    return _redirect(f"/login?{urlencode(params)}")


async def _to_console_login(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ConsoleLoginRequired):
        raise exc
    target = _here(request) if request.method not in UNSAFE_METHODS else "/console"
    if not target.startswith("/console") or target.startswith("/console/login"):
        target = "/console"
    params = {"next": target}
    if exc.ended:
        params["ended"] = "1"
    return _redirect(f"/console/login?{urlencode(params)}")
