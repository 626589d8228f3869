"""Decisions partners received about a person, as the person sees them, and a partner's
own record of the decisions it asked for."""

from __future__ import annotations

from openscore import registry
from openscore.services.context import Context
from openscore.services.presenters import decision_public
from openscore.services.schemas import DecisionPublic, DecisionsPublic, PartnerDecisionPublic


def list_decisions(state: Context, person_id: str, *, limit: int) -> DecisionsPublic:
    with state.read() as conn:
        records = registry.list_decisions(conn, person_id, limit=limit)
        reviews = {r.decision_id: r for r in registry.list_reviews(conn, person_id)}
    return DecisionsPublic(items=[decision_public(d, reviews.get(d.id)) for d in records])


def read_decision(state: Context, person_id: str, decision_id: str) -> DecisionPublic:
    with state.read() as conn:
        record = registry.get_decision(conn, person_id, decision_id)
        review = next(
            (r for r in registry.list_reviews(conn, person_id) if r.decision_id == record.id),
            None,
        )
    return decision_public(record, review)


def read_partner_decision(
    state: Context, partner_id: str, decision_id: str
) -> PartnerDecisionPublic:
    """A decision this partner asked for (another partner's is not found)."""
    with state.read() as conn:
        record = registry.get_partner_decision(conn, partner_id, decision_id)
    return PartnerDecisionPublic(
        decision_id=record.id,
        grant_id=record.grant_id,
        product_id=record.product_id,
        outcome=record.outcome,
        terms=record.terms,
        decided_at=record.decided_at,
    )
