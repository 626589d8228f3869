"""Shared dependencies: the app's state, who is asking, page sizes.

``Annotated`` types, so that a route says what it needs in its signature::

    @router.get("/me/grants/{grant_id}")
    def read_grant(state: StateDep, subject: CurrentSubject, grant_id: Id) -> GrantPublic:
        with state.read() as conn:
            return grant_public(registry.get_grant(conn, subject.person_id, grant_id))

Three kinds of caller:

* a **subject** (a scored person) with the signed session cookie (:data:`CurrentSubject`);
  every unsafe method (POST, PUT, PATCH, DELETE) also needs the session's CSRF token, in
  the ``X-CSRF-Token`` header or the ``csrf_token`` form field, and must not come from
  another origin — checked here, so that no subject route can forget it;
* a **partner** with ``Authorization: Bearer <key>`` (:data:`PartnerPrincipal`; the
  decision route takes :data:`ApiKeyDep` and calls :func:`authenticate` inside its own
  transaction);
* an **operator**, the same with a key of role ``operator`` (:data:`OperatorPrincipal`).

A missing, forged, expired or revoked credential is 401 (one message for all); a valid
one of the wrong role, or a missing CSRF token, is 403.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.engine import Connection
from starlette.concurrency import run_in_threadpool

from openscore.api.sessions import Session, csrf_matches
from openscore.api.state import AppState
from openscore.errors import AuthError, Forbidden, InputError
from openscore.registry import ApiPrincipal, authenticate_api_key, session_epoch
from openscore.registry.partners import Role

SESSION_COOKIE = "openscore_session"
#: Not HttpOnly: the page's script and forms read it to echo it back (double submit).
CSRF_COOKIE = "openscore_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PAGE_SIZE = 50


# Dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency in
# its thread pool, and a thread hop per dependency is a measurable part of a request.


async def get_state(request: Request) -> AppState:
    return request.app.state.openscore


StateDep = Annotated[AppState, Depends(get_state)]


def client_address(request: Request) -> str:
    """The peer's address (behind a proxy: what ``--forwarded-allow-ips`` lets uvicorn
    take from ``X-Forwarded-For``)."""
    return request.client.host if request.client else "unknown"


# -- subjects -------------------------------------------------------------------------

_session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description="The signed session cookie set by POST /v1/login or POST /v1/signup. "
    "Unsafe methods also need the session's CSRF token in X-CSRF-Token.",
    auto_error=False,
)


def _same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another origin (``Origin``) or
    another site (``Sec-Fetch-Site``); clients that send neither are not browsers."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin == "null":
        return False
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.netloc.lower() == host.lower() and parts.scheme in ("http", "https")


async def _presented_csrf(request: Request, header: str | None) -> str | None:
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached on the request: the route can read it again
        value = form.get(CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


async def require_csrf(request: Request, session: Session, header: str | None) -> None:
    """:class:`Forbidden` unless an unsafe request carries the session's token and comes
    from our own origin. The portal's form routes call this too."""
    if request.method not in UNSAFE_METHODS:
        return
    if not _same_origin(request):
        raise Forbidden("cross-origin request refused")
    if not csrf_matches(session.csrf_token, await _presented_csrf(request, header)):
        raise Forbidden(
            f"missing or wrong CSRF token: send the session's token in {CSRF_HEADER} "
            f"or the {CSRF_FORM_FIELD} form field"
        )


async def current_session(
    request: Request,
    state: StateDep,
    cookie: Annotated[str | None, Depends(_session_cookie)],
    csrf: Annotated[
        str | None,
        Header(
            alias=CSRF_HEADER,
            description="The session's CSRF token; required on POST, PUT, PATCH, DELETE.",
            max_length=256,
        ),
    ] = None,
) -> Session:
    """The signed-in subject. A cookie of an erased account, or one issued before the
    account's sessions were ended (password change, log out everywhere), is refused like
    a forged one."""
    session = state.sessions.verify(cookie)
    await require_csrf(request, session, csrf)
    if not await run_in_threadpool(session_current, state, session):
        raise AuthError("log in first")
    return session


