"""My records in the ledger, and disputes about them.

A dispute names one of my own rows (``furnisher_id/event_id``; anyone else's is 404,
like one that does not exist). While it is open the record stops counting if the policy
says so (``OPENSCORE_API_DISPUTES_EXCLUDE_WHILE_OPEN``, on by default) and the new score
is published at once; the deadline is 30 days.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore import registry
from openscore.api.deps import CostlySubject, CurrentSubject, PageDep, StateDep
from openscore.api.presenters import dispute_public, record_public
from openscore.api.records import own_records
from openscore.api.schemas import (
    DisputeCreate,
    DisputeFiledPublic,
    DisputePublic,
    DisputesPublic,
    Id,
    RecordsPublic,
)
from openscore.api.scores import ensure_model, publish_now, score_public
from openscore.errors import NotFound

router = APIRouter(prefix="/v1/me", tags=["subjects: records and disputes"])

DisputeId = Annotated[Id, Path(description="the dispute's id")]


@router.get("/records", response_model=RecordsPublic)
def list_records(state: StateDep, subject: CurrentSubject, page: PageDep) -> RecordsPublic:
    """My ledger rows, newest first, with the reference a dispute uses."""
    records = own_records(state.ledger, subject.person_id)[: page.limit]
    with state.read() as conn:
        disputed = {
            d.record_ref
            for d in registry.list_disputes(conn, subject.person_id)
            if d.status == "open"
        }
    return RecordsPublic(items=[record_public(r, r.record_ref in disputed) for r in records])


@router.get("/disputes", response_model=DisputesPublic)
def list_disputes(state: StateDep, subject: CurrentSubject, page: PageDep) -> DisputesPublic:
    """Newest first."""
    with state.read() as conn:
        found = registry.list_disputes(conn, subject.person_id)
    return DisputesPublic(items=[dispute_public(d) for d in found[: page.limit]])


@router.post("/disputes", status_code=201, response_model=DisputeFiledPublic)
def file_dispute(
    state: StateDep, subject: CostlySubject, body: DisputeCreate
) -> DisputeFiledPublic:
    person_id = subject.person_id
    if body.record_ref not in {r.record_ref for r in own_records(state.ledger, person_id)}:
        raise NotFound(f"record {body.record_ref!r} not found")
    exclude = state.api.disputes_exclude_while_open
    if exclude:
        ensure_model(state)  # the rescore below must not fail after the filing
    with state.write() as conn:
        dispute = registry.file_dispute(
            conn,
            person_id,
            record_ref=body.record_ref,
            reason=body.reason,
            exclude_while_open=exclude,
            actor="subject",
        )
    score = None
    if dispute.excluded:
        publish_now(state, person_id, actor="subject")
        with state.read() as conn:
            score = score_public(registry.current_score(conn, person_id))
    return DisputeFiledPublic(**dispute_public(dispute).model_dump(), score=score)


@router.get("/disputes/{dispute_id}", response_model=DisputePublic)
def read_dispute(state: StateDep, subject: CurrentSubject, dispute_id: DisputeId) -> DisputePublic:
    with state.read() as conn:
        return dispute_public(registry.get_dispute(conn, subject.person_id, dispute_id))
