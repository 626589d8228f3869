"""``GET /v1/operator/audit``: recompute the whole audit log now (``openscore audit
verify`` over HTTP) and say whether it verifies, or which entry is the first bad one."""

from __future__ import annotations

from fastapi import APIRouter

from openscore.api.deps import OperatorPrincipal, StateDep
from openscore.api.schemas import AuditStatusPublic
from openscore.registry import audit

router = APIRouter(prefix="/v1/operator/audit", tags=["operators: audit"])


@router.get("", response_model=AuditStatusPublic)
def verify(state: StateDep, operator: OperatorPrincipal) -> AuditStatusPublic:
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
