"""The weight of each dimension in the model in use, read from its file.

Chosen measure: a dimension's **share of the model's total point range** -- the sum over
its terms of (most points − fewest points), divided by the same sum over every term. It
says how far that dimension can move a score, needs nothing but the model file (so the
"how it works" page, the API and the dashboard cannot disagree with the model), and is
what ``dimension_ranges`` stores in the file as ``weight``. A dimension without terms
carries 0: it cannot move anyone's score, and the pages say so and why.
"""

from __future__ import annotations

from openscore.domain import Dimension
from openscore.model.format import Scorecard

#: why a dimension can carry no weight, in words a person reads
NO_WEIGHT_WHY = "The model in service gives it no points, so it cannot move your score: {why}"
_WHY = {
    Dimension.RELATIONSHIPS.value: (
        "relationships are scored only after a relationship graph run, and only to raise "
        "a score; this model was trained without one."
    ),
}


def dimension_weights(card: Scorecard) -> dict[str, float]:
    """Every dimension's share of the model's total point range (sums to 1, or all 0)."""
    spans = {d.value: 0 for d in Dimension}
    for term in card.terms:
        spans[term.dimension] += term.max_points - term.min_points
    total = sum(spans.values())
    return {d: (span / total if total else 0.0) for d, span in spans.items()}


def weight_notes(card: Scorecard) -> dict[str, str]:
    """For each dimension with no weight: why, in plain words."""
    return {
        d: NO_WEIGHT_WHY.format(
            why=_WHY.get(d, "the data the model was trained on did not show it predicts repayment.")
        )
        for d, w in dimension_weights(card).items()
        if w == 0
    }
