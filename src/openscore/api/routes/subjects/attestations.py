"""My score attestations: prove a claim about my score to anyone, revealing only it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from openscore import registry
from openscore.api.deps import CurrentSubject, PageDep, StateDep
from openscore.attestations import ClaimRequest
from openscore.registry import attestations as store
from openscore.services import attestations as service
from openscore.services.schemas import Id
from openscore.services.schemas_attestations import (
    AttestationCreate,
    AttestationIssued,
    AttestationPublic,
    AttestationsPublic,
)
from openscore.services.scores import current_or_publish

router = APIRouter(prefix="/v1/me/attestations", tags=["subjects: attestations"])


def attestation_public(att: store.Attestation) -> AttestationPublic:
    return AttestationPublic(
        id=att.id,
        claims=att.claims,
        audience=att.audience,
        issued_at=att.issued_at,
        expires_at=att.expires_at,
        status=att.status(registry.utc_now()),  # type: ignore[arg-type]
        revoked_at=att.revoked_at,
        revoked_reason=att.revoked_reason,
    )


@router.get("", response_model=AttestationsPublic)
def list_attestations(
    state: StateDep, subject: CurrentSubject, page: PageDep
) -> AttestationsPublic:
    """Newest first."""
    with state.read() as conn:
        items = store.list_attestations(conn, subject.person_id, limit=page.limit)
    return AttestationsPublic(items=[attestation_public(a) for a in items])


@router.post("", status_code=201, response_model=AttestationIssued)
def issue_attestation(
    request: Request, state: StateDep, subject: CurrentSubject, body: AttestationCreate
) -> AttestationIssued:
    """Sign the chosen claims (422 naming the claim when the current score does not
    support it). Issuing is an inquiry you see; so is every check openscore answers."""
    current_or_publish(state, subject.person_id, actor="subject")
    issued = service.issue(
        state.engine,
        state.settings,
        subject.person_id,
        ClaimRequest(
            min_score=body.min_score,
            band_at_least=body.band_at_least,
            no_public_record=body.no_public_record,
            exact_score=body.exact_score,
        ),
        expires_in_days=body.expires_in_days,
        audience=body.audience,
        records_of=state.public_records.live_for,
        write=state.write,
    )
    public = attestation_public(issued.attestation)
    return AttestationIssued(
        **public.model_dump(),
        token=issued.token,
        verify_url=str(request.base_url).rstrip("/") + "/verify#" + issued.token,
    )


@router.post("/{attestation_id}/revoke", response_model=AttestationPublic)
def revoke_attestation(
    state: StateDep,
    subject: CurrentSubject,
    attestation_id: Annotated[Id, Path(description="the attestation's id")],
) -> AttestationPublic:
    """Withdraw it: it goes on the public status list at once (409 if already revoked)."""
    with state.write() as conn:
        att = store.revoke_attestation(conn, subject.person_id, attestation_id)
    return attestation_public(att)
