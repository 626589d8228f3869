"""Published scores as the API serves them: read the current one, publish one when there
is none yet, and the public shape of both.

A person's score is whatever was last *published* (``registry.published_scores``); the
API never answers from a fresh computation that was not published, so that the score a
subject sees, a partner is decided on, and the history shows are the same number.
"""

from __future__ import annotations

from openscore import online, registry
from openscore.errors import NotFound, NotReady
from openscore.features import FEATURES_BY_NAME
from openscore.registry import PublishedScore, current_score
from openscore.scoring import ScoreResult
from openscore.scoring.eligibility import ScoringRule
from openscore.services.context import Context
from openscore.services.schemas import (
    ComputedScorePublic,
    HelpPublic,
    MovedPublic,
    ReasonPublic,
    ScoreChangePublic,
    ScoreHistoryPointPublic,
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
        kind=score.kind,  # type: ignore[arg-type]
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
    """Scores over time, newest first: as published, and recomputed month-end points
    (labelled); each change beyond the threshold says which factors moved."""
    with state.read() as conn:
        found = registry.score_history(conn, person_id, limit=limit + 1)
    threshold = state.settings.score_change_points
    changes = history_changes(found, threshold)
    items = [
        ScoreHistoryPointPublic(**score_public(s).model_dump(), change=changes.get(s.id))
        for s in found[:limit]
    ]
    return ScoreHistoryPublic(items=items, change_threshold=threshold)


def moved_label(code: str) -> str:
    """A term in words: the feature's description, else its name. A pair term of the
    model (``a x b``, EBM interactions) names both features, without their fine print."""
    spec = FEATURES_BY_NAME.get(code)
    if spec is not None:
        return spec.description.rstrip(".")
    parts = code.split(" x ")
    if len(parts) > 1 and all(p in FEATURES_BY_NAME for p in parts):
        short = [FEATURES_BY_NAME[p].description.split(" (")[0].rstrip(".") for p in parts]
        rest = [w[:1].lower() + w[1:] for w in short[1:]]
        return "Taken together: " + "; and ".join([short[0], *rest])
    return code.replace("_", " ")


def history_changes(points: list[PublishedScore], threshold: int) -> dict[int, ScoreChangePublic]:
    """For each scored point (newest first) whose score moved by more than ``threshold``
    from the scored point before it: why. Keyed by the point's id."""
    scored = [p for p in points if p.score is not None]
    out: dict[int, ScoreChangePublic] = {}
    for new, old in zip(scored, scored[1:], strict=False):
        change = registry.score_change(_as_mapping(old), _as_mapping(new))
        if change is None or abs(change.delta) <= threshold:
            continue
        out[new.id] = ScoreChangePublic(
            old=change.old,
            new=change.new,
            delta=change.delta,
            threshold=threshold,
            basis=change.basis,  # type: ignore[arg-type]
            moved=[
                MovedPublic(code=m.code, label=moved_label(m.code), points=m.points)
                for m in change.moved[:5]
            ],
        )
    return out


def _as_mapping(score: PublishedScore) -> dict[str, object]:
    return {
        "score": score.score,
        "reasons": score.reasons,
        "helps": score.helps,
        "contributions": score.contributions,
    }
