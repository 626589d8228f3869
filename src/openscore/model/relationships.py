"""The relationships dimension's rules on a scorecard: which terms use the graph, the
stage-1 card without them, the cap on what they may add, and the check that they can only
raise a score.

The scorecard file has no field for "this term may only raise a score", so the rule is
checked on every card whose terms use the graph (:func:`check_relationships_rule`). The
graph itself is computed on an engine by ``jobs/graph.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from openscore.domain import DIMENSION_WEIGHTS, Dimension
from openscore.errors import InputError
from openscore.features.graph import GRAPH_FEATURES, GraphParams
from openscore.model.format import Scaling, Scorecard, dimension_ranges


def is_graph_term(term: Any) -> bool:
    return term.dimension == Dimension.RELATIONSHIPS.value or any(
        f in GRAPH_FEATURES for f in term.features
    )


def uses_graph(card: Scorecard) -> bool:
    """Whether scoring with ``card`` needs the graph (stage 2)."""
    return any(is_graph_term(t) for t in card.terms)


def stage_one_card(card: Scorecard) -> Scorecard:
    """``card`` without its relationships terms: the score that standing comes from.

    Intercept and every other term are unchanged, so a person's stage-1 score is exactly
    their full score with the relationships points left out.
    """
    terms = tuple(t for t in card.terms if not is_graph_term(t))
    if len(terms) == len(card.terms):
        return card
    used = {f for t in terms for f in t.features}
    return replace(
        card,
        terms=terms,
        features=tuple(f for f in card.features if f.name in used),
        dimensions=dimension_ranges(terms),
    )


def relationships_cap(scaling: Scaling) -> int:
    """The most points relationships may add: their prior weight (5 %) of the scale."""
    weight = DIMENSION_WEIGHTS[Dimension.RELATIONSHIPS]
    return int(round(weight * (scaling.score_max - scaling.score_min)))


def check_relationships_rule(card: Scorecard) -> None:
    """Raise :class:`InputError` unless the card's relationships terms can only raise.

    Every such term is over one feature, has no cell below 0 (the missing cell, which is
    0, is the least) and none above :func:`relationships_cap`; all of its features are
    graph features and vice versa.
    """
    cap = relationships_cap(card.scaling)
    for t in card.terms:
        if not is_graph_term(t):
            continue
        where = f"model {card.model_id}, term {t.name!r}"
        if t.dimension != Dimension.RELATIONSHIPS.value or not all(
            f in GRAPH_FEATURES for f in t.features
        ):
            raise InputError(f"{where}: graph features belong to the relationships dimension")
        if t.is_pair:
            raise InputError(f"{where}: relationships terms are over one feature")
        if min(t.points) < 0:
            raise InputError(
                f"{where}: relationships can only raise a score, but a bin has "
                f"{min(t.points)} points (below the 0 of not sharing)"
            )
        if max(t.points) > cap:
            raise InputError(f"{where}: relationships may add at most {cap} points")


def graph_params_of(card: Scorecard) -> GraphParams:
    """The propagation parameters a card was trained with (defaults otherwise)."""
    stored = (card.training or {}).get("relationships", {}).get("graph")
    return GraphParams(**stored) if stored else GraphParams()


# -- the batch computation ------------------------------------------------------------
