"""Disputes: a person contests a record in their file.

A dispute is open until an operator resolves it (``resolved``: the person was right, the
record is corrected or removed) or rejects it (``rejected``: the record stands). The
deadline is fixed at filing: 30 days, the FCRA's reinvestigation period. While open, the
record is excluded from scoring if the policy in force when it was filed said so
(``exclude_while_open``); :func:`excluded_records` is what scoring reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import audit
from openscore.registry.metadata import disputes, new_id, utc_now
from openscore.registry.notifications import notify
from openscore.registry.people import get_person

Status = Literal["open", "resolved", "rejected"]
DISPUTE_PERIOD = timedelta(days=30)
MAX_REASON_LENGTH = 4000


@dataclass(frozen=True, slots=True)
class Dispute:
    id: str
    person_id: str
    record_ref: str
    reason: str
    status: Status
    exclude_while_open: bool
    filed_at: datetime
    deadline: datetime
    resolved_at: datetime | None
    resolution: str | None

    @property
    def excluded(self) -> bool:
        """Whether the record is kept out of scoring now."""
        return self.status == "open" and self.exclude_while_open

    def overdue(self, now: datetime | None = None) -> bool:
        return self.status == "open" and (now or utc_now()) > self.deadline


def _dispute(row: sa.Row[*tuple[Any, ...]]) -> Dispute:
    return Dispute(
        row.id,
        row.person_id,
        row.record_ref,
        row.reason,
        row.status,
        bool(row.exclude_while_open),
        row.filed_at,
        row.deadline,
        row.resolved_at,
        row.resolution,
    )


def file_dispute(
    conn: Connection,
    person_id: str,
    *,
    record_ref: str,
    reason: str,
    exclude_while_open: bool,
    actor: str,
    now: datetime | None = None,
) -> Dispute:
    """Open a dispute about a record (``record_ref``: ``furnisher_id/event_id``).

    :class:`Conflict` if the same record already has an open dispute.
    """
    get_person(conn, person_id)
    record_ref = record_ref.strip()
    reason = reason.strip()
    if not 1 <= len(record_ref) <= 256:
        raise InputError("must be 1-256 characters", field="record_ref")
    if not 1 <= len(reason) <= MAX_REASON_LENGTH:
        raise InputError(f"must be 1-{MAX_REASON_LENGTH} characters", field="reason")
    now = now or utc_now()
    dispute = Dispute(
        new_id(),
        person_id,
        record_ref,
        reason,
        "open",
        exclude_while_open,
        now,
        now + DISPUTE_PERIOD,
        None,
        None,
    )
    try:
        with conn.begin_nested():
            conn.execute(
                disputes.insert().values(
                    id=dispute.id,
                    person_id=person_id,
                    record_ref=record_ref,
                    reason=reason,
                    status="open",
                    exclude_while_open=exclude_while_open,
                    filed_at=now,
                    deadline=dispute.deadline,
                )
            )
    except sa.exc.IntegrityError:
        raise Conflict("this record already has an open dispute") from None
    audit.append(
        conn,
        action="dispute.filed",
        actor=actor,
        person_id=person_id,
        details={
            "exclude_while_open": exclude_while_open,
            "deadline": audit.format_time(dispute.deadline),
        },
        linked={"dispute": dispute.id, "record": record_ref, "reason": reason},
        at=now,
    )
    return dispute


def get_dispute(conn: Connection, person_id: str, dispute_id: str) -> Dispute:
    """One of the person's disputes; another person's is :class:`NotFound`."""
    row = conn.execute(
        sa.select(disputes).where(disputes.c.id == dispute_id, disputes.c.person_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"dispute {dispute_id!r} not found")
    return _dispute(row)


def list_disputes(conn: Connection, person_id: str) -> list[Dispute]:
    """A person's disputes, newest first."""
    rows = conn.execute(
        sa.select(disputes)
        .where(disputes.c.person_id == person_id)
        .order_by(disputes.c.filed_at.desc(), disputes.c.id)
    )
    return [_dispute(r) for r in rows]


def dispute_queue(conn: Connection, *, status: Status = "open", limit: int = 100) -> list[Dispute]:
    """The operator's queue: disputes in a status, nearest deadline first."""
    rows = conn.execute(
        sa.select(disputes)
        .where(disputes.c.status == status)
        .order_by(disputes.c.deadline, disputes.c.id)
        .limit(limit)
    )
    return [_dispute(r) for r in rows]


def close_dispute(
    conn: Connection,
    dispute_id: str,
    *,
    status: Literal["resolved", "rejected"],
    resolution: str,
    actor: str,
    now: datetime | None = None,
) -> Dispute:
    """An operator's answer. :class:`Conflict` if the dispute is already closed.

    The caller rescores the person in the same request (resolution changes the file).
    """
    if status not in ("resolved", "rejected"):
        raise InputError("must be resolved or rejected", field="status")
    resolution = resolution.strip()
    if not 1 <= len(resolution) <= MAX_REASON_LENGTH:
        raise InputError(f"must be 1-{MAX_REASON_LENGTH} characters", field="resolution")
    row = conn.execute(sa.select(disputes).where(disputes.c.id == dispute_id)).one_or_none()
    if row is None:
        raise NotFound(f"dispute {dispute_id!r} not found")
    if row.status != "open":
        raise Conflict(f"dispute {dispute_id!r} is already {row.status}")
    now = max(now or utc_now(), row.filed_at)
    conn.execute(
        disputes.update()
        .where(disputes.c.id == dispute_id)
        .values(status=status, resolved_at=now, resolution=resolution)
    )
    audit.append(
        conn,
        action=f"dispute.{status}",
        actor=actor,
        person_id=row.person_id,
        details={"late": now > row.deadline},
        linked={"dispute": dispute_id, "resolution": resolution},
        at=now,
    )
    verdict = (
        "was upheld: the record no longer counts"
        if status == "resolved"
        else "was rejected: the record stands"
    )
    notify(
        conn,
        row.person_id,
        "dispute_outcome",
        f"Your dispute {verdict}. {resolution}",
        {"dispute_id": dispute_id, "status": status, "record_ref": row.record_ref},
        now=now,
    )
    return replace(_dispute(row), status=status, resolved_at=now, resolution=resolution)


def excluded_records(
    conn: Connection, person_ids: Iterable[str] | None = None
) -> dict[str, frozenset[str]]:
    """Person -> the record references kept out of scoring now (open, excluding disputes)."""
    query = sa.select(disputes.c.person_id, disputes.c.record_ref).where(
        disputes.c.status == "open", disputes.c.exclude_while_open.is_(True)
    )
    if person_ids is None:
        queries = [query]
    else:
        wanted = sorted(set(person_ids))
        # Chunked: SQLite caps the number of bound parameters in one statement.
        queries = [
            query.where(disputes.c.person_id.in_(wanted[i : i + 10_000]))
            for i in range(0, len(wanted), 10_000)
        ]
    found: dict[str, set[str]] = {}
    for chunk in queries:
        for row in conn.execute(chunk):
            found.setdefault(row.person_id, set()).add(row.record_ref)
    return {person: frozenset(refs) for person, refs in found.items()}


def has_open_dispute(conn: Connection, person_id: str) -> bool:
    """Whether any record of the person's file is under an open dispute (a decision made
    now tells the partner so, and the person is offered a human review)."""
    return (
        conn.execute(
            sa.select(disputes.c.id)
            .where(disputes.c.person_id == person_id, disputes.c.status == "open")
            .limit(1)
        ).first()
        is not None
    )
