"""The five dimensions of the score and their cold-start weights (Sesame's published ones)."""

from __future__ import annotations

from enum import StrEnum


class Dimension(StrEnum):
    CREDIT_HISTORY = "credit_history"
    FULFILMENT_CAPACITY = "fulfilment_capacity"
    BEHAVIOUR = "behaviour"
    IDENTITY = "identity"
    RELATIONSHIPS = "relationships"


DIMENSION_WEIGHTS: dict[Dimension, float] = {
    Dimension.CREDIT_HISTORY: 0.35,
    Dimension.FULFILMENT_CAPACITY: 0.25,
    Dimension.BEHAVIOUR: 0.20,
    Dimension.IDENTITY: 0.15,
    Dimension.RELATIONSHIPS: 0.05,
}

DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.CREDIT_HISTORY: "Credit history",
    Dimension.FULFILMENT_CAPACITY: "Fulfilment capacity",
    Dimension.BEHAVIOUR: "Behaviour",
    Dimension.IDENTITY: "Identity",
    Dimension.RELATIONSHIPS: "Relationships",
}
