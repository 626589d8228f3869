"""People: the scored persons, their creation, export and erasure.

A person's id is the one furnishers use in the ledger. Creating a person also creates
their audit salt (see :mod:`openscore.registry.audit`); erasing them deletes every row
they own (each person-owned table cascades from ``people``) after appending a tombstone
that holds no personal data.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import audit, suppression
from openscore.registry.metadata import (
    PERSON_ID_LENGTH,
    attestations,
    audit_salts,
    consents,
    credentials,
    decision_reviews,
    decisions,
    disputes,
    file_locks,
    grants,
    inquiries,
    new_id,
    notifications,
    people,
    person_webhooks,
    published_scores,
    utc_now,
)

#: The ledger's ``Kind.ID``: printable, no spaces, at most 128 characters.
_PERSON_ID = re.compile(rf"^[!-~]{{1,{PERSON_ID_LENGTH}}}$")


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    created_at: datetime


def create_person(
    conn: Connection,
    *,
    actor: str,
    person_id: str | None = None,
    now: datetime | None = None,
    lift_erasure: bool = False,
) -> Person:
    """Register a person (a fresh id unless the furnishers' id is given).

    :class:`Conflict` if the id is taken, or if it belongs to a person who was erased
    (``registry/suppression.py``) and ``lift_erasure`` is not set: an operator who
    registers an erased person again on purpose says so, and that is audited.
    """
    if person_id is None:
        person_id = new_id()
    elif not _PERSON_ID.match(person_id):
        raise InputError("must be 1-128 printable characters without spaces", field="person_id")
    if suppression.is_suppressed(conn, person_id):
        if not lift_erasure:
            raise Conflict(
                f"person {person_id!r} was erased: an erased person is not registered again "
                "unless an operator lifts the erasure (lift_erasure: true)"
            )
        suppression.lift_suppression(conn, person_id, actor=actor)
    now = now or utc_now()
    try:
        with conn.begin_nested():
            conn.execute(
                people.insert().values(
                    id=person_id, created_at=now, session_epoch=secrets.token_hex(16)
                )
            )
    except sa.exc.IntegrityError:
        raise Conflict(f"person {person_id!r} already exists") from None
    conn.execute(audit_salts.insert().values(person_id=person_id, salt=secrets.token_bytes(32)))
    audit.append(conn, action="person.created", actor=actor, person_id=person_id, at=now)
    return Person(person_id, now)


def get_person(conn: Connection, person_id: str) -> Person:
    """The person, or :class:`NotFound`."""
    row = conn.execute(sa.select(people).where(people.c.id == person_id)).one_or_none()
    if row is None:
        raise NotFound(f"person {person_id!r} not found")
    return Person(row.id, row.created_at)


def person_exists(conn: Connection, person_id: str) -> bool:
    return conn.execute(sa.select(people.c.id).where(people.c.id == person_id)).first() is not None


def erase_person(conn: Connection, person_id: str, *, actor: str) -> audit.AuditEntry:
    """Erase everything the registry holds about a person; returns the tombstone entry.

    The tombstone is appended first (it needs the salt to name its subject), then the
    delete cascades to every person-owned row, the salt and the person's audit links:
    from then on the log cannot be tied to them. The ledger's erasure is the caller's
    to run in the same request.
    """
    from openscore.registry.attestations import revoke_all_of  # imports this module

    get_person(conn, person_id)
    revoke_all_of(conn, person_id)  # their attestations stay on the status list
    tombstone = audit.append(conn, action="person.erased", actor=actor, person_id=person_id)
    conn.execute(people.delete().where(people.c.id == person_id))
    suppression.suppress(conn, person_id)
    return tombstone


def session_epoch(conn: Connection, person_id: str) -> str | None:
    """The epoch a session of the person must carry to be valid (None: no such person)."""
    return conn.execute(
        sa.select(people.c.session_epoch).where(people.c.id == person_id)
    ).scalar_one_or_none()


def end_all_sessions(conn: Connection, person_id: str, *, actor: str) -> str:
    """A new session epoch: every session issued before ends (log out everywhere, a
    password change). Returns the new epoch. :class:`NotFound` for an unknown person."""
    epoch = secrets.token_hex(16)
    updated = conn.execute(
        people.update().where(people.c.id == person_id).values(session_epoch=epoch)
    )
    if not updated.rowcount:
        raise NotFound(f"person {person_id!r} not found")
    audit.append(conn, action="sessions.ended", actor=actor, person_id=person_id)
    return epoch


def _rows(conn: Connection, table: sa.Table, *order: Any, **where: Any) -> list[dict[str, Any]]:
    query = sa.select(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    return [dict(r._mapping) for r in conn.execute(query.order_by(*order))]


def export_person(conn: Connection, person_id: str) -> dict[str, Any]:
    """Everything the registry holds about a person, as plain data (the subject's export).

    Secrets are left out: the password hash and the audit salt are the system's, not
    information about the person.
    """
    person = get_person(conn, person_id)
    login = conn.execute(
        sa.select(credentials.c.login).where(credentials.c.person_id == person_id)
    ).scalar_one_or_none()
    return {
        "person": {"id": person.id, "created_at": person.created_at, "login": login},
        "consents": _rows(conn, consents, consents.c.granted_at, person_id=person_id),
        "grants": _rows(conn, grants, grants.c.created_at, person_id=person_id),
        "inquiries": _rows(conn, inquiries, inquiries.c.at, person_id=person_id),
        "disputes": _rows(conn, disputes, disputes.c.filed_at, person_id=person_id),
        "scores": _rows(conn, published_scores, published_scores.c.id, person_id=person_id),
        "attestations": _rows(conn, attestations, attestations.c.issued_at, person_id=person_id),
        "decisions": _rows(conn, decisions, decisions.c.decided_at, person_id=person_id),
        "reviews": _rows(
            conn, decision_reviews, decision_reviews.c.requested_at, person_id=person_id
        ),
        "locked": _rows(conn, file_locks, file_locks.c.locked_at, person_id=person_id) != [],
        "notifications": _rows(
            conn, notifications, notifications.c.created_at, person_id=person_id
        ),
        # the webhook's address, not its signing secret (the system's, like the salt)
        "webhook": [
            {"url": r["url"], "created_at": r["created_at"]}
            for r in _rows(conn, person_webhooks, person_webhooks.c.created_at, person_id=person_id)
        ],
        "audit_entries": [
            {"seq": e.seq, "entry": e.content} for e in audit.person_entries(conn, person_id)
        ],
    }
