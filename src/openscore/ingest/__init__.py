"""Ingestion of furnisher files: reading, validation, consent, idempotency."""

from openscore.ingest.consent import ConsentGate, allow_all
from openscore.ingest.ingester import Ingester, IngestResult, expand_paths
from openscore.ingest.rejections import Rejection

__all__ = ["ConsentGate", "IngestResult", "Ingester", "Rejection", "allow_all", "expand_paths"]
