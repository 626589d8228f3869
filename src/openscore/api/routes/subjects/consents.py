"""My data sources: one consent each. Revoking one purges its events from the ledger
and publishes the new score before answering; granting one again counts for events
ingested from then on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore.api.deps import CostlySubject, CurrentSubject, StateDep
from openscore.services import consents
from openscore.services.schemas import ConsentPublic, ConsentRevokedPublic, ConsentsPublic, Source

router = APIRouter(prefix="/v1/me/consents", tags=["subjects: consents"])

SourcePath = Annotated[Source, Path(description="wallet, credit, rentals, profile or social")]


@router.get("", response_model=ConsentsPublic)
def list_consents(state: StateDep, subject: CurrentSubject) -> ConsentsPublic:
    return consents.list_consents(state, subject.person_id)


@router.put("/{source}", response_model=ConsentPublic)
def grant(state: StateDep, subject: CostlySubject, source: SourcePath) -> ConsentPublic:
    """Share a source (sharing one already shared changes nothing)."""
    return consents.share(state, subject.person_id, source, actor="subject")


@router.delete("/{source}", response_model=ConsentRevokedPublic)
def revoke(state: StateDep, subject: CostlySubject, source: SourcePath) -> ConsentRevokedPublic:
    """Stop sharing a source: its events leave the ledger and the new score is published
    before this answers."""
    return consents.revoke(state, subject.person_id, source, actor="subject")
