"""Issuing, withdrawing and checking score attestations for a person.

The API (``/v1/me/attestations``, ``/v1/attestations/verify``), the portal's "prove my
score" and public verify pages, and ``openscore attest`` all call these functions, which
take plain arguments (an engine, the settings, the person's live public records) and
raise the project's errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection, Engine

from openscore.attestations import sdjwt
from openscore.attestations.claims import (
    ClaimRequest,
    Standing,
    check_request,
    claims_for,
    unsupported,
)
from openscore.attestations.keys import MAX_LIFETIME, KeyStore
from openscore.config import Settings
from openscore.decisions import PublicRecord
from openscore.errors import Conflict, InputError
from openscore.registry import attestations as store
from openscore.registry import current_score, excluded_records, new_id, utc_now
from openscore.registry.scores import PublishedScore

#: The ``iss`` of every token (verifiers match it; it is not a URL to fetch anything from).
ISSUER = "openscore"
MAX_DAYS = MAX_LIFETIME.days

#: person id, excluded record refs -> their public records (the API's in-memory index,
#: or a ledger read in the CLI)
RecordsOf = Callable[[str, frozenset[str]], Iterable[PublicRecord]]


@dataclass(frozen=True, slots=True)
class Issued:
    token: str
    attestation: store.Attestation


def standing(
    conn: Connection, person_id: str, records_of: RecordsOf, now: datetime
) -> tuple[PublishedScore, Standing]:
    """The person's current published score and live public records (:class:`NotFound`
    when no score is published yet; an unscorable person's has no number)."""
    score = current_score(conn, person_id)
    excluded = excluded_records(conn, [person_id]).get(person_id, frozenset())
    live = [
        r for r in records_of(person_id, excluded) if r.expires_at is None or r.expires_at > now
    ]
    return score, Standing(score=score.score, band=score.band, live_public_records=len(live))


def issue(
    engine: Engine,
    settings: Settings,
    person_id: str,
    request: ClaimRequest,
    *,
    expires_in_days: int,
    audience: str | None,
    records_of: RecordsOf,
    write: Callable[[], Any] | None = None,
    now: datetime | None = None,
) -> Issued:
    """Sign the claims the person chose, if their current score supports every one.

    Refused with :class:`InputError` naming the claim and why (``min_score``: "the current
    score 640 is below 650"). ``write``: the app's write-transaction factory (queues
    SQLite writers); default ``engine.begin``.
    """
    check_request(request)
    if isinstance(expires_in_days, bool) or not 1 <= expires_in_days <= MAX_DAYS:
        raise InputError(f"must lie in 1-{MAX_DAYS}", field="expires_in_days")
    if audience is not None:
        audience = audience.strip()
        if not 1 <= len(audience) <= 200 or not audience.isprintable():
            raise InputError("must be 1-200 printable characters", field="audience")
    now = (now or utc_now()).replace(microsecond=0)
    expires_at = now + timedelta(days=expires_in_days)
    with (write or engine.begin)() as conn:
        score, facts = standing(conn, person_id, records_of, now)
        refused = unsupported(request, facts)
        if refused:
            # the request is well-formed; the person's current standing is what refuses
            # it (409, like any other conflict with what is stored), naming the claim
            raise Conflict(
                "your current score does not support this claim: "
                + "; ".join(f"{field}: {reason}" for field, reason in refused)
            )
        claims = claims_for(request, facts)
        key = KeyStore.for_settings(settings).current(now)
        jti = new_id()
        token = sdjwt.issue(
            claims,
            key=key.key,
            issuer=ISSUER,
            jti=jti,
            issued_at=now,
            expires_at=expires_at,
            audience=audience,
            visible={"as_of": score.as_of.date().isoformat()},
        )
        att = store.record_attestation(
            conn,
            attestation_id=jti,
            person_id=person_id,
            kid=key.kid,
            claims=claims,
            audience=audience,
            score_id=score.id,
            issued_at=now,
            expires_at=expires_at,
        )
    return Issued(token, att)


def jwks(settings: Settings) -> dict[str, Any]:
    return KeyStore.for_settings(settings).jwks()


def status_list(conn: Connection, *, now: datetime | None = None) -> dict[str, Any]:
    now = now or utc_now()
    return {
        "issuer": ISSUER,
        "generated_at": now,
        "revoked": store.revoked_ids(conn, now=now),
    }


def check(
    engine: Engine,
    settings: Settings,
    token: str,
    *,
    audience: str | None = None,
    write: Callable[[], Any] | None = None,
    now: datetime | None = None,
) -> sdjwt.Verified:
    """Verify a token as openscore's public verifier: signature and dates against our
    keys, the status list from the registry; a valid check is an inquiry the person
    sees. :class:`sdjwt.Refused` says why a token fails."""
    now = now or datetime.now(UTC)
    verified = sdjwt.verify(token, jwks(settings), now=now, audience=audience)
    if verified.issuer != ISSUER:
        raise sdjwt.Refused(f"issued by {verified.issuer!r}, not by {ISSUER!r}")
    with (write or engine.begin)() as conn:
        reason = store.is_revoked(conn, verified.jti)
        if reason is not None:
            raise sdjwt.Refused(_REVOKED[reason])
        store.record_verification(conn, verified.jti, verified.claims, now=now)
    return verified


_REVOKED = {
    "withdrawn": "revoked: the person withdrew this attestation",
    "unsupported": "revoked: the person's score no longer supports this claim",
    "erased": "revoked: the person's account was erased",
}
