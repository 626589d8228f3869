"""A person's data sources: one consent each. Revoking one purges its events from the
ledger and publishes the new score before answering; granting one again counts for events
ingested from then on."""

from __future__ import annotations

from openscore import online, registry
from openscore.domain.sources import CONSENTABLE_SOURCES
from openscore.domain.sources import Source as SourceEnum
from openscore.services.context import Context
from openscore.services.presenters import consent_public
from openscore.services.schemas import ConsentPublic, ConsentRevokedPublic, ConsentsPublic
from openscore.services.scores import ensure_model, score_public


def latest(state: Context, person_id: str) -> dict[SourceEnum, registry.Consent]:
    """The last consent period of each source the person ever shared."""
    with state.read() as conn:
        history = registry.consent_history(conn, person_id)
    found: dict[SourceEnum, registry.Consent] = {}
    for consent in history:  # oldest first: the last period of each source wins
        found[consent.source] = consent
    return found


def list_consents(state: Context, person_id: str) -> ConsentsPublic:
    found = latest(state, person_id)
    return ConsentsPublic(items=[consent_public(s, found.get(s)) for s in CONSENTABLE_SOURCES])


def share(state: Context, person_id: str, source: str, *, actor: str) -> ConsentPublic:
    """Share a source (sharing one already shared changes nothing)."""
    online.grant_source(state.engine, person_id, source, actor=actor)
    return consent_public(SourceEnum(source), latest(state, person_id)[SourceEnum(source)])


def revoke(state: Context, person_id: str, source: str, *, actor: str) -> ConsentRevokedPublic:
    """Stop sharing a source: its events leave the ledger and the new score is published
    before this returns."""
    ensure_model(state)  # refuse before anything changes, not halfway
    rescored = online.revoke_source(
        state.engine, person_id, source, actor=actor, settings=state.settings
    )
    with state.read() as conn:
        published = registry.current_score(conn, person_id)
    return ConsentRevokedPublic(
        consent=consent_public(SourceEnum(source), latest(state, person_id)[SourceEnum(source)]),
        score=score_public(published),
        seconds=rescored.seconds,
    )
