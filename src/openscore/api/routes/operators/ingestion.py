"""Ingestion runs (furnisher files and partners' fulfilment reports), newest first."""

from __future__ import annotations

from fastapi import APIRouter

from openscore.api.deps import OperatorPrincipal, PageDep, StateDep
from openscore.services import operations
from openscore.services.schemas import IngestionRunsPublic

router = APIRouter(prefix="/v1/operator/ingestion-runs", tags=["operators: ingestion"])


@router.get("", response_model=IngestionRunsPublic)
def list_runs(state: StateDep, operator: OperatorPrincipal, page: PageDep) -> IngestionRunsPublic:
    return operations.list_ingestion_runs(state, limit=page.limit)
