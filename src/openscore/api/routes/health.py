"""``GET /v1/health``: the process answers (and nothing else is touched, so that it is
the baseline the decision benchmark compares against)."""

from __future__ import annotations

from fastapi import APIRouter

from openscore.services.schemas import HealthPublic

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health", response_model=HealthPublic)
async def health() -> HealthPublic:
    return HealthPublic(status="ok")
