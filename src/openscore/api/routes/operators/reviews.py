"""The human-review queue: decisions people asked a human to look at again."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from openscore import registry
from openscore.api.deps import OperatorPrincipal, PageDep, StateDep
from openscore.api.presenters import queued_review_public
from openscore.api.schemas import Id, QueuedReviewPublic, ReviewClose, ReviewQueuePublic

router = APIRouter(prefix="/v1/operator/reviews", tags=["operators: reviews"])


@router.get("", response_model=ReviewQueuePublic)
def queue(
    state: StateDep,
    operator: OperatorPrincipal,
    page: PageDep,
    status: Annotated[Literal["requested", "upheld", "overturned"], Query()] = "requested",
) -> ReviewQueuePublic:
    """Oldest request first."""
    with state.read() as conn:
        found = registry.review_queue(conn, status=status, limit=page.limit)
    return ReviewQueuePublic(items=[queued_review_public(r) for r in found])


@router.post("/{review_id}/close", response_model=QueuedReviewPublic)
def close(
    state: StateDep,
    operator: OperatorPrincipal,
    review_id: Annotated[Id, Path(description="the review's id")],
    body: ReviewClose,
) -> QueuedReviewPublic:
    with state.write() as conn:
        review = registry.close_review(
            conn, review_id, status=body.status, resolution=body.resolution, actor=operator.actor
        )
    return queued_review_public(review)
