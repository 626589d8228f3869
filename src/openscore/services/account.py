"""The account itself: sign-up and log-in, who I am, lock and unlock my file, export
everything, erase.

Sign-up either creates a new person or — with an enrolment code an operator issued —
claims a person the registry already holds (their furnishers know them by that id).
Log-in fails with "wrong login or password" whether the login exists or not, and with
:class:`RateLimited` once a login or an address has failed too often. Sessions (cookies)
are the HTTP layers' business: these functions say who the person is.
"""

from __future__ import annotations

from datetime import datetime

from fastapi.encoders import jsonable_encoder

from openscore import online, registry
from openscore.errors import AuthError, Conflict, Forbidden
from openscore.registry.credentials import normalise_login
from openscore.services.context import AttemptGuard, Context, Enrolment, LoginGuard
from openscore.services.records import ledger_rows
from openscore.services.schemas import ExportPublic, LockPublic, MePublic
from openscore.services.scores import score_public


def sign_up(
    state: Context,
    *,
    login: str,
    password: str,
    enrolment_code: str | None,
    enrolment: Enrolment,
    signups: AttemptGuard,
    address: str,
    actor: str = "subject",
) -> str:
    """Create an account (and a person, or claim one with an enrolment code); the
    person's id."""
    signups.attempt(address, "sign-ups from this address")
    with state.write() as conn:
        if enrolment_code is not None:
            person_id = enrolment.person_of(enrolment_code)
            if person_id is None or not registry.person_exists(conn, person_id):
                raise Forbidden("this enrolment code is not valid (or has expired)")
            if registry.login_of(conn, person_id) is not None:
                raise Conflict("this enrolment code was already used")
        else:
            person_id = registry.create_person(conn, actor=actor).id
        registry.set_credentials(conn, person_id, login=login, password=password, actor=actor)
    return person_id


def log_in(
    state: Context, *, login: str, password: str, logins: LoginGuard, address: str
) -> tuple[str, str]:
    """The person whose login and password these are, and the login as stored."""
    name = normalise_login(login)
    logins.check(name, address)
    # Deferred: verifying is a read, and argon2 takes a while, which must not hold the
    # write lock. A hash with stale parameters is upgraded in a write of its own (a
    # deferred read that later writes fails at once on SQLite if anyone wrote meanwhile).
    with state.reader.begin() as conn:
        match = registry.match_password(conn, name, password)
    if match is None:
        logins.failed(name, address)
        raise AuthError("wrong login or password")
    logins.succeeded(name)
    if match.stale_hash is not None:
        fresh = registry.hash_password(password)
        with state.write() as conn:
            registry.upgrade_password_hash(conn, match, fresh)
    return match.person_id, name


def login_of(state: Context, person_id: str) -> str | None:
    with state.read() as conn:
        return registry.login_of(conn, person_id)


def end_all_sessions(state: Context, person_id: str, *, actor: str = "subject") -> None:
    """End every session of the account, on every device."""
    with state.write() as conn:
        registry.end_all_sessions(conn, person_id, actor=actor)


def read_me(state: Context, person_id: str) -> MePublic:
    with state.read() as conn:
        person = registry.get_person(conn, person_id)
        since = registry.locked_since(conn, person_id)
        login = registry.login_of(conn, person_id)
    return MePublic(
        person_id=person.id,
        login=login,
        created_at=person.created_at,
        locked=since is not None,
        locked_since=since,
    )


def erase(
    state: Context,
    person_id: str,
    *,
    password: str,
    logins: LoginGuard,
    address: str,
    actor: str = "subject",
) -> int:
    """Erase everything about the person from the registry and the ledger (the audit log
    keeps a tombstone that names no one), once the password is confirmed; the ledger rows
    removed. :class:`Forbidden` if the password is not right."""
    with state.read() as conn:
        login = registry.login_of(conn, person_id)
    key = login or person_id
    logins.check(key, address)
    with state.reader.begin() as conn:
        confirmed = login is not None and registry.verify_password(conn, login, password)
    if confirmed != person_id:
        logins.failed(key, address)
        raise Forbidden("the password is not right: nothing was erased")
    return online.erase(state.engine, person_id, actor=actor, settings=state.settings)


def export(state: Context, person_id: str) -> ExportPublic:
    """Everything openscore holds about the person, as one document."""
    with state.read() as conn:
        held = registry.export_person(conn, person_id)
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
        history = registry.score_history(conn, person_id, limit=10_000)
    features = online.person_features(person_id, excluded=excluded, settings=state.settings)
    return ExportPublic(
        format="openscore.export.v1",
        generated_at=registry.utc_now(),
        person_id=person_id,
        registry=jsonable_encoder(held),
        ledger=ledger_rows(state.ledger, person_id),
        features=features,
        score_history=[score_public(s) for s in history],
    )


def read_lock(state: Context, person_id: str) -> LockPublic:
    with state.read() as conn:
        since: datetime | None = registry.locked_since(conn, person_id)
    return LockPublic(locked=since is not None, since=since)


def lock(state: Context, person_id: str, *, actor: str = "subject") -> LockPublic:
    """Freeze the file: no partner gets a decision or a score until it is unlocked."""
    with state.write() as conn:
        since = registry.lock_file(conn, person_id, actor=actor)
    return LockPublic(locked=True, since=since)


def unlock(state: Context, person_id: str, *, actor: str = "subject") -> LockPublic:
    with state.write() as conn:
        registry.unlock_file(conn, person_id, actor=actor)
    return LockPublic(locked=False, since=None)
