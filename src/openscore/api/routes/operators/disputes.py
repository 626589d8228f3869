"""The disputes queue (nearest deadline first), one dispute with its record, and the
answer: ``resolved`` (the person was right: the record is removed from the ledger) or
``rejected`` (it stands). Either way the person is rescored and the score published; on
``resolved`` every partner that got a decision about the person in the last 6 months
gets a correction notice (``api/corrections.py``).

Order on resolving: the record leaves the ledger first, then the dispute is closed. A
crash in between leaves an open dispute about a record that is gone, which the operator
closes again; the other order could leave a resolved dispute whose record still counts.
"""

from __future__ import annotations

from typing import Annotated, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query

from openscore import registry
from openscore.api.corrections import notify_partners
from openscore.api.deps import OperatorPrincipal, PageDep, StateDep
from openscore.api.presenters import queued_dispute_public, record_public
from openscore.api.records import own_records
from openscore.api.schemas import (
    DisputeClose,
    DisputeClosedPublic,
    DisputeDetailPublic,
    DisputeQueuePublic,
    Id,
)
from openscore.api.scores import ensure_model, publish_now, score_public
from openscore.api.state import AppState
from openscore.engines.duckdb import sql_literal
from openscore.errors import Conflict, NotFound
from openscore.ledger.rewrite import remove_rows
from openscore.registry.metadata import disputes

router = APIRouter(prefix="/v1/operator/disputes", tags=["operators: disputes"])

DisputePath = Annotated[Id, Path(description="the dispute's id")]


def _find(state: AppState, dispute_id: str) -> registry.Dispute:
    """A dispute by id alone (the operator's view; the registry's reads are per person)."""
    with state.read() as conn:
        person_id = conn.execute(
            sa.select(disputes.c.person_id).where(disputes.c.id == dispute_id)
        ).scalar_one_or_none()
        if person_id is None:
            raise NotFound(f"dispute {dispute_id!r} not found")
        return registry.get_dispute(conn, person_id, dispute_id)


@router.get("", response_model=DisputeQueuePublic)
def queue(
    state: StateDep,
    operator: OperatorPrincipal,
    page: PageDep,
    status: Annotated[Literal["open", "resolved", "rejected"], Query()] = "open",
) -> DisputeQueuePublic:
    with state.read() as conn:
        found = registry.dispute_queue(conn, status=status, limit=page.limit)
    return DisputeQueuePublic(items=[queued_dispute_public(d) for d in found])


@router.get("/{dispute_id}", response_model=DisputeDetailPublic)
def read_dispute(
    state: StateDep, operator: OperatorPrincipal, dispute_id: DisputePath
) -> DisputeDetailPublic:
    """The dispute and the record it names. Reading a person's record is an inquiry: it
    is logged, and the person sees that an operator looked, and why."""
    dispute = _find(state, dispute_id)
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
            partner_id=operator.partner_id,
            purpose="dispute_investigation",
            returned={
                "dispute": dispute.id,
                "record_ref": dispute.record_ref,
                "record_found": record is not None,
            },
            actor=operator.actor,
        )
    return DisputeDetailPublic(
        **queued_dispute_public(dispute).model_dump(),
        record=record_public(record, dispute.status == "open") if record else None,
    )


@router.post("/{dispute_id}/close", response_model=DisputeClosedPublic)
def close(
    state: StateDep, operator: OperatorPrincipal, dispute_id: DisputePath, body: DisputeClose
) -> DisputeClosedPublic:
    dispute = _find(state, dispute_id)
    if dispute.status != "open":
        raise Conflict(f"dispute {dispute_id!r} is already {dispute.status}")
    ensure_model(state)
    removed = 0
    if body.status == "resolved":
        furnisher_id, _, event_id = dispute.record_ref.partition("/")
        removed = remove_rows(
            state.ledger,
            f"person_id = {sql_literal(dispute.person_id)} AND furnisher_id = "
            f"{sql_literal(furnisher_id)} AND event_id = {sql_literal(event_id)}",
            reason={"kind": "dispute_resolved"},
            candidates=lambda segment: segment.may_hold(dispute.person_id),
        )
    with state.write() as conn:
        closed = registry.close_dispute(
            conn, dispute_id, status=body.status, resolution=body.resolution, actor=operator.actor
        )
    publish_now(state, dispute.person_id, actor=operator.actor)
    notices = []
    if body.status == "resolved":
        # The person was right: every partner that decided on them lately is told.
        notices = notify_partners(state, closed, actor=operator.actor)
    with state.read() as conn:
        score = registry.current_score(conn, dispute.person_id)
    return DisputeClosedPublic(
        **queued_dispute_public(closed).model_dump(),
        score=score_public(score),
        records_removed=removed,
        partners_notified=len({n.partner_id for n in notices}),
    )
