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
from openscore.scoring.reasons import Reason, dimension_subscores, top_reasons


@dataclass(frozen=True)
class ScoreResult:
    """A score with everything behind it."""

    score: int
    band: str
    dimensions: dict[str, int]
    reasons: list[Reason]
    contributions: dict[str, int]
    model_id: str
    intercept_points: int
    as_of: str | None = None
    raw_points: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "band": self.band,
            "dimensions": dict(self.dimensions),
            "reasons": [r.to_dict() for r in self.reasons],
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
    card: Scorecard, features: Mapping[str, Any], *, as_of: str | None = None
) -> ScoreResult:
    """Score, band, five sub-scores, up to four reasons and each term's points."""
    refuse_audit_only(card)
    cells = _term_cells(card, features)
    points = [p for p, _ in cells]
    raw = card.intercept_points + sum(points)
    s = card.scaling
    score = int(max(s.score_min, min(s.score_max, raw)))
    return ScoreResult(
        score=score,
        band=band_of(score),
        dimensions=dimension_subscores(card, points),
        reasons=top_reasons(card, points, [m for _, m in cells]),
        contributions={t.name: p for t, p in zip(card.terms, points, strict=True)},
        model_id=card.model_id,
        intercept_points=card.intercept_points,
        as_of=as_of,
        raw_points=int(raw),
    )
