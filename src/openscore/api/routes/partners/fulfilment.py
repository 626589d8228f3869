"""``POST /v1/fulfilment``: rentals and repayments a partner served, into the ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from openscore.api.deps import PartnerPrincipal, StateDep
from openscore.api.fulfilment import report_fulfilment
from openscore.services.schemas import FulfilmentPublic, FulfilmentRequest

router = APIRouter(prefix="/v1/fulfilment", tags=["partners"])

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[!-~]{1,128}$",
        description="unique per request: a retry with the same key and body replays the "
        "first answer; the same key with another body is 409",
    ),
]


@router.post("", status_code=201, response_model=FulfilmentPublic)
def report(
    state: StateDep,
    principal: PartnerPrincipal,
    idempotency_key: IdempotencyKey,
    body: FulfilmentRequest,
) -> JSONResponse:
    """Store the reports as ledger events (furnisher: this partner), once per key."""
    answer, replayed = report_fulfilment(state, principal, idempotency_key, body)
    return JSONResponse(
        answer.model_dump(mode="json"),
        status_code=201,
        headers={"Idempotent-Replayed": "true" if replayed else "false"},
    )
