"""The human-review queue: decisions people asked a human to look at again."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from openscore.api.deps import OperatorPrincipal, PageDep, StateDep
from openscore.services import reviews
from openscore.services.schemas import Id, QueuedReviewPublic, ReviewClose, ReviewQueuePublic

router = APIRouter(prefix="/v1/operator/reviews", tags=["operators: reviews"])


@router.get("", response_model=ReviewQueuePublic)
def queue(
    state: StateDep,
    operator: OperatorPrincipal,
    page: PageDep,
    status: Annotated[Literal["requested", "upheld", "overturned"], Query()] = "requested",
) -> ReviewQueuePublic:
    """Oldest request first."""
    return reviews.queue(state, status=status, limit=page.limit)


@router.post("/{review_id}/close", response_model=QueuedReviewPublic)
def close(
    state: StateDep,
    operator: OperatorPrincipal,
    review_id: Annotated[Id, Path(description="the review's id")],
    body: ReviewClose,
) -> QueuedReviewPublic:
    return reviews.close(
        state, review_id, status=body.status, resolution=body.resolution, actor=operator.actor
    )
