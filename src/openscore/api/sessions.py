"""Subject sessions, CSRF tokens and enrolment codes: signed, expiring, stateless tokens.

A **session** is a cookie holding ``{person, session id, CSRF token}`` signed with a key
derived from the settings' secret (itsdangerous, HMAC-SHA256) and stamped with its issue
time; it is HttpOnly (page scripts cannot read it), SameSite=Lax (other sites' forms and
scripts do not send it), Secure in production, and valid for a fixed time from log-in.
Log-out forgets the session id until the session would have expired anyway, so a copied
cookie stops working at once (in this process: see ``docs/api.md`` on several workers).

Every session also carries its account's **session epoch** (``people.session_epoch``),
and a request is served only while it still matches the registry's: a password change or
"log out everywhere" draws a new epoch and so ends every session of the account, in every
worker; an erasure deletes the account, and a person registered again under the same id
starts with a fresh random epoch, so the old cookies never come back.

The **CSRF token** lives inside the signed session (so it cannot be swapped) and is also
handed to the client — in the log-in answer and in a readable cookie — to echo back in
the ``X-CSRF-Token`` header or the ``csrf_token`` form field of every state-changing
request. SameSite=Lax already keeps other *sites* out; the token also keeps out other
*origins of the same site* (another port on 127.0.0.1, a sibling subdomain), which Lax
treats as the same site.

An **enrolment code** lets a person who is already in the registry (their furnishers
know them) claim that id with a login of their own. It is a signed, expiring token
naming the person; it is single-use because claiming sets credentials, and a person
who has credentials cannot be claimed again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from openscore.config import Secret, reveal
from openscore.errors import AuthError

SESSION_PURPOSE = b"openscore.session.v1"
ENROLMENT_PURPOSE = b"openscore.enrolment.v1"
#: Forgotten session ids kept at most (each log-out adds one until its expiry passes).
MAX_REVOKED = 100_000


def derive_key(secret_key: Secret, purpose: bytes) -> bytes:
    """A key for one purpose, so the raw settings secret is never used twice."""
    return hmac.new(reveal(secret_key), purpose, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Session:
    """A verified session: whose it is, its id, its CSRF token and when it ends."""

    person_id: str
    session_id: str
    csrf_token: str
    issued_at: datetime
    expires_at: datetime
    #: the account's session epoch when it was issued (must still match the registry's)
    epoch: str = ""


class SessionSigner:
    """Issues and verifies session cookies; remembers logged-out sessions until expiry."""

    def __init__(self, secret_key: Secret, *, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(
            derive_key(secret_key, SESSION_PURPOSE), salt="session"
        )
        self.max_age = max_age_seconds
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, person_id: str, epoch: str) -> tuple[str, Session]:
        """A new session for ``person_id`` under the account's current ``epoch``: the
        cookie value and what it holds."""
        session_id = secrets.token_hex(16)
        csrf = secrets.token_urlsafe(32)
        value = self._serializer.dumps({"p": person_id, "s": session_id, "c": csrf, "g": epoch})
        # Read the stamp back rather than trusting our clock twice.
        _, issued = self._serializer.loads(value, return_timestamp=True)
        return value, Session(
            person_id, session_id, csrf, issued, issued + timedelta(seconds=self.max_age), epoch
        )

    def verify(self, value: str | None) -> Session:
        """The session a cookie holds; :class:`AuthError` if absent, forged, expired or
        logged out (one message for all, so a probe learns nothing)."""
        if not value or len(value) > 4096:
            raise AuthError("log in first")
        try:
            body, issued = self._serializer.loads(
                value, max_age=self.max_age, return_timestamp=True
            )
        except SignatureExpired:
            raise AuthError("your session has expired: log in again") from None
        except BadSignature:
            raise AuthError("log in first") from None
        if not (
            isinstance(body, dict)
            and all(isinstance(body.get(k), str) for k in ("p", "s", "c", "g"))
        ):
            raise AuthError("log in first")
        with self._lock:
            if body["s"] in self._revoked:
                raise AuthError("log in first")
        return Session(
            body["p"],
            body["s"],
            body["c"],
            issued,
            issued + timedelta(seconds=self.max_age),
            body["g"],
        )

    def revoke(self, session: Session) -> None:
        """Forget a session (log-out) until it would have expired anyway."""
        now = time.time()
        with self._lock:
            if len(self._revoked) >= MAX_REVOKED:
                self._revoked = {s: t for s, t in self._revoked.items() if t > now}
            if len(self._revoked) >= MAX_REVOKED:  # still full: drop the oldest expiries
                for sid in sorted(self._revoked, key=self._revoked.__getitem__)[
                    : MAX_REVOKED // 10
                ]:
                    del self._revoked[sid]
            self._revoked[session.session_id] = session.expires_at.timestamp()


def csrf_matches(expected: str, presented: str | None) -> bool:
    """Constant-time comparison of the session's token with the one a request presents."""
    if not presented or len(presented) > 256:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


class EnrolmentCodes:
    """Signed, expiring codes that let a registered person claim their id."""

    def __init__(self, secret_key: Secret, *, max_age_seconds: int) -> None:
        self._serializer = URLSafeTimedSerializer(
            derive_key(secret_key, ENROLMENT_PURPOSE), salt="enrolment"
        )
        self.max_age = max_age_seconds

    def issue(self, person_id: str) -> tuple[str, datetime]:
        """A code for ``person_id`` and when it expires."""
        code = self._serializer.dumps({"p": person_id, "n": secrets.token_hex(8)})
        return code, datetime.now(UTC) + timedelta(seconds=self.max_age)

    def person_of(self, code: str) -> str | None:
        """The person a code names, or ``None`` if it is forged or expired (the caller
        refuses it: a code is a credential, so a bad one is "not allowed", not bad input)."""
        try:
            body = self._serializer.loads(code, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        if not isinstance(body, dict) or not isinstance(body.get("p"), str):
            return None
        return body["p"]
