"""A person's records in the ledger and their disputes about them; the operators' queue
and answer.

A dispute names one of the person's own rows (``furnisher_id/event_id``; anyone else's is
not found, like one that does not exist). While it is open the record stops counting if
the policy says so and the new score is published at once.

The answer: ``resolved`` (the person was right: the record is removed from the ledger) or
``rejected`` (it stands). Either way the person is rescored and the score published.
Order on resolving: the record leaves the ledger first, then the dispute is closed. A
crash in between leaves an open dispute about a record that is gone, which the operator
closes again; the other order could leave a resolved dispute whose record still counts.
"""

from __future__ import annotations

from typing import Literal, cast

import sqlalchemy as sa

from openscore import registry
from openscore.errors import Conflict, NotFound
from openscore.ledger.rewrite import EventRows, remove_rows
from openscore.registry.disputes import Status
from openscore.registry.metadata import disputes
from openscore.services.context import Context
from openscore.services.corrections import notify_partners
from openscore.services.presenters import dispute_public, queued_dispute_public, record_public
from openscore.services.records import own_records
from openscore.services.schemas import (
    DisputeClosedPublic,
    DisputeDetailPublic,
    DisputeFiledPublic,
    DisputePublic,
    DisputeQueuePublic,
    DisputesPublic,
    RecordsPublic,
)
from openscore.services.scores import ensure_model, publish_now, score_public

# -- the person's view ------------------------------------------------------------------


def list_records(state: Context, person_id: str, *, limit: int) -> RecordsPublic:
    """The person's ledger rows, newest first, with the reference a dispute uses."""
    records = own_records(state.ledger, person_id)[:limit]
    with state.read() as conn:
        disputed = {
            d.record_ref for d in registry.list_disputes(conn, person_id) if d.status == "open"
        }
    return RecordsPublic(items=[record_public(r, r.record_ref in disputed) for r in records])


def list_disputes(state: Context, person_id: str, *, limit: int) -> DisputesPublic:
    """Newest first."""
    with state.read() as conn:
        found = registry.list_disputes(conn, person_id)
    return DisputesPublic(items=[dispute_public(d) for d in found[:limit]])


def file_dispute(
    state: Context,
    person_id: str,
    *,
    record_ref: str,
    reason: str,
    exclude_while_open: bool,
    actor: str,
) -> DisputeFiledPublic:
    if record_ref not in {r.record_ref for r in own_records(state.ledger, person_id)}:
        raise NotFound(f"record {record_ref!r} not found")
    if exclude_while_open:
        ensure_model(state)  # the rescore below must not fail after the filing
    with state.write() as conn:
        dispute = registry.file_dispute(
            conn,
            person_id,
            record_ref=record_ref,
            reason=reason,
            exclude_while_open=exclude_while_open,
            actor=actor,
        )
    score = None
    if dispute.excluded:
        publish_now(state, person_id, actor=actor)
        with state.read() as conn:
            score = score_public(registry.current_score(conn, person_id))
    return DisputeFiledPublic(**dispute_public(dispute).model_dump(), score=score)


def read_dispute(state: Context, person_id: str, dispute_id: str) -> DisputePublic:
    with state.read() as conn:
        return dispute_public(registry.get_dispute(conn, person_id, dispute_id))


# -- the operators' view ----------------------------------------------------------------


def find(state: Context, dispute_id: str) -> registry.Dispute:
    """A dispute by id alone (the operator's view; the registry's reads are per person)."""
    with state.read() as conn:
        person_id = conn.execute(
            sa.select(disputes.c.person_id).where(disputes.c.id == dispute_id)
        ).scalar_one_or_none()
        if person_id is None:
            raise NotFound(f"dispute {dispute_id!r} not found")
        return registry.get_dispute(conn, person_id, dispute_id)


def queue(state: Context, *, status: str, limit: int) -> DisputeQueuePublic:
    """Nearest deadline first."""
    with state.read() as conn:
        found = registry.dispute_queue(conn, status=cast(Status, status), limit=limit)
    return DisputeQueuePublic(items=[queued_dispute_public(d) for d in found])


def investigate(
    state: Context, dispute_id: str, *, partner_id: str, actor: str
) -> DisputeDetailPublic:
    """The dispute and the record it names. Reading a person's record is an inquiry: it
    is logged, and the person sees that an operator looked, and why."""
    dispute = find(state, dispute_id)
    record = next(
        (
            r
            for r in own_records(state.ledger, dispute.person_id)
            if r.record_ref == dispute.record_ref
        ),
        None,
    )
    with state.write() as conn:
        registry.record_inquiry(
            conn,
            dispute.person_id,
            partner_id=partner_id,
            purpose="dispute_investigation",
            returned={
                "dispute": dispute.id,
                "record_ref": dispute.record_ref,
                "record_found": record is not None,
            },
            actor=actor,
        )
    return DisputeDetailPublic(
        **queued_dispute_public(dispute).model_dump(),
        record=record_public(record, dispute.status == "open") if record else None,
    )


def close(
    state: Context, dispute_id: str, *, status: str, resolution: str, actor: str
) -> DisputeClosedPublic:
    dispute = find(state, dispute_id)
    if dispute.status != "open":
        raise Conflict(f"dispute {dispute_id!r} is already {dispute.status}")
    ensure_model(state)
    removed = 0
    if status == "resolved":
        furnisher_id, _, event_id = dispute.record_ref.partition("/")
        removed = remove_rows(
            state.ledger,
            EventRows(dispute.person_id, ((furnisher_id, event_id),)),
            reason={"kind": "dispute_resolved"},
        )
    with state.write() as conn:
        closed = registry.close_dispute(
            conn,
            dispute_id,
            status=cast(Literal["resolved", "rejected"], status),
            resolution=resolution,
            actor=actor,
        )
    publish_now(state, dispute.person_id, actor=actor)
    notices = []
    if status == "resolved":
        # The person was right: every partner that decided on them lately is told.
        notices = notify_partners(state, closed, actor=actor)
    with state.read() as conn:
        score = registry.current_score(conn, dispute.person_id)
    return DisputeClosedPublic(
        **queued_dispute_public(closed).model_dump(),
        score=score_public(score),
        records_removed=removed,
        partners_notified=len({n.partner_id for n in notices}),
    )
