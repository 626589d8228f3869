"""The disputes queue (nearest deadline first), one dispute with its record, and the
answer: ``resolved`` (the person was right: the record is removed from the ledger) or
``rejected`` (it stands). Either way the person is rescored and the score published
(:mod:`openscore.services.disputes`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from openscore.api.deps import OperatorPrincipal, PageDep, StateDep
from openscore.services import disputes
from openscore.services.schemas import (
    DisputeClose,
    DisputeClosedPublic,
    DisputeDetailPublic,
    DisputeQueuePublic,
    Id,
)

router = APIRouter(prefix="/v1/operator/disputes", tags=["operators: disputes"])

DisputePath = Annotated[Id, Path(description="the dispute's id")]


@router.get("", response_model=DisputeQueuePublic)
def queue(
    state: StateDep,
    operator: OperatorPrincipal,
    page: PageDep,
    status: Annotated[Literal["open", "resolved", "rejected"], Query()] = "open",
) -> DisputeQueuePublic:
    return disputes.queue(state, status=status, limit=page.limit)


@router.get("/{dispute_id}", response_model=DisputeDetailPublic)
def read_dispute(
    state: StateDep, operator: OperatorPrincipal, dispute_id: DisputePath
) -> DisputeDetailPublic:
    """The dispute and the record it names. Reading a person's record is an inquiry: it
    is logged, and the person sees that an operator looked, and why."""
    return disputes.investigate(
        state, dispute_id, partner_id=operator.partner_id, actor=operator.actor
    )


@router.post("/{dispute_id}/close", response_model=DisputeClosedPublic)
def close(
    state: StateDep, operator: OperatorPrincipal, dispute_id: DisputePath, body: DisputeClose
) -> DisputeClosedPublic:
    return disputes.close(
        state, dispute_id, status=body.status, resolution=body.resolution, actor=operator.actor
    )
