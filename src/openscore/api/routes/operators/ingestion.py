"""Ingestion runs (furnisher files and partners' fulfilment reports), newest first."""

from __future__ import annotations

from fastapi import APIRouter

from openscore import registry
from openscore.api.deps import OperatorPrincipal, PageDep, StateDep
from openscore.api.schemas import IngestionRunPublic, IngestionRunsPublic

router = APIRouter(prefix="/v1/operator/ingestion-runs", tags=["operators: ingestion"])


@router.get("", response_model=IngestionRunsPublic)
def list_runs(state: StateDep, operator: OperatorPrincipal, page: PageDep) -> IngestionRunsPublic:
    with state.read() as conn:
        runs = registry.list_ingestion_runs(conn, limit=page.limit)
    return IngestionRunsPublic(
        items=[
            IngestionRunPublic(
                id=r.id,
                furnisher_id=r.furnisher_id,
                status=r.status,
                started_at=r.started_at,
                finished_at=r.finished_at,
                accepted=r.accepted,
                rejected=r.rejected,
                duplicates=r.duplicates,
                report_path=r.report_path,
            )
            for r in runs
        ]
    )
