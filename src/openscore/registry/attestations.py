"""Score attestations in the registry: what a person attested (never the token itself),
the public list of revoked ones, and the inquiries that issuing and verifying are.

An attestation is revoked when the person withdraws it, when a newly published score no
longer supports its claims (:func:`revoke_unsupported`, called by publication), or when
the person is erased (:func:`revoke_all_of`). Revocations live in their own table with
no link to the person, so the status list outlives an erasure and says nothing about who.

Issuing and server-side verifying are recorded as inquiries the person sees, under the
reserved principal :data:`ATTESTATION_PRINCIPAL` (an operator-role row that has no keys
and is deactivated, so nobody can authenticate as it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.attestations.claims import still_supported
from openscore.errors import Conflict, NotFound
from openscore.registry import audit
from openscore.registry.inquiries import Inquiry, record_inquiry
from openscore.registry.metadata import (
    attestation_revocations,
    attestations,
    partners,
    utc_now,
)

ATTESTATION_PRINCIPAL = "openscore-attestations"
ATTESTATION_PRINCIPAL_NAME = "openscore attestations (issued by you, checked by anyone)"


@dataclass(frozen=True, slots=True)
class Attestation:
    id: str
    person_id: str
    kid: str
    claims: dict[str, Any]
    audience: str | None
    score_id: int
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "valid"


def _attestation(row: sa.Row[*tuple[Any, ...]]) -> Attestation:
    return Attestation(
        row.id,
        row.person_id,
        row.kid,
        dict(row.claims),
        row.audience,
        int(row.score_id),
        row.issued_at,
        row.expires_at,
        row.revoked_at,
        row.revoked_reason,
    )


def ensure_principal(conn: Connection) -> None:
    """The reserved principal inquiries about attestations are recorded under."""
    if conn.execute(sa.select(partners.c.id).where(partners.c.id == ATTESTATION_PRINCIPAL)).first():
        return
    now = utc_now()
    with conn.begin_nested():
        conn.execute(
            partners.insert().values(
                id=ATTESTATION_PRINCIPAL,
                name=ATTESTATION_PRINCIPAL_NAME,
                role="operator",
                created_at=now,
                deactivated_at=now,
            )
        )


def _inquiry(
    conn: Connection, person_id: str, purpose: str, returned: Mapping[str, Any], now: datetime
) -> Inquiry:
    ensure_principal(conn)
    return record_inquiry(
        conn,
        person_id,
        partner_id=ATTESTATION_PRINCIPAL,
        purpose=purpose,
        returned=returned,
        actor=f"partner:{ATTESTATION_PRINCIPAL}",
        now=now,
    )


def record_attestation(
    conn: Connection,
    *,
    attestation_id: str,
    person_id: str,
    kid: str,
    claims: Mapping[str, Any],
    audience: str | None,
    score_id: int,
    issued_at: datetime,
    expires_at: datetime,
) -> Attestation:
    """Store an issued attestation, its audit entry, and the inquiry that issuing is."""
    conn.execute(
        attestations.insert().values(
            id=attestation_id,
            person_id=person_id,
            kid=kid,
            claims=dict(claims),
            audience=audience,
            score_id=score_id,
            issued_at=issued_at,
            expires_at=expires_at,
        )
    )
    audit.append(
        conn,
        action="attestation.issued",
        actor="subject",
        person_id=person_id,
        details={"claims": sorted(claims), "key": kid},
        linked={"attestation": attestation_id},
        at=issued_at,
    )
    _inquiry(
        conn,
        person_id,
        "attestation-issued",
        {"attestation_id": attestation_id, "claims": dict(claims), "audience": audience},
        issued_at,
    )
    return get_attestation(conn, person_id, attestation_id)


def record_verification(
    conn: Connection, attestation_id: str, claims: Mapping[str, Any], *, now: datetime | None = None
) -> Inquiry | None:
    """A verification openscore answered: an inquiry the person sees (``None`` if the
    person was erased since)."""
    person_id = conn.execute(
        sa.select(attestations.c.person_id).where(attestations.c.id == attestation_id)
    ).scalar_one_or_none()
    if person_id is None:
        return None
    return _inquiry(
        conn,
        person_id,
        "attestation-verified",
        {"attestation_id": attestation_id, "disclosed": dict(claims)},
        now or utc_now(),
    )


def get_attestation(conn: Connection, person_id: str, attestation_id: str) -> Attestation:
    row = conn.execute(
        sa.select(attestations).where(
            attestations.c.id == attestation_id, attestations.c.person_id == person_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"attestation {attestation_id!r} not found")
    return _attestation(row)


def list_attestations(conn: Connection, person_id: str, *, limit: int = 100) -> list[Attestation]:
    """The person's attestations, newest first."""
    rows = conn.execute(
        sa.select(attestations)
        .where(attestations.c.person_id == person_id)
        .order_by(attestations.c.issued_at.desc(), attestations.c.id)
        .limit(limit)
    )
    return [_attestation(r) for r in rows]


