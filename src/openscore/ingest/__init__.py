"""Ingestion of furnisher files: reading, validation, consent, idempotency."""

from openscore.ingest.consent import ConsentGate, SuppressionCheck, no_consent_check, no_registry
from openscore.ingest.ingester import Ingester, IngestResult, expand_paths
from openscore.ingest.rejections import Rejection

__all__ = [
    "ConsentGate",
    "IngestResult",
    "Ingester",
    "Rejection",
    "SuppressionCheck",
    "expand_paths",
    "no_consent_check",
    "no_registry",
]
