"""Inquiries: every read of a person's data by a partner or operator (DESIGN principle 5).

An inquiry records who asked, when, why, under which grant, and exactly what was
returned; the person sees all of them. Its audit entry's ``seq`` is kept on the row so
that the person can ask for an inclusion proof that the inquiry is in the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import audit
from openscore.registry.grants import _check_grant_of, check_slug
from openscore.registry.metadata import audit_pending, inquiries, new_id, partners, utc_now
from openscore.registry.notifications import notify, partner_name
from openscore.registry.people import get_person
from openscore.registry.sequencer import Receipt


@dataclass(frozen=True, slots=True)
class Inquiry:
    id: str
    person_id: str
    partner_id: str
    grant_id: str | None
    purpose: str
    returned: dict[str, Any]
    at: datetime
    #: The entry's seq in the log; ``None`` while it is queued (see ``audit_receipt``).
    audit_seq: int | None
    #: The receipt id of an entry queued for the sequencer (``registry/sequencer.py``).
    audit_receipt: str | None = None
    #: The signed receipt itself, on the record just made (it is not stored as such).
    receipt: Receipt | None = field(default=None, compare=False)


def _inquiry(row: sa.Row[*tuple[Any, ...]]) -> Inquiry:
    return Inquiry(
        row.id,
        row.person_id,
        row.partner_id,
        row.grant_id,
        row.purpose,
        dict(row.returned),
        row.at,
        None if row.audit_seq is None else int(row.audit_seq),
        row.audit_receipt,
    )


#: An inquiry with the seq of its entry, whether appended at once or queued and since
#: integrated by the sequencer.
_SELECT = sa.select(
    *(c for c in inquiries.c if c.name != "audit_seq"),
    sa.func.coalesce(inquiries.c.audit_seq, audit_pending.c.seq).label("audit_seq"),
).select_from(inquiries.outerjoin(audit_pending, audit_pending.c.id == inquiries.c.audit_receipt))


def record_inquiry(
    conn: Connection,
    person_id: str,
    *,
    partner_id: str,
    purpose: str,
    returned: Mapping[str, Any],
    actor: str,
    grant_id: str | None = None,
    now: datetime | None = None,
) -> Inquiry:
    """Record a read; call it in the transaction that produces the answer.

    ``grant_id`` is the grant the partner read under (``None`` only for an operator's
    read, which must still say why).
    """
    get_person(conn, person_id)
    check_slug(purpose, "purpose")
    if not isinstance(returned, Mapping):
        raise InputError("must be an object", field="returned")
    role = conn.execute(
        sa.select(partners.c.role).where(partners.c.id == partner_id)
    ).scalar_one_or_none()
    if role is None:
        raise NotFound(f"partner {partner_id!r} not found")
    if grant_id is None and role != "operator":
        raise InputError("a partner reads only under a grant", field="grant_id")
    if grant_id is not None:
        _check_grant_of(conn, grant_id, person_id, partner_id)
    now = now or utc_now()
    inquiry = Inquiry(new_id(), person_id, partner_id, grant_id, purpose, dict(returned), now, -1)
    (entry,) = audit.append_many(conn, [_inquiry_entry(inquiry, actor)])
    stored = _insert_inquiry(conn, inquiry, entry.seq)
    _notify_inquiry(conn, stored)
    return stored


def _notify_inquiry(conn: Connection, inquiry: Inquiry) -> None:
    """Tell the person who looked, and why (in the inquiry's transaction)."""
    who = partner_name(conn, inquiry.partner_id)
    notify(
        conn,
        inquiry.person_id,
        "inquiry",
        f"{who} looked at your file (purpose: {inquiry.purpose.replace('_', ' ')}).",
        {
            "inquiry_id": inquiry.id,
            "partner_id": inquiry.partner_id,
            "partner": who,
            "purpose": inquiry.purpose,
        },
        now=inquiry.at,
    )


def _inquiry_entry(inquiry: Inquiry, actor: str) -> audit.PendingEntry:
    """The audit entry of an inquiry: who read, why, under which grant, and what was
    returned (the last two only as HMACs under the person's salt)."""
    return audit.PendingEntry(
        action="inquiry.recorded",
        actor=actor,
        person_id=inquiry.person_id,
        details={"partner": inquiry.partner_id, "purpose": inquiry.purpose},
        linked={
            "inquiry": inquiry.id,
            "grant": inquiry.grant_id,
            "returned": audit.canonical_json(inquiry.returned).decode("ascii"),
        },
        at=inquiry.at,
    )


_INSERT_INQUIRY = inquiries.insert()


def _insert_inquiry(
    conn: Connection, inquiry: Inquiry, audit_seq: int | None, receipt: str | None = None
) -> Inquiry:
    """Store an inquiry whose audit entry is ``audit_seq`` (or queued as ``receipt``)."""
    conn.execute(
        _INSERT_INQUIRY,
        {
            "id": inquiry.id,
            "person_id": inquiry.person_id,
            "partner_id": inquiry.partner_id,
            "grant_id": inquiry.grant_id,
            "purpose": inquiry.purpose,
            "returned": inquiry.returned,
            "at": inquiry.at,
            "audit_seq": audit_seq,
            "audit_receipt": receipt,
        },
    )
    return replace(inquiry, audit_seq=audit_seq, audit_receipt=receipt)


def get_inquiry(conn: Connection, person_id: str, inquiry_id: str) -> Inquiry:
    """One of the person's inquiries; another person's is :class:`NotFound`."""
    row = conn.execute(
        _SELECT.where(inquiries.c.id == inquiry_id, inquiries.c.person_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"inquiry {inquiry_id!r} not found")
    return _inquiry(row)


def list_inquiries(
    conn: Connection, person_id: str, *, limit: int = 100, before: datetime | None = None
) -> list[Inquiry]:
    """Who looked at a person, newest first (``before`` pages backwards)."""
    query = (
        _SELECT.where(inquiries.c.person_id == person_id)
        .order_by(inquiries.c.at.desc(), inquiries.c.id)
        .limit(limit)
    )
    if before is not None:
        query = query.where(inquiries.c.at < before)
    return [_inquiry(r) for r in conn.execute(query)]


def inquiry_proof(conn: Connection, person_id: str, inquiry_id: str) -> audit.InclusionProof:
    """The inclusion proof, in the current log, of the entry that recorded the inquiry."""
    inquiry = get_inquiry(conn, person_id, inquiry_id)
    if inquiry.audit_seq is None:
        raise Conflict(
            f"inquiry {inquiry_id!r} is queued for the audit log and not yet integrated: "
            "ask again in a second"
        )
    return audit.inclusion_proof(conn, inquiry.audit_seq)
