"""My score: the current one (published on first read), its history, and what-if."""

from __future__ import annotations

from fastapi import APIRouter

from openscore import online, registry
from openscore.api.deps import CostlySubject, CurrentSubject, PageDep, StateDep
from openscore.api.schemas import ScoreHistoryPublic, ScorePublic, WhatIfPublic, WhatIfRequest
from openscore.api.scores import computed_public, current_or_publish, ensure_model, score_public
from openscore.errors import InputError
from openscore.features import FEATURES_BY_NAME
from openscore.scoring import what_if

router = APIRouter(prefix="/v1/me", tags=["subjects: score"])


@router.get("/score", response_model=ScorePublic)
def read_score(state: StateDep, subject: CurrentSubject) -> ScorePublic:
    """Score, band, the five dimensions and the reasons, as last published."""
    return score_public(current_or_publish(state, subject.person_id, actor="subject"))


@router.get("/history", response_model=ScoreHistoryPublic)
def read_history(state: StateDep, subject: CurrentSubject, page: PageDep) -> ScoreHistoryPublic:
    """Published scores, newest first."""
    with state.read() as conn:
        history = registry.score_history(conn, subject.person_id, limit=page.limit)
    return ScoreHistoryPublic(items=[score_public(s) for s in history])


@router.post("/whatif", response_model=WhatIfPublic)
def simulate(state: StateDep, subject: CostlySubject, body: WhatIfRequest) -> WhatIfPublic:
    """Rescore my current data with some values changed; nothing is stored or published."""
    ensure_model(state)
    card = online.current_model(state.settings)
    used = set(card.feature_names)
    overrides = dict(body.overrides)
    for name in overrides:
        if name not in used:
            raise InputError(
                "the model in service does not use this feature", field=f"overrides.{name}"
            )
    for source in body.without_sources:
        for name in card.feature_names:
            spec = FEATURES_BY_NAME.get(name)
            if spec is not None and spec.source.value == source:
                overrides.setdefault(name, None)
    person_id = subject.person_id
    with state.read() as conn:
        excluded = registry.excluded_records(conn, [person_id]).get(person_id, frozenset())
    features = online.person_features(person_id, excluded=excluded, settings=state.settings)
    # A dropped source also leaves the features the model does not score but the minimum
    # scoring rule reads (e.g. a bill on file): without them the person may be unscorable.
    for name, spec in FEATURES_BY_NAME.items():
        if spec.source.value in body.without_sources and name not in used:
            features[name] = None
    result = what_if(card, features, overrides)
    return WhatIfPublic(
        before=computed_public(result.before),
        after=computed_public(result.after),
        change=result.change,
        contribution_changes=result.contribution_changes,
        dimension_changes=result.dimension_changes,
        overrides=overrides,
    )
