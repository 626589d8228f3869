"""Ingestion runs: one row per batch a furnisher sent, for the operator console.

The ledger owns the events; this records that a run happened, who sent it, how many
lines were accepted, rejected or duplicates, and where the per-line rejection report is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import audit
from openscore.registry.metadata import ingestion_runs, new_id, utc_now

RunStatus = Literal["running", "committed", "failed"]


@dataclass(frozen=True, slots=True)
class IngestionRun:
    id: str
    furnisher_id: str
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    accepted: int
    rejected: int
    duplicates: int
    report_path: str | None


def _run(row: sa.Row[*tuple[Any, ...]]) -> IngestionRun:
    return IngestionRun(
        row.id,
        row.furnisher_id,
        row.status,
        row.started_at,
        row.finished_at,
        int(row.accepted),
        int(row.rejected),
        int(row.duplicates),
        row.report_path,
    )


def start_ingestion_run(
    conn: Connection,
    *,
    furnisher_id: str,
    actor: str,
    run_id: str | None = None,
    now: datetime | None = None,
) -> IngestionRun:
    """Record that a run began (``run_id``: the ledger's batch id, or a fresh one)."""
    if not 1 <= len(furnisher_id) <= 128:
        raise InputError("must be 1-128 characters", field="furnisher_id")
    now = now or utc_now()
    run = IngestionRun(run_id or new_id(), furnisher_id, "running", now, None, 0, 0, 0, None)
    try:
        with conn.begin_nested():
            conn.execute(
                ingestion_runs.insert().values(
                    id=run.id,
                    furnisher_id=furnisher_id,
                    status="running",
                    started_at=now,
                    accepted=0,
                    rejected=0,
                    duplicates=0,
                )
            )
    except sa.exc.IntegrityError:
        raise Conflict(f"ingestion run {run.id!r} already exists") from None
    audit.append(
        conn,
        action="ingestion.started",
        actor=actor,
        subject=f"furnisher:{_subject_name(furnisher_id)}",
        details={"run": run.id},
        at=now,
    )
    return run


def finish_ingestion_run(
    conn: Connection,
    run_id: str,
    *,
    status: Literal["committed", "failed"],
    accepted: int,
    rejected: int,
    duplicates: int,
    actor: str,
    report_path: str | None = None,
    now: datetime | None = None,
) -> IngestionRun:
    """Record how a run ended; logged, since a committed run changed the ledger."""
    if status not in ("committed", "failed"):
        raise InputError("must be committed or failed", field="status")
    if min(accepted, rejected, duplicates) < 0:
        raise InputError("counts cannot be negative", field="accepted")
    run = get_ingestion_run(conn, run_id)
    if run.status != "running":
        raise Conflict(f"ingestion run {run_id!r} is already {run.status}")
    now = max(now or utc_now(), run.started_at)
    conn.execute(
        ingestion_runs.update()
        .where(ingestion_runs.c.id == run_id)
        .values(
            status=status,
            finished_at=now,
            accepted=accepted,
            rejected=rejected,
            duplicates=duplicates,
            report_path=report_path,
        )
    )
    audit.append(
        conn,
        action=f"ingestion.{status}",
        actor=actor,
        subject=f"furnisher:{_subject_name(run.furnisher_id)}",
        details={
            "run": run_id,
            "accepted": accepted,
            "rejected": rejected,
            "duplicates": duplicates,
        },
        at=now,
    )
    return replace(
        run,
        status=status,
        finished_at=now,
        accepted=accepted,
        rejected=rejected,
        duplicates=duplicates,
        report_path=report_path,
    )


def _subject_name(furnisher_id: str) -> str:
    # The audit subject grammar is narrower than furnisher ids; keep what fits.
    cleaned = "".join(c if c.isalnum() or c in "_.-" else "_" for c in furnisher_id)[:64]
    return cleaned if cleaned[:1].isalnum() else "f" + cleaned[:63]


def get_ingestion_run(conn: Connection, run_id: str) -> IngestionRun:
    row = conn.execute(sa.select(ingestion_runs).where(ingestion_runs.c.id == run_id)).one_or_none()
    if row is None:
        raise NotFound(f"ingestion run {run_id!r} not found")
    return _run(row)


def list_ingestion_runs(
    conn: Connection, *, furnisher_id: str | None = None, limit: int = 100
) -> list[IngestionRun]:
    """Runs, newest first."""
    query = (
        sa.select(ingestion_runs)
        .order_by(ingestion_runs.c.started_at.desc(), ingestion_runs.c.id)
        .limit(limit)
    )
    if furnisher_id is not None:
        query = query.where(ingestion_runs.c.furnisher_id == furnisher_id)
    return [_run(r) for r in conn.execute(query)]
