"""Human review of a decision: the person asks, an operator answers (upheld or
overturned). Reading the decision under review is an inquiry the person sees."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import sqlalchemy as sa

from openscore import registry
from openscore.errors import NotFound
from openscore.registry.decisions import ReviewStatus
from openscore.registry.metadata import decision_reviews
from openscore.services.context import Context
from openscore.services.presenters import queued_review_public, review_public
from openscore.services.schemas import QueuedReviewPublic, ReviewPublic, ReviewQueuePublic


def request_review(
    state: Context, person_id: str, decision_id: str, *, reason: str, actor: str
) -> ReviewPublic:
    """Ask for a human to look at the decision again (:class:`Conflict` if already asked)."""
    with state.write() as conn:
        review = registry.request_review(conn, person_id, decision_id, reason=reason, actor=actor)
    return review_public(review)


def queue(state: Context, *, status: str, limit: int) -> ReviewQueuePublic:
    """Oldest request first."""
    with state.read() as conn:
        found = registry.review_queue(conn, status=cast(ReviewStatus, status), limit=limit)
    return ReviewQueuePublic(items=[queued_review_public(r) for r in found])


def close(
    state: Context, review_id: str, *, status: str, resolution: str, actor: str
) -> QueuedReviewPublic:
    with state.write() as conn:
        review = registry.close_review(
            conn,
            review_id,
            status=cast(Literal["upheld", "overturned"], status),
            resolution=resolution,
            actor=actor,
        )
    return queued_review_public(review)


@dataclass(frozen=True)
class UnderReview:
    review: registry.Review
    decision: registry.DecisionRecord


def investigate(state: Context, review_id: str, *, partner_id: str, actor: str) -> UnderReview:
    """The review and the decision it is about, for the operator who answers it. The
    reviewer reads the person's decision: an inquiry, like a dispute's record."""
    with state.read() as conn:
        # By id alone: the registry's reads are per person (as the dispute queue's).
        person_id = conn.execute(
            sa.select(decision_reviews.c.person_id).where(decision_reviews.c.id == review_id)
        ).scalar_one_or_none()
        if person_id is None:
            raise NotFound("review not found")
        review = registry.get_review(conn, person_id, review_id)
        decision = registry.get_decision(conn, review.person_id, review.decision_id)
    with state.write() as conn:
        registry.record_inquiry(
            conn,
            review.person_id,
            partner_id=partner_id,
            purpose="decision_review",
            returned={"review": review.id, "decision": decision.id},
            actor=actor,
        )
    return UnderReview(review=review, decision=decision)
