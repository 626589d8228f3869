"""Who looked at my data: every inquiry, what it returned, and a proof that it is in the
tamper-evident audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from openscore.api.deps import CurrentSubject, PageDep, StateDep
from openscore.services import inquiries
from openscore.services.schemas import (
    Id,
    InclusionProofPublic,
    InquiriesPublic,
    InquiryPublic,
    Timestamp,
)

router = APIRouter(prefix="/v1/me", tags=["subjects: inquiries"])

InquiryId = Annotated[Id, Path(description="the inquiry's id")]


@router.get("/inquiries", response_model=InquiriesPublic)
def list_inquiries(
    state: StateDep,
    subject: CurrentSubject,
    page: PageDep,
    before: Annotated[
        Timestamp | None, Query(description="only inquiries before this time (next page)")
    ] = None,
) -> InquiriesPublic:
    """Newest first; follow ``next_before`` for older ones."""
    return inquiries.list_inquiries(state, subject.person_id, limit=page.limit, before=before)


@router.get("/inquiries/{inquiry_id}", response_model=InquiryPublic)
def read_inquiry(state: StateDep, subject: CurrentSubject, inquiry_id: InquiryId) -> InquiryPublic:
    return inquiries.read_inquiry(state, subject.person_id, inquiry_id)


@router.get("/proofs/inquiries/{inquiry_id}", response_model=InclusionProofPublic)
def prove_inquiry(
    state: StateDep, subject: CurrentSubject, inquiry_id: InquiryId
) -> InclusionProofPublic:
    """The audit path from the entry that recorded the inquiry to the log's current root,
    checked here with the log's key before it is handed out."""
    return inquiries.prove_inquiry(state, subject.person_id, inquiry_id)
