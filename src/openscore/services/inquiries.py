"""Who looked at a person's data: every inquiry, what it returned, and a proof that it is
in the tamper-evident audit log."""

from __future__ import annotations

from datetime import datetime

from openscore import registry
from openscore.services.context import Context
from openscore.services.presenters import inquiry_public
from openscore.services.schemas import InclusionProofPublic, InquiriesPublic, InquiryPublic


def list_inquiries(
    state: Context, person_id: str, *, limit: int, before: datetime | None = None
) -> InquiriesPublic:
    """Newest first; follow ``next_before`` for older ones."""
    with state.read() as conn:
        found = registry.list_inquiries(conn, person_id, limit=limit, before=before)
    return InquiriesPublic(
        items=[inquiry_public(i) for i in found],
        next_before=found[-1].at if len(found) == limit else None,
    )


def read_inquiry(state: Context, person_id: str, inquiry_id: str) -> InquiryPublic:
    with state.read() as conn:
        return inquiry_public(registry.get_inquiry(conn, person_id, inquiry_id))


def prove_inquiry(state: Context, person_id: str, inquiry_id: str) -> InclusionProofPublic:
    """The audit path from the entry that recorded the inquiry to the log's current root,
    checked here with the log's key before it is handed out."""
    with state.read() as conn:
        proof = registry.inquiry_proof(conn, person_id, inquiry_id)
    verified = proof.verify(registry.derive_audit_key(state.settings.secret_key))
    return InclusionProofPublic(**proof.to_json(), verified=verified)
