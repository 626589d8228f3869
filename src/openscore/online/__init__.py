"""The online path: one person's score from the ledger, consent changes, erasure."""

from openscore.online.consent import (
    Rescored,
    erase,
    grant_source,
    publish,
    recover,
    registry_consent_gate,
    registry_suppression_check,
    revoke_source,
)
from openscore.online.models import current_model, current_model_path, install_model
from openscore.online.person import person_features, rescore, scoring_date, warm

__all__ = [
    "warm",
    "Rescored",
    "current_model",
    "current_model_path",
    "erase",
    "grant_source",
    "install_model",
    "person_features",
    "publish",
    "recover",
    "registry_consent_gate",
    "registry_suppression_check",
    "rescore",
    "revoke_source",
    "scoring_date",
]
