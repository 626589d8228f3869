"""Sign-up, log-in, log-out: the subject's session.

Sign-up either creates a new person or — with an enrolment code an operator issued —
claims a person the registry already holds (their furnishers know them by that id). Both
set the session cookie at once. Log-in answers 401 "wrong login or password" whether
the login exists or not, and 429 once a login or an address has failed too often.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from openscore.api.deps import CurrentSubject, StateDep, client_address, end_session, start_session
from openscore.api.sessions import Session
from openscore.registry.credentials import normalise_login
from openscore.services import account
from openscore.services.schemas import LoginRequest, SessionPublic, SubjectCreate

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
    person_id = account.sign_up(
        state,
        login=body.login,
        password=body.password,
        enrolment_code=body.enrolment_code,
        enrolment=state.enrolment,
        signups=state.signups,
        address=client_address(request),
    )
    session = start_session(response, state, person_id)
    return _public(session, normalise_login(body.login))


@router.post("/login", response_model=SessionPublic)
def login(
    request: Request, response: Response, state: StateDep, body: LoginRequest
) -> SessionPublic:
    """Log in; the answer's ``csrf_token`` goes in ``X-CSRF-Token`` from now on."""
    person_id, name = account.log_in(
        state,
        login=body.login,
        password=body.password,
        logins=state.logins,
        address=client_address(request),
    )
    session = start_session(response, state, person_id)
    return _public(session, name)


@router.get("/session", response_model=SessionPublic)
def read_session(state: StateDep, session: CurrentSubject) -> SessionPublic:
    """The current session (a page that lost its CSRF token gets it back here)."""
    return _public(session, account.login_of(state, session.person_id))


@router.post("/logout/everywhere", status_code=204, response_class=Response)
def logout_everywhere(state: StateDep, session: CurrentSubject) -> Response:
    """End every session of the account, on every device (this one included)."""
    account.end_all_sessions(state, session.person_id)
    response = Response(status_code=204)
    end_session(response, state, session)
    return response


@router.post("/logout", status_code=204, response_class=Response)
def logout(state: StateDep, session: CurrentSubject) -> Response:
    """End the session: the cookie stops working now, even if someone kept a copy."""
    response = Response(status_code=204)
    end_session(response, state, session)
    return response