def session_current(state: AppState, session: Session) -> bool:
    """Whether the session's account exists and its epoch is still the account's."""
    with state.read() as conn:
        epoch = session_epoch(conn, session.person_id)
    return epoch is not None and hmac.compare_digest(epoch, session.epoch)


CurrentSubject = Annotated[Session, Depends(current_session)]


async def costly_subject(state: StateDep, session: CurrentSubject) -> Session:
    """The subject, counted against their allowance of requests that rescore or rewrite
    the ledger (429 beyond it): unrestricted, one script could keep a core busy."""
    state.costly.attempt(session.person_id, "requests that rescore or change your data")
    return session


CostlySubject = Annotated[Session, Depends(costly_subject)]


def cookie_secure(state: AppState) -> bool:
    if state.api.cookie_secure is not None:
        return state.api.cookie_secure
    return state.settings.environment == "production"


def start_session(response: Response, state: AppState, person_id: str) -> Session:
    """Sign in: set the session cookie (HttpOnly) and the CSRF cookie (readable)."""
    with state.read() as conn:
        epoch = session_epoch(conn, person_id)
    if epoch is None:
        raise AuthError("log in first")
    value, session = state.sessions.issue(person_id, epoch)
    secure = cookie_secure(state)
    max_age = state.api.session_max_age_seconds
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        session.csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=secure,
        path="/",
    )
    return session


def end_session(response: Response, state: AppState, session: Session | None) -> None:
    """Sign out: forget the session server-side and expire both cookies."""
    if session is not None:
        state.sessions.revoke(session)
    secure = cookie_secure(state)
    for name, http_only in ((SESSION_COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="lax")


# -- partners and operators -----------------------------------------------------------

_bearer = HTTPBearer(
    scheme_name="api_key",
    description="Authorization: Bearer osk_... (a partner's or an operator's API key)",
    auto_error=False,
)


async def api_key(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The presented key, not yet checked (401 when there is none)."""
    if credentials is None:
        raise AuthError("an API key is required: Authorization: Bearer <key>")
    return credentials.credentials


ApiKeyDep = Annotated[str, Depends(api_key)]


def authenticate(conn: Connection, secret: str, role: Role) -> ApiPrincipal:
    """The principal of a key, checked for ``role``: 401 for an unknown, revoked or
    deactivated key, 403 for a valid key of another role. Routes on the hot path call
    this inside their own transaction (one connection, one thread hop fewer)."""
    principal = authenticate_api_key(conn, secret)
    if principal is None:
        raise AuthError("this API key is not valid")
    if principal.role != role:
        raise Forbidden(f"this route is for {role}s")
    return principal


def partner_principal(state: StateDep, secret: ApiKeyDep) -> ApiPrincipal:
    with state.read() as conn:
        return authenticate(conn, secret, "partner")


def operator_principal(state: StateDep, secret: ApiKeyDep) -> ApiPrincipal:
    with state.read() as conn:
        return authenticate(conn, secret, "operator")


PartnerPrincipal = Annotated[ApiPrincipal, Depends(partner_principal)]
OperatorPrincipal = Annotated[ApiPrincipal, Depends(operator_principal)]


# -- paging ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    limit: int


async def page(
    state: StateDep,
    limit: Annotated[
        int | None,
        Query(ge=1, description="items per page (at most the server's max_page_size)"),
    ] = None,
) -> Page:
    """The page size asked for; more than ``max_page_size`` is a 422 naming ``limit``
    (the schema states the maximum, see ``app._openapi``)."""
    maximum = state.settings.max_page_size
    if limit is None:
        return Page(min(DEFAULT_PAGE_SIZE, maximum))
    if limit > maximum:
        raise InputError(f"must be at most {maximum}", field="limit")
    return Page(limit)


PageDep = Annotated[Page, Depends(page)]
