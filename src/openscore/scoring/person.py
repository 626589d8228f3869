"""Scoring one person in plain Python: the online path and the reference for batch.

A feature absent from the mapping is *missing*, exactly like a null: a person who did not
share a source gets the neutral cell (principle 2), never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from openscore.domain import band_of
from openscore.errors import InputError
from openscore.model.format import Scorecard
from openscore.scoring.eligibility import SCORED, UNSCORABLE, ScoringRule
from openscore.scoring.reasons import (
    Help,
    Reason,
    dimension_subscores,
    top_helps,
    top_reasons,
)


@dataclass(frozen=True)
class ScoreResult:
    """A score with everything behind it, or the status ``unscorable`` and no number.

    An unscorable result (``docs/model.md``, "Not enough data to score") has ``score``,
    ``band`` and every dimension ``None``, and no reasons, helps or contributions: there
    is nothing a number could be shown for.
    """

    score: int | None
    band: str | None
    dimensions: dict[str, int | None]
    reasons: list[Reason]
    contributions: dict[str, int]
    model_id: str
    intercept_points: int
    as_of: str | None = None
    raw_points: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    status: str = SCORED
    helps: list[Help] = field(default_factory=list)

    @property
    def scored(self) -> bool:
        return self.status == SCORED

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "score": self.score,
            "band": self.band,
            "dimensions": dict(self.dimensions),
            "reasons": [r.to_dict() for r in self.reasons],
            "helps": [h.to_dict() for h in self.helps],
            "contributions": dict(self.contributions),
            "model_id": self.model_id,
            "intercept_points": self.intercept_points,
            "as_of": self.as_of,
        }


def refuse_audit_only(card: Scorecard) -> None:
    """An audit-only model was trained with protected attributes: it never scores people."""
    if card.audit_only:
        raise InputError(
            f"model {card.model_id} is audit-only (trained with protected attributes for a "
            "fairness audit) and cannot be used to score people"
        )


def term_contributions(card: Scorecard, features: Mapping[str, Any]) -> list[int]:
    """Points of every term, in term order."""
    return [p for p, _ in _term_cells(card, features)]


def _term_cells(card: Scorecard, features: Mapping[str, Any]) -> list[tuple[int, bool]]:
    """(points, whether the cell is missing) of every term, in term order."""
    out = []
    for t in card.terms:
        values = [features.get(f) for f in t.features]
        try:
            idx = t.index_of(values)
        except InputError as exc:
            raise InputError(exc.reason, field=t.features[0]) from exc
        out.append((t.cell(idx), t.is_missing(idx)))
    return out


def score_person(
    card: Scorecard,
    features: Mapping[str, Any],
    *,
    as_of: str | None = None,
    rule: ScoringRule | None = None,
) -> ScoreResult:
    """Score, band, five sub-scores, up to four reasons, the helps and each term's points
    -- or, below the minimum scoring rule (``rule``, default from the settings), the
    status ``unscorable`` and no number at all."""
    refuse_audit_only(card)
    cells = _term_cells(card, features)
    rule = rule or ScoringRule.from_settings()
    if not rule.scorable(card, features):
        return ScoreResult(
            score=None,
            band=None,
            dimensions=dict.fromkeys(card.dimensions),
            reasons=[],
            contributions={},
            model_id=card.model_id,
            intercept_points=card.intercept_points,
            as_of=as_of,
            status=UNSCORABLE,
        )
    points = [p for p, _ in cells]
    missing = [m for _, m in cells]
    raw = card.intercept_points + sum(points)
    s = card.scaling
    score = int(max(s.score_min, min(s.score_max, raw)))
    return ScoreResult(
        score=score,
        band=band_of(score),
        dimensions=dimension_subscores(card, points, missing),
        reasons=top_reasons(card, points, missing),
        contributions={t.name: p for t, p in zip(card.terms, points, strict=True)},
        model_id=card.model_id,
        intercept_points=card.intercept_points,
        as_of=as_of,
        raw_points=int(raw),
        helps=top_helps(card, points, missing),
    )
