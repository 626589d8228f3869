"""My data sources: one consent each. Revoking one purges its events from the ledger
and publishes the new score before answering; granting one again counts for events
ingested from then on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore import online, registry
from openscore.api.deps import CostlySubject, CurrentSubject, StateDep
from openscore.api.presenters import consent_public
from openscore.api.schemas import ConsentPublic, ConsentRevokedPublic, ConsentsPublic, Source
from openscore.api.scores import ensure_model, score_public
from openscore.api.state import AppState
from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.domain.sources import Source as SourceEnum

router = APIRouter(prefix="/v1/me/consents", tags=["subjects: consents"])

SourcePath = Annotated[Source, Path(description="wallet, credit, rentals, profile or social")]


def _latest(state: AppState, person_id: str) -> dict[SourceEnum, registry.Consent]:
    with state.read() as conn:
        history = registry.consent_history(conn, person_id)
    latest: dict[SourceEnum, registry.Consent] = {}
    for consent in history:  # oldest first: the last period of each source wins
        latest[consent.source] = consent
    return latest


@router.get("", response_model=ConsentsPublic)
def list_consents(state: StateDep, subject: CurrentSubject) -> ConsentsPublic:
    latest = _latest(state, subject.person_id)
    return ConsentsPublic(items=[consent_public(s, latest.get(s)) for s in CONSENTABLE_SOURCES])


@router.put("/{source}", response_model=ConsentPublic)
def grant(state: StateDep, subject: CostlySubject, source: SourcePath) -> ConsentPublic:
    """Share a source (sharing one already shared changes nothing)."""
    online.grant_source(state.engine, subject.person_id, source, actor="subject")
    return consent_public(SourceEnum(source), _latest(state, subject.person_id)[SourceEnum(source)])


@router.delete("/{source}", response_model=ConsentRevokedPublic)
def revoke(state: StateDep, subject: CostlySubject, source: SourcePath) -> ConsentRevokedPublic:
    """Stop sharing a source: its events leave the ledger and the new score is published
    before this answers."""
    ensure_model(state)  # refuse before anything changes, not halfway
    rescored = online.revoke_source(
        state.engine, subject.person_id, source, actor="subject", settings=state.settings
    )
    with state.read() as conn:
        published = registry.current_score(conn, subject.person_id)
    return ConsentRevokedPublic(
        consent=consent_public(
            SourceEnum(source), _latest(state, subject.person_id)[SourceEnum(source)]
        ),
        score=score_public(published),
        seconds=rescored.seconds,
    )
