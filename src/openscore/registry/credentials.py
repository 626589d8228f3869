"""Log-in credentials: a login name and an argon2id password hash per person.

argon2id with argon2-cffi's defaults (RFC 9106's second recommended profile: 64 MiB,
3 passes) makes each guess cost real memory. A hash made with older parameters is
upgraded on the next successful log-in. An unknown login still spends one hash
computation, so timing does not tell whether a login exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError
from openscore.registry import audit
from openscore.registry.metadata import credentials, people, utc_now
from openscore.registry.people import get_person

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
MAX_LOGIN_LENGTH = 254

_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified against when the login is unknown, to spend the time a real check takes."""
    return _hasher.hash("openscore-no-such-login")


def normalise_login(login: str) -> str:
    """Logins compare case-insensitively and without surrounding spaces."""
    return login.strip().lower()


def _check(login: str, password: str) -> str:
    login = normalise_login(login)
    if not 3 <= len(login) <= MAX_LOGIN_LENGTH or any(c.isspace() for c in login):
        raise InputError(f"must be 3-{MAX_LOGIN_LENGTH} characters without spaces", field="login")
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InputError(
            f"must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters", field="password"
        )
    return login


def set_credentials(
    conn: Connection,
    person_id: str,
    *,
    login: str,
    password: str,
    actor: str,
    now: datetime | None = None,
) -> None:
    """Set (or replace) a person's login and password. :class:`Conflict` if the login is
    another person's. Replacing them ends every session of the account (a new session
    epoch): whoever knew the old password is logged out everywhere."""
    login = _check(login, password)
    get_person(conn, person_id)
    now = now or utc_now()
    taken = conn.execute(
        sa.select(credentials.c.person_id).where(credentials.c.login == login)
    ).scalar_one_or_none()
    if taken is not None and taken != person_id:
        raise Conflict("this login is taken")
    password_hash = _hasher.hash(password)
    exists = conn.execute(
        sa.select(credentials.c.person_id).where(credentials.c.person_id == person_id)
    ).first()
    try:
        with conn.begin_nested():
            if exists:
                conn.execute(
                    credentials.update()
                    .where(credentials.c.person_id == person_id)
                    .values(login=login, password_hash=password_hash, updated_at=now)
                )
                conn.execute(
                    people.update()
                    .where(people.c.id == person_id)
                    .values(session_epoch=secrets.token_hex(16))
                )
            else:
                conn.execute(
                    credentials.insert().values(
                        person_id=person_id,
                        login=login,
                        password_hash=password_hash,
                        created_at=now,
                        updated_at=now,
                    )
                )
    except sa.exc.IntegrityError:  # a concurrent sign-up took the login first
        raise Conflict("this login is taken") from None
    audit.append(conn, action="credentials.set", actor=actor, person_id=person_id, at=now)


@dataclass(frozen=True)
class PasswordMatch:
    """A right password: whose it is, and the stored hash when its parameters are stale."""

    person_id: str
    stale_hash: str | None = None


def match_password(conn: Connection, login: str, password: str) -> PasswordMatch | None:
    """Who ``password`` is right for, or ``None`` (never says why). Only reads: a stale hash
    is upgraded by :func:`upgrade_password_hash` in a write transaction of its own, so that
    checking (slow by design) never holds, nor fails for, the write lock."""
    row = conn.execute(
        sa.select(credentials.c.person_id, credentials.c.password_hash).where(
            credentials.c.login == normalise_login(login)
        )
    ).one_or_none()
    if row is None or len(password) > MAX_PASSWORD_LENGTH:
        try:
            _hasher.verify(_dummy_hash(), password[:MAX_PASSWORD_LENGTH])
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    stale = row.password_hash if _hasher.check_needs_rehash(row.password_hash) else None
    return PasswordMatch(str(row.person_id), stale)


def verify_password(conn: Connection, login: str, password: str) -> str | None:
    """The person id if ``password`` is right for ``login``, else ``None`` (only reads)."""
    match = match_password(conn, login, password)
    return match.person_id if match is not None else None


def hash_password(password: str) -> str:
    """A hash with the current parameters (compute it outside a write transaction)."""
    return _hasher.hash(password)


def upgrade_password_hash(conn: Connection, match: PasswordMatch, password_hash: str) -> bool:
    """Replace the stale hash ``match`` saw with ``password_hash``, unless the password
    changed meanwhile (then nothing is written). Whether it was replaced."""
    if match.stale_hash is None:
        return False
    done = conn.execute(
        credentials.update()
        .where(
            credentials.c.person_id == match.person_id,
            credentials.c.password_hash == match.stale_hash,
        )
        .values(password_hash=password_hash)
    )
    return bool(done.rowcount)


def login_of(conn: Connection, person_id: str) -> str | None:
    """The person's login, if they have credentials."""
    return conn.execute(
        sa.select(credentials.c.login).where(credentials.c.person_id == person_id)
    ).scalar_one_or_none()
