"""What operators check: the audit log's verification and the ingestion runs."""

from __future__ import annotations

from openscore import registry
from openscore.registry import audit
from openscore.services.context import Context
from openscore.services.schemas import AuditStatusPublic, IngestionRunPublic, IngestionRunsPublic


def verify_audit(state: Context) -> AuditStatusPublic:
    """Recompute the whole audit log now and say whether it verifies, or which entry is
    the first bad one."""
    with state.read() as conn:
        result = audit.verify(conn)
    return AuditStatusPublic(
        ok=result.ok,
        tree_size=result.tree_size,
        root=result.root.hex(),
        entries_checked=result.entries_checked,
        heads_checked=result.heads_checked,
        macs_checked=result.macs_checked,
        first_bad=result.first_bad,
        problem=result.problem,
    )


def list_ingestion_runs(state: Context, *, limit: int) -> IngestionRunsPublic:
    """Ingestion runs (furnisher files and partners' fulfilment reports), newest first."""
    with state.read() as conn:
        runs = registry.list_ingestion_runs(conn, limit=limit)
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
