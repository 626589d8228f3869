"""Who is looking at a page: a signed-in subject, a signed-in operator, or nobody yet.

* **Subjects** use the API's session cookie (``deps.start_session``); a page checks it
  with the API's signer and every POST with the API's CSRF check (``deps.require_csrf``:
  the token in the ``csrf_token`` form field, and our own origin). A page that needs a
  session and has none — never had one, expired, logged out — sends the browser to the
  log-in page with the page it wanted in ``next``; a form posted on an ended session
  carries what was typed into ``next`` too, so that nothing is lost.
* **Operators** authenticate with an API key of role ``operator``. The console's log-in
  form takes the key once and sets a console session cookie of its own (signed under a
  key derived for this purpose only, HttpOnly, SameSite=Strict, 8 h at most). The key
  itself is never stored in the cookie: the cookie names the key's id, and every request
  checks that the key is still valid and its operator still active, so revoking the key
  or deactivating the operator ends every console session made with it at once.
* **Anonymous forms** (sign-up, log-in, console log-in) carry a token that must match a
  cookie set with the form (double submit), so that another site cannot log a browser
  into an account of its choosing.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from openscore import registry
from openscore.api.deps import (
    CSRF_HEADER,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    cookie_secure,
    require_csrf,
)
from openscore.api.sessions import Session, derive_key
from openscore.api.state import AppState
from openscore.config import Secret
from openscore.errors import AuthError, Forbidden, NotFound
from openscore.registry import ApiPrincipal

CONSOLE_COOKIE = "openscore_console"
CONSOLE_PURPOSE = b"openscore.console.v1"
FORM_COOKIE = "openscore_form"
FORM_FIELD = "csrf_token"
#: Form fields never carried over a log-in (secrets, tokens, confirmations).
NOT_KEPT = frozenset({"csrf_token", "password", "confirm", "once", "next", "key"})
MAX_KEPT_CHARS = 4000


class LoginRequired(Exception):
    """The page needs a signed-in subject (handled: back to the log-in page)."""

    def __init__(self, *, ended: bool) -> None:
        super().__init__("log in first")
        self.ended = ended


class ConsoleLoginRequired(Exception):
    """The page needs a signed-in operator (handled: back to the console's log-in)."""

    def __init__(self, *, ended: bool) -> None:
        super().__init__("operator log-in required")
        self.ended = ended


def app_state(request: Request) -> AppState:
    return request.app.state.openscore


# -- where to go after logging in ---------------------------------------------------------


def safe_next(value: str | None, default: str) -> str:
    """``value`` if it is a path on this site (never another host, never the API)."""
    if not value or len(value) > 6000 or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return default
    path = urlsplit(value).path
    if path.startswith(("/v1", "/openapi", "/static", "/login", "/signup", "/logout")):
        return default
    return value


def with_query(path: str, params: dict[str, str]) -> str:
    params = {k: v for k, v in params.items() if v}
    if not params:
        return path
    return f"{path}{'&' if '?' in path else '?'}{urlencode(params)}"


async def resume_url(request: Request, default: str) -> str:
    """Where a form posted on an ended session should come back to, with what was typed
    (the form's ``next`` field names its page; secrets are dropped)."""
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), default)
    kept: dict[str, str] = {}
    for name, value in form.multi_items():
        if name in NOT_KEPT or not isinstance(value, str) or name in kept:
            continue
        kept[name] = value[:MAX_KEPT_CHARS]
    return with_query(back, kept)


# -- anonymous forms ------------------------------------------------------------------------


def form_token(request: Request) -> str:
    """The anonymous form token for the page being rendered (a new one is set as a
    cookie by :func:`openscore.web.render.page`)."""
    token = request.cookies.get(FORM_COOKIE)
    if not token or len(token) != 43:
        token = secrets.token_urlsafe(32)
        request.state.web_new_form_token = token
    request.state.web_form_token = token
    return token


def set_form_token(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=86400,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(app_state(request)),
        path="/",
    )


async def check_form_token(request: Request) -> None:
    """:class:`Forbidden` unless an anonymous form came from our page in this browser."""
    token = request.cookies.get(FORM_COOKIE)
    if not token:
        raise Forbidden("missing or wrong CSRF token: reload the form and send it again")
    # The API's check compares a session's token; an anonymous form's session is the
    # token cookie, held in the same shape so that the one check serves both.
    holder = Session("", "", token, datetime.now(UTC), datetime.now(UTC))
    await require_csrf(request, holder, None)


# -- subjects ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visitor:
    """A signed-in subject as the pages see them."""

    session: Session
    login: str | None

    @property
    def person_id(self) -> str:
        return self.session.person_id

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token


