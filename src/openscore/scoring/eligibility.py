"""The minimum scoring rule, as scoring applies it (defined in ``model/eligibility.py``,
below both training, which sets the scale on scorable people, and scoring)."""

from openscore.model.eligibility import (
    NOT_ENOUGH_DATA,
    SCORED,
    STATUSES,
    UNSCORABLE,
    ScoringRule,
)

__all__ = ["NOT_ENOUGH_DATA", "SCORED", "STATUSES", "UNSCORABLE", "ScoringRule"]
