"""Published scores as the API serves them: read the current one, publish one when there
is none yet, and the public shape of both.

A person's score is whatever was last *published* (``registry.published_scores``); the
API never answers from a fresh computation that was not published, so that the score a
subject sees, a partner is decided on, and the history shows are the same number.
"""

from __future__ import annotations

from openscore import online, registry
from openscore.errors import NotFound, NotReady
from openscore.registry import PublishedScore, current_score
from openscore.scoring import ScoreResult
from openscore.scoring.eligibility import ScoringRule
from openscore.services.context import Context
from openscore.services.schemas import (
    ComputedScorePublic,
    HelpPublic,
    ReasonPublic,
    ScoreHistoryPublic,
    ScorePublic,
)


def ensure_model(state: Context) -> None:
    """:class:`NotReady` unless a scorecard is in service."""
    try:
        online.current_model_path(state.settings)
    except NotFound:
        raise NotReady("no scoring model is in service yet: an operator must install one") from None


def publish_now(state: Context, person_id: str, *, actor: str) -> online.Rescored:
    """Rescore the person from the ledger and publish it (their new current score)."""
    ensure_model(state)
    return online.publish(state.engine, person_id, actor=actor, settings=state.settings)


def current_or_publish(state: Context, person_id: str, *, actor: str) -> PublishedScore:
    """The current published score; on the very first read, publish one first."""
    with state.read() as conn:
        try:
            return current_score(conn, person_id)
        except NotFound:
            pass
    publish_now(state, person_id, actor=actor)
    with state.read() as conn:
        return current_score(conn, person_id)


def score_public(score: PublishedScore) -> ScorePublic:
    return ScorePublic(
        id=score.id,
        status=score.status,  # type: ignore[arg-type]
        score=score.score,
        band=score.band,
        dimensions=score.dimensions,
        reasons=[ReasonPublic.model_validate(r) for r in score.reasons],
        helps=[HelpPublic.model_validate(h) for h in score.helps],
        model_id=score.model_id,
        as_of=score.as_of,
        published_at=score.published_at,
        scorable_when=None if score.scored else ScoringRule.from_settings().describe(),
    )


def computed_public(result: ScoreResult) -> ComputedScorePublic:
    return ComputedScorePublic(
        status=result.status,  # type: ignore[arg-type]
        score=result.score,
        band=result.band,
        dimensions=result.dimensions,
        reasons=[ReasonPublic.model_validate(r.to_dict()) for r in result.reasons],
        helps=[HelpPublic.model_validate(h.to_dict()) for h in result.helps],
        contributions=result.contributions,
        model_id=result.model_id,
    )


def read_score(state: Context, person_id: str, *, actor: str) -> ScorePublic:
    """Score, band, the five dimensions and the reasons, as last published."""
    return score_public(current_or_publish(state, person_id, actor=actor))


def history(state: Context, person_id: str, *, limit: int) -> ScoreHistoryPublic:
    """Published scores, newest first."""
    with state.read() as conn:
        found = registry.score_history(conn, person_id, limit=limit)
    return ScoreHistoryPublic(items=[score_public(s) for s in found])