def _revoke(
    conn: Connection, att: Attestation, reason: str, detail: str, now: datetime, actor: str
) -> None:
    conn.execute(
        attestations.update()
        .where(attestations.c.id == att.id)
        .values(revoked_at=now, revoked_reason=detail)
    )
    conn.execute(
        attestation_revocations.insert().values(
            id=att.id, revoked_at=now, reason=reason, expires_at=att.expires_at
        )
    )
    audit.append(
        conn,
        action="attestation.revoked",
        actor=actor,
        person_id=att.person_id,
        details={"reason": reason},
        linked={"attestation": att.id},
        at=now,
    )


def revoke_attestation(
    conn: Connection, person_id: str, attestation_id: str, *, now: datetime | None = None
) -> Attestation:
    """The person withdraws an attestation; a second withdrawal is :class:`Conflict`."""
    att = get_attestation(conn, person_id, attestation_id)
    if att.revoked_at is not None:
        raise Conflict(f"attestation {attestation_id!r} is already revoked")
    _revoke(conn, att, "withdrawn", "withdrawn by you", now or utc_now(), "subject")
    return get_attestation(conn, person_id, attestation_id)


def _active(conn: Connection, person_ids: list[str] | None, now: datetime) -> list[Attestation]:
    query = sa.select(attestations).where(
        attestations.c.revoked_at.is_(None), attestations.c.expires_at > now
    )
    if person_ids is not None:
        query = query.where(attestations.c.person_id.in_(person_ids))
    return [_attestation(r) for r in conn.execute(query)]


def revoke_unsupported(
    conn: Connection,
    scores: Mapping[str, int | None],
    *,
    live_public_records: Mapping[str, int] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Revoke the live attestations whose claims the people's new ``scores`` no longer
    support; returns their ids. A batch of many people reads the live attestations once
    (few people hold one), so a million-row publication pays one query."""
    now = now or utc_now()
    few = len(scores) <= 500
    revoked = []
    for att in _active(conn, list(scores) if few else None, now):
        if att.person_id not in scores:
            continue
        records = None if live_public_records is None else live_public_records.get(att.person_id, 0)
        why = still_supported(att.claims, scores[att.person_id], records)
        if why is not None:
            _revoke(conn, att, "unsupported", why, now, "system")
            revoked.append(att.id)
    return revoked


def revoke_all_of(conn: Connection, person_id: str, *, now: datetime | None = None) -> int:
    """Before an erasure: every live attestation of the person goes on the status list."""
    now = now or utc_now()
    active = _active(conn, [person_id], now)
    for att in active:
        conn.execute(
            attestation_revocations.insert().values(
                id=att.id, revoked_at=now, reason="erased", expires_at=att.expires_at
            )
        )
    return len(active)


def revoked_ids(conn: Connection, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The public status list: revoked attestations that have not expired yet (an
    expired one fails verification anyway)."""
    now = now or utc_now()
    rows = conn.execute(
        sa.select(attestation_revocations)
        .where(attestation_revocations.c.expires_at > now)
        .order_by(attestation_revocations.c.revoked_at, attestation_revocations.c.id)
    )
    return [
        {"id": r.id, "revoked_at": r.revoked_at, "reason": r.reason, "expires_at": r.expires_at}
        for r in rows
    ]


def is_revoked(conn: Connection, attestation_id: str) -> str | None:
    """The revocation reason of an attestation, or ``None``."""
    return conn.execute(
        sa.select(attestation_revocations.c.reason).where(
            attestation_revocations.c.id == attestation_id
        )
    ).scalar_one_or_none()
