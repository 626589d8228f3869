"""Products, their policies, and the decision a partner gets (pure: no I/O but the
catalogue file). The API records each decision with :func:`openscore.registry.record_decision`.
"""

from __future__ import annotations

from openscore.decisions.policy import (
    BELOW_THRESHOLD,
    NOT_ENOUGH_DATA,
    PUBLIC_RECORD,
    AdverseReason,
    Decision,
    PublicRecord,
    ScoreReason,
    decide,
)
from openscore.decisions.products import (
    Catalogue,
    LineStep,
    LoanTerms,
    Product,
    ProductKind,
    Unscorable,
    UnscorableTreatment,
    default_catalogue,
    load_catalogue,
    parse_catalogue,
)

__all__ = [
    "AdverseReason",
    "BELOW_THRESHOLD",
    "Catalogue",
    "Decision",
    "LineStep",
    "LoanTerms",
    "NOT_ENOUGH_DATA",
    "PUBLIC_RECORD",
    "Product",
    "ProductKind",
    "PublicRecord",
    "ScoreReason",
    "Unscorable",
    "UnscorableTreatment",
    "decide",
    "default_catalogue",
    "load_catalogue",
    "parse_catalogue",
]
