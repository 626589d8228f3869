"""Decisions partners received about me, and my request for a human to review one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore import registry
from openscore.api.deps import CurrentSubject, PageDep, StateDep
from openscore.api.presenters import decision_public, review_public
from openscore.api.schemas import (
    DecisionPublic,
    DecisionsPublic,
    Id,
    ReviewCreate,
    ReviewPublic,
)

router = APIRouter(prefix="/v1/me/decisions", tags=["subjects: decisions"])

DecisionId = Annotated[Id, Path(description="the decision's id")]


@router.get("", response_model=DecisionsPublic)
def list_decisions(state: StateDep, subject: CurrentSubject, page: PageDep) -> DecisionsPublic:
    with state.read() as conn:
        records = registry.list_decisions(conn, subject.person_id, limit=page.limit)
        reviews = {r.decision_id: r for r in registry.list_reviews(conn, subject.person_id)}
    return DecisionsPublic(items=[decision_public(d, reviews.get(d.id)) for d in records])


@router.get("/{decision_id}", response_model=DecisionPublic)
def read_decision(
    state: StateDep, subject: CurrentSubject, decision_id: DecisionId
) -> DecisionPublic:
    with state.read() as conn:
        record = registry.get_decision(conn, subject.person_id, decision_id)
        review = next(
            (
                r
                for r in registry.list_reviews(conn, subject.person_id)
                if r.decision_id == record.id
            ),
            None,
        )
    return decision_public(record, review)


@router.post("/{decision_id}/review", status_code=201, response_model=ReviewPublic)
def request_review(
    state: StateDep, subject: CurrentSubject, decision_id: DecisionId, body: ReviewCreate
) -> ReviewPublic:
    """Ask for a human to look at the decision again (409 if already asked)."""
    with state.write() as conn:
        review = registry.request_review(
            conn, subject.person_id, decision_id, reason=body.reason, actor="subject"
        )
    return review_public(review)
