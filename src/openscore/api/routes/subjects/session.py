"""Sign-up, log-in, log-out: the subject's session.

Sign-up either creates a new person or — with an enrolment code an operator issued —
claims a person the registry already holds (their furnishers know them by that id). Both
set the session cookie at once. Log-in answers 401 "wrong login or password" whether
the login exists or not, and 429 once a login or an address has failed too often.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from openscore import registry
from openscore.api.deps import CurrentSubject, StateDep, client_address, end_session, start_session
from openscore.api.errors import Forbidden
from openscore.api.schemas import LoginRequest, SessionPublic, SubjectCreate
from openscore.api.sessions import Session
from openscore.errors import AuthError, Conflict
from openscore.registry.credentials import normalise_login

router = APIRouter(prefix="/v1", tags=["subjects: session"])


def _public(session: Session, login: str | None) -> SessionPublic:
    return SessionPublic(
        person_id=session.person_id,
        login=login,
        csrf_token=session.csrf_token,
        expires_at=session.expires_at,
    )


@router.post("/signup", status_code=201, response_model=SessionPublic)
def signup(
    request: Request, response: Response, state: StateDep, body: SubjectCreate
) -> SessionPublic:
    """Create an account (and a person, or claim one with an enrolment code)."""
    state.signups.attempt(client_address(request), "sign-ups from this address")
    with state.write() as conn:
        if body.enrolment_code is not None:
            person_id = state.enrolment.person_of(body.enrolment_code)
            if person_id is None or not registry.person_exists(conn, person_id):
                raise Forbidden("this enrolment code is not valid (or has expired)")
            if registry.login_of(conn, person_id) is not None:
                raise Conflict("this enrolment code was already used")
        else:
            person_id = registry.create_person(conn, actor="subject").id
        registry.set_credentials(
            conn, person_id, login=body.login, password=body.password, actor="subject"
        )
    session = start_session(response, state, person_id)
    return _public(session, normalise_login(body.login))


@router.post("/login", response_model=SessionPublic)
def login(
    request: Request, response: Response, state: StateDep, body: LoginRequest
) -> SessionPublic:
    """Log in; the answer's ``csrf_token`` goes in ``X-CSRF-Token`` from now on."""
    name = normalise_login(body.login)
    address = client_address(request)
    state.logins.check(name, address)
    # Deferred: verifying is a read (plus a rare rehash), and argon2 takes a while, which
    # must not hold the write lock.
    with state.reader.begin() as conn:
        person_id = registry.verify_password(conn, name, body.password)
    if person_id is None:
        state.logins.failed(name, address)
        raise AuthError("wrong login or password")
    state.logins.succeeded(name)
    session = start_session(response, state, person_id)
    return _public(session, name)


@router.get("/session", response_model=SessionPublic)
def read_session(state: StateDep, session: CurrentSubject) -> SessionPublic:
    """The current session (a page that lost its CSRF token gets it back here)."""
    with state.read() as conn:
        login = registry.login_of(conn, session.person_id)
    return _public(session, login)


@router.post("/logout/everywhere", status_code=204, response_class=Response)
def logout_everywhere(state: StateDep, session: CurrentSubject) -> Response:
    """End every session of the account, on every device (this one included)."""
    with state.write() as conn:
        registry.end_all_sessions(conn, session.person_id, actor="subject")
    response = Response(status_code=204)
    end_session(response, state, session)
    return response


@router.post("/logout", status_code=204, response_class=Response)
def logout(state: StateDep, session: CurrentSubject) -> Response:
    """End the session: the cookie stops working now, even if someone kept a copy."""
    response = Response(status_code=204)
    end_session(response, state, session)
    return response
