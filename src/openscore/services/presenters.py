"""Registry records in their public shapes (one function per entity).

Kept apart from the routes because the subject's and the operator's views of disputes
and reviews are the same record seen by two audiences, and the web portal renders the
same shapes.
"""

from __future__ import annotations

from datetime import datetime

from openscore.domain.sources import SOURCE_DESCRIPTIONS, Source
from openscore.registry import (
    ApiKey,
    Consent,
    DecisionRecord,
    Dispute,
    Grant,
    Inquiry,
    Partner,
    Review,
    utc_now,
)
from openscore.services.records import LedgerRecord
from openscore.services.schemas import (
    AdverseReasonPublic,
    ApiKeyPublic,
    ConsentPublic,
    DecisionPublic,
    DisputePublic,
    GrantPublic,
    InquiryPublic,
    PartnerPublic,
    QueuedDisputePublic,
    QueuedReviewPublic,
    RecordPublic,
    ReviewPublic,
)


def grant_public(grant: Grant, now: datetime | None = None) -> GrantPublic:
    return GrantPublic(
        id=grant.id,
        person_id=grant.person_id,
        partner_id=grant.partner_id,
        products=list(grant.products),
        purpose=grant.purpose,
        scope=grant.scope,
        created_at=grant.created_at,
        expires_at=grant.expires_at,
        revoked_at=grant.revoked_at,
        active=grant.active(now),
    )


def consent_public(source: Source, consent: Consent | None) -> ConsentPublic:
    shared = consent is not None and consent.current
    return ConsentPublic(
        source=source.value,
        shared=shared,
        since=(consent.granted_at if shared else consent.revoked_at) if consent else None,
        description=SOURCE_DESCRIPTIONS[source],
    )


def inquiry_public(inquiry: Inquiry) -> InquiryPublic:
    return InquiryPublic(
        id=inquiry.id,
        partner_id=inquiry.partner_id,
        grant_id=inquiry.grant_id,
        purpose=inquiry.purpose,
        returned=inquiry.returned,
        at=inquiry.at,
        audit_seq=inquiry.audit_seq,
    )


def review_public(review: Review) -> ReviewPublic:
    return ReviewPublic(
        id=review.id,
        decision_id=review.decision_id,
        reason=review.reason,
        status=review.status,
        requested_at=review.requested_at,
        resolved_at=review.resolved_at,
        resolution=review.resolution,
    )


def queued_review_public(review: Review) -> QueuedReviewPublic:
    return QueuedReviewPublic(**review_public(review).model_dump(), person_id=review.person_id)


def decision_public(record: DecisionRecord, review: Review | None) -> DecisionPublic:
    return DecisionPublic(
        id=record.id,
        partner_id=record.partner_id,
        grant_id=record.grant_id,
        product_id=record.product_id,
        outcome=record.outcome,
        score=record.score,
        band=record.band,
        terms=record.terms,
        reasons=[AdverseReasonPublic.model_validate(r) for r in record.reasons],
        decided_at=record.decided_at,
        review=review_public(review) if review else None,
    )


def dispute_public(dispute: Dispute) -> DisputePublic:
    return DisputePublic(
        id=dispute.id,
        record_ref=dispute.record_ref,
        reason=dispute.reason,
        status=dispute.status,
        exclude_while_open=dispute.exclude_while_open,
        filed_at=dispute.filed_at,
        deadline=dispute.deadline,
        resolved_at=dispute.resolved_at,
        resolution=dispute.resolution,
        overdue=dispute.overdue(utc_now()),
    )


def queued_dispute_public(dispute: Dispute) -> QueuedDisputePublic:
    return QueuedDisputePublic(**dispute_public(dispute).model_dump(), person_id=dispute.person_id)


def record_public(record: LedgerRecord, disputed: bool) -> RecordPublic:
    return RecordPublic(
        record_ref=record.record_ref,
        furnisher_id=record.furnisher_id,
        event_id=record.event_id,
        type=record.type,
        source=record.source,
        occurred_at=record.occurred_at,
        fields=record.fields,
        disputed=disputed,
    )


def partner_public(partner: Partner) -> PartnerPublic:
    return PartnerPublic(
        id=partner.id,
        name=partner.name,
        role=partner.role,
        created_at=partner.created_at,
        deactivated_at=partner.deactivated_at,
        active=partner.active,
        products=None if partner.products is None else list(partner.products),
    )


def api_key_public(key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=key.id,
        partner_id=key.partner_id,
        prefix=key.prefix,
        label=key.label,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
