"""My score: the current one (published on first read), its history, what-if, and a plan
to reach the next band."""

from __future__ import annotations

from fastapi import APIRouter

from openscore.api.deps import CostlySubject, CurrentSubject, PageDep, StateDep
from openscore.services import plan, scores, whatif
from openscore.services.schemas import (
    ScoreHistoryPublic,
    ScorePublic,
    WhatIfPublic,
    WhatIfRequest,
)
from openscore.services.schemas_plan import PlanPublic

router = APIRouter(prefix="/v1/me", tags=["subjects: score"])


@router.get("/score", response_model=ScorePublic)
def read_score(state: StateDep, subject: CurrentSubject) -> ScorePublic:
    """Score, band, the five dimensions and the reasons, as last published."""
    return scores.read_score(state, subject.person_id, actor="subject")


@router.get("/history", response_model=ScoreHistoryPublic)
def read_history(state: StateDep, subject: CurrentSubject, page: PageDep) -> ScoreHistoryPublic:
    """My scores over time, newest first: as published, and recomputed month-end points
    (``kind``); a change beyond ``change_threshold`` points says which factors moved."""
    return scores.history(state, subject.person_id, limit=page.limit)


@router.post("/whatif", response_model=WhatIfPublic)
def simulate(state: StateDep, subject: CostlySubject, body: WhatIfRequest) -> WhatIfPublic:
    """Rescore my current data with some values changed; nothing is stored or published."""
    return whatif.simulate(
        state,
        subject.person_id,
        overrides=body.overrides,
        without_sources=body.without_sources,
        share_sources=body.share_sources,
    )


@router.get(
    "/plan",
    response_model=PlanPublic,
    responses={409: {"description": "not enough data to score me, or already in the top band"}},
)
def read_plan(state: StateDep, subject: CostlySubject) -> PlanPublic:
    """The fewest months, then the fewest steps, to the next band: only what I can change
    (never a past fact), each step with the points it earns under the model in use; 409
    when there is no score to plan from or no higher band. Nothing is stored."""
    return plan.make_plan(state, subject.person_id)
