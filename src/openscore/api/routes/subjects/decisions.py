"""Decisions partners received about me, and my request for a human to review one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore.api.deps import CurrentSubject, PageDep, StateDep
from openscore.services import decisions, reviews
from openscore.services.schemas import (
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
    return decisions.list_decisions(state, subject.person_id, limit=page.limit)


@router.get("/{decision_id}", response_model=DecisionPublic)
def read_decision(
    state: StateDep, subject: CurrentSubject, decision_id: DecisionId
) -> DecisionPublic:
    return decisions.read_decision(state, subject.person_id, decision_id)


@router.post("/{decision_id}/review", status_code=201, response_model=ReviewPublic)
def request_review(
    state: StateDep, subject: CurrentSubject, decision_id: DecisionId, body: ReviewCreate
) -> ReviewPublic:
    """Ask for a human to look at the decision again (409 if already asked)."""
    return reviews.request_review(
        state, subject.person_id, decision_id, reason=body.reason, actor="subject"
    )
