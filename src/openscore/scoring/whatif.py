"""What-if: how a person's score would change if some feature values were different.

``what_if(card, features, {"utilisation": 0.1})`` rescoring with the overrides applied;
an override of ``None`` simulates not sharing the feature (the neutral missing cell).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openscore.errors import InputError
from openscore.model.format import Scorecard, Term
from openscore.scoring.person import ScoreResult, score_person


@dataclass(frozen=True)
class WhatIf:
    """The score before and after, and what moved."""

    before: ScoreResult
    after: ScoreResult
    overrides: dict[str, Any]

    @property
    def change(self) -> int | None:
        """after − before; None when either is unscorable (no number to compare)."""
        if self.after.score is None or self.before.score is None:
            return None
        return self.after.score - self.before.score

    @property
    def contribution_changes(self) -> dict[str, int]:
        """Terms whose points changed: term → after − before (both must be scored)."""
        if not (self.before.scored and self.after.scored):
            return {}
        return {
            name: self.after.contributions[name] - p
            for name, p in self.before.contributions.items()
            if self.after.contributions[name] != p
        }

    @property
    def dimension_changes(self) -> dict[str, int | None]:
        """after − before per dimension; None where either side has no data."""
        out: dict[str, int | None] = {}
        for d, v in self.before.dimensions.items():
            after = self.after.dimensions.get(d)
            out[d] = None if v is None or after is None else after - v
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "overrides": dict(self.overrides),
            "change": self.change,
            "contribution_changes": self.contribution_changes,
            "dimension_changes": self.dimension_changes,
        }


def what_if(card: Scorecard, features: Mapping[str, Any], overrides: Mapping[str, Any]) -> WhatIf:
    """Rescore ``features`` with ``overrides`` applied; unknown feature names are an error."""
    unknown = [k for k in overrides if k not in card.feature_names]
    if unknown:
        raise InputError(
            f"the model has no feature {', '.join(map(repr, unknown))}; it uses "
            f"{', '.join(card.feature_names)}"
        )
    before = score_person(card, features)
    after = score_person(card, {**dict(features), **dict(overrides)})
    return WhatIf(before=before, after=after, overrides=dict(overrides))


@dataclass(frozen=True)
class ShareRange:
    """What sharing a source could do: the score with the source's features at their
    worst and best cells, and as now (their missing cells: the average sharer)."""

    lowest: int
    average: int
    highest: int


def _consistent_cells(term: Term, free: set[str], features: Mapping[str, Any]) -> list[int]:
    """The points of the cells a term can take when only ``free`` features may change."""
    fixed = {
        i: b.index(features.get(f))
        for i, (f, b) in enumerate(zip(term.features, term.binnings, strict=True))
        if f not in free
    }
    return [v for idx, v in term.cells() if all(idx[i] == j for i, j in fixed.items())]


def range_if_shared(card: Scorecard, features: Mapping[str, Any], names: set[str]) -> ShareRange:
    """The scores a person could get if the features ``names`` (a source's) took any value:
    lowest and highest (bounds: exact when no two terms share a feature of ``names``) and
    the score with them as they are now. Scored as if the person were scorable."""
    raw = card.intercept_points
    lo = hi = 0
    for t in card.terms:
        current = t.cell(t.index_of([features.get(f) for f in t.features]))
        raw += current
        if names & set(t.features):
            cells = _consistent_cells(t, names, features)
            lo += min(cells) - current
            hi += max(cells) - current
    s = card.scaling

    def clip(points: int) -> int:
        return int(max(s.score_min, min(s.score_max, points)))

    return ShareRange(lowest=clip(raw + lo), average=clip(raw), highest=clip(raw + hi))