async def portal_subject(request: Request) -> Visitor:
    state = app_state(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    try:
        session = state.sessions.verify(cookie)
    except AuthError:
        # A browser drops an expired cookie: a portal form posted without one was
        # written in a session that has ended, so say so (and keep what was typed).
        ended = cookie is not None or request.method in UNSAFE_METHODS
        raise LoginRequired(ended=ended) from None
    if request.method in UNSAFE_METHODS:
        await require_csrf(request, session, request.headers.get(CSRF_HEADER))

    def login_of() -> tuple[bool, str | None]:
        with state.read() as conn:
            epoch = registry.session_epoch(conn, session.person_id)
            if epoch is None or not hmac.compare_digest(epoch, session.epoch):
                return False, None  # erased, or its sessions were ended
            return True, registry.login_of(conn, session.person_id)

    exists, login = await run_in_threadpool(login_of)
    if not exists:  # erased: the cookie is worth nothing
        raise LoginRequired(ended=True)
    visitor = Visitor(session, login)
    request.state.web_subject = visitor
    return visitor


PortalSubject = Annotated[Visitor, Depends(portal_subject)]


async def optional_subject(request: Request) -> Visitor | None:
    """The signed-in subject, if there is one (public pages adapt their header)."""
    state = app_state(request)
    try:
        session = state.sessions.verify(request.cookies.get(SESSION_COOKIE))
    except AuthError:
        return None

    def login_of() -> tuple[bool, str | None]:
        with state.read() as conn:
            epoch = registry.session_epoch(conn, session.person_id)
            if epoch is None or not hmac.compare_digest(epoch, session.epoch):
                return False, None  # erased, or its sessions were ended
            return True, registry.login_of(conn, session.person_id)

    exists, login = await run_in_threadpool(login_of)
    if not exists:
        return None
    visitor = Visitor(session, login)
    request.state.web_subject = visitor
    return visitor


# -- operators ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    partner_id: str
    key_id: str
    session_id: str
    csrf_token: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Operator:
    """A signed-in operator as the console sees them."""

    principal: ApiPrincipal
    session: ConsoleSession

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token

    @property
    def name(self) -> str:
        return self.principal.name


class ConsoleSessions:
    """Signs and checks console session cookies; remembers logged-out ones until expiry."""

    MAX_REVOKED = 10_000

    def __init__(self, secret_key: Secret, *, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(
            derive_key(secret_key, CONSOLE_PURPOSE), salt="console"
        )
        self.max_age = max_age_seconds
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, principal: ApiPrincipal) -> tuple[str, ConsoleSession]:
        body = {
            "o": principal.partner_id,
            "k": principal.key_id,
            "s": secrets.token_hex(16),
            "c": secrets.token_urlsafe(32),
        }
        value = self._serializer.dumps(body)
        _, issued = self._serializer.loads(value, return_timestamp=True)
        return value, self._session(body, issued)

    def _session(self, body: dict[str, str], issued: datetime) -> ConsoleSession:
        return ConsoleSession(
            body["o"],
            body["k"],
            body["s"],
            body["c"],
            issued,
            issued + timedelta(seconds=self.max_age),
        )

    def verify(self, value: str | None) -> ConsoleSession:
        if not value or len(value) > 4096:
            raise AuthError("log in first")
        try:
            body, issued = self._serializer.loads(
                value, max_age=self.max_age, return_timestamp=True
            )
        except (SignatureExpired, BadSignature):
            raise AuthError("log in first") from None
        if not (isinstance(body, dict) and all(isinstance(body.get(k), str) for k in "oksc")):
            raise AuthError("log in first")
        with self._lock:
            if body["s"] in self._revoked:
                raise AuthError("log in first")
        return self._session(body, issued)

    def revoke(self, session: ConsoleSession) -> None:
        now = time.time()
        with self._lock:
            if len(self._revoked) >= self.MAX_REVOKED:
                self._revoked = {s: t for s, t in self._revoked.items() if t > now}
            self._revoked[session.session_id] = session.expires_at.timestamp()


def _principal_of(state: AppState, session: ConsoleSession) -> ApiPrincipal | None:
    """The operator behind a console session, if its key and its operator are still good."""
    with state.read() as conn:
        try:
            partner = registry.get_partner(conn, session.partner_id)
        except NotFound:
            return None
        if partner.role != "operator" or not partner.active:
            return None
        key = next(
            (k for k in registry.list_api_keys(conn, partner.id) if k.id == session.key_id), None
        )
    if key is None or key.revoked_at is not None:
        return None
    return ApiPrincipal(partner.id, "operator", key.id, partner.name)


async def console_operator(request: Request) -> Operator:
    state = app_state(request)
    web = request.app.state.openscore_web
    cookie = request.cookies.get(CONSOLE_COOKIE)
    try:
        session = web.console.verify(cookie)
    except AuthError:
        raise ConsoleLoginRequired(ended=cookie is not None) from None
    if request.method in UNSAFE_METHODS:
        holder = Session("", "", session.csrf_token, session.issued_at, session.expires_at)
        await require_csrf(request, holder, request.headers.get(CSRF_HEADER))
    principal = await run_in_threadpool(_principal_of, state, session)
    if principal is None:
        raise ConsoleLoginRequired(ended=True)
    operator = Operator(principal, session)
    request.state.web_operator = operator
    return operator


ConsoleOperator = Annotated[Operator, Depends(console_operator)]


def start_console_session(request: Request, response: Response, principal: ApiPrincipal) -> None:
    value, _ = request.app.state.openscore_web.console.issue(principal)
    response.set_cookie(
        CONSOLE_COOKIE,
        value,
        max_age=app_state(request).api.session_max_age_seconds,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(app_state(request)),
        path="/console",
    )


def end_console_session(request: Request, response: Response, operator: Operator | None) -> None:
    if operator is not None:
        request.app.state.openscore_web.console.revoke(operator.session)
    response.delete_cookie(
        CONSOLE_COOKIE,
        path="/console",
        secure=cookie_secure(app_state(request)),
        httponly=True,
        samesite="strict",
    )
