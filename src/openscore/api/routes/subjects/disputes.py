"""My records in the ledger, and disputes about them.

A dispute names one of my own rows (``furnisher_id/event_id``; anyone else's is 404,
like one that does not exist). While it is open the record stops counting if the policy
says so (``OPENSCORE_API_DISPUTES_EXCLUDE_WHILE_OPEN``, on by default) and the new score
is published at once; the deadline is 30 days.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore.api.deps import CostlySubject, CurrentSubject, PageDep, StateDep
from openscore.services import disputes
from openscore.services.schemas import (
    DisputeCreate,
    DisputeFiledPublic,
    DisputePublic,
    DisputesPublic,
    Id,
    RecordsPublic,
)

router = APIRouter(prefix="/v1/me", tags=["subjects: records and disputes"])

DisputeId = Annotated[Id, Path(description="the dispute's id")]


@router.get("/records", response_model=RecordsPublic)
def list_records(state: StateDep, subject: CurrentSubject, page: PageDep) -> RecordsPublic:
    """My ledger rows, newest first, with the reference a dispute uses."""
    return disputes.list_records(state, subject.person_id, limit=page.limit)


@router.get("/disputes", response_model=DisputesPublic)
def list_disputes(state: StateDep, subject: CurrentSubject, page: PageDep) -> DisputesPublic:
    """Newest first."""
    return disputes.list_disputes(state, subject.person_id, limit=page.limit)


@router.post("/disputes", status_code=201, response_model=DisputeFiledPublic)
def file_dispute(
    state: StateDep, subject: CostlySubject, body: DisputeCreate
) -> DisputeFiledPublic:
    return disputes.file_dispute(
        state,
        subject.person_id,
        record_ref=body.record_ref,
        reason=body.reason,
        exclude_while_open=state.api.disputes_exclude_while_open,
        actor="subject",
    )


@router.get("/disputes/{dispute_id}", response_model=DisputePublic)
def read_dispute(state: StateDep, subject: CurrentSubject, dispute_id: DisputeId) -> DisputePublic:
    return disputes.read_dispute(state, subject.person_id, dispute_id)
