"""``POST /v1/decisions``: a partner asks for a decision under a person's grant; and the
partner's own record of the decisions it asked for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from openscore.api.deps import ApiKeyDep, PartnerPrincipal, StateDep
from openscore.api.partner_decisions import decide_for_partner
from openscore.services import decisions
from openscore.services.schemas import DecisionAnswer, DecisionRequest, Id, PartnerDecisionPublic

router = APIRouter(prefix="/v1/decisions", tags=["partners"])


@router.post("", status_code=201, response_model=DecisionAnswer)
def create_decision(state: StateDep, key: ApiKeyDep, body: DecisionRequest) -> Response:
    """Approve or decline ``product_id`` for the person who gave ``grant_id``.

    Refused (403) when the grant is revoked or expired, does not cover the product or the
    purpose, or the person locked their file; 404 when the grant is not this partner's
    or not from ``person_id``. Every answer is recorded as a decision and an inquiry the
    person sees, each in the audit log.
    """
    answer = decide_for_partner(state, key, body)
    # Serialised here, in this worker thread and straight to bytes by pydantic-core:
    # returning the model would have FastAPI validate it again in a second trip through
    # the thread pool, and model_dump + json.dumps builds the answer twice.
    return Response(answer.model_dump_json(), status_code=201, media_type="application/json")


@router.get("/{decision_id}", response_model=PartnerDecisionPublic)
def read_decision(
    state: StateDep,
    principal: PartnerPrincipal,
    decision_id: Annotated[Id, Path(description="the decision's id")],
) -> PartnerDecisionPublic:
    """A decision this partner asked for (another partner's is 404)."""
    return decisions.read_partner_decision(state, principal.partner_id, decision_id)
