"""My score: the current one (published on first read), its history, and what-if."""

from __future__ import annotations

from fastapi import APIRouter

from openscore.api.deps import CostlySubject, CurrentSubject, PageDep, StateDep
from openscore.services import scores, whatif
from openscore.services.schemas import (
    ScoreHistoryPublic,
    ScorePublic,
    WhatIfPublic,
    WhatIfRequest,
)

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
    )
