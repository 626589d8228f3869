"""``GET /v1/operator/audit``: recompute the whole audit log now (``openscore audit
verify`` over HTTP) and say whether it verifies, or which entry is the first bad one."""

from __future__ import annotations

from fastapi import APIRouter

from openscore.api.deps import OperatorPrincipal, StateDep
from openscore.services import operations
from openscore.services.schemas import AuditStatusPublic

router = APIRouter(prefix="/v1/operator/audit", tags=["operators: audit"])


@router.get("", response_model=AuditStatusPublic)
def verify(state: StateDep, operator: OperatorPrincipal) -> AuditStatusPublic:
    return operations.verify_audit(state)
