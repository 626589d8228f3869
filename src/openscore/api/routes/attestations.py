"""Public attestation routes: the signing keys, the revocation status list, and a check
of a token for anyone who holds one (no account)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from openscore.api.deps import StateDep, client_address
from openscore.attestations import Refused
from openscore.services import attestations as service
from openscore.services.schemas_attestations import (
    AttestationStatusList,
    AttestationVerdict,
    AttestationVerify,
)

router = APIRouter(tags=["attestations"])


@router.get("/.well-known/jwks.json", include_in_schema=False)
def jwks(state: StateDep) -> JSONResponse:
    """The public keys that sign attestations (Ed25519, RFC 7517). After a rotation the
    old key stays here as long as a token it signed can live."""
    return JSONResponse(
        service.jwks(state.settings), headers={"Cache-Control": "public, max-age=300"}
    )


@router.get("/v1/attestations/status", response_model=AttestationStatusList)
def status(state: StateDep) -> AttestationStatusList:
    """Revoked attestations that have not expired yet: withdrawn by the person, no longer
    supported by their score, or of an erased account. Ids only."""
    with state.read() as conn:
        return AttestationStatusList.model_validate(service.status_list(conn))


VERIFY_LIMITED = "attestation checks from this address"


@router.post("/v1/attestations/verify", response_model=AttestationVerdict)
def verify(request: Request, state: StateDep, body: AttestationVerify) -> AttestationVerdict:
    """Check a token: 200 with ``valid`` and, when it fails, ``reason``. At most
    ``OPENSCORE_API_ATTESTATION_VERIFICATIONS_PER_IP`` checks per address per window
    (429 with ``Retry-After`` beyond); checking offline with the published keys has no
    limit."""
    state.verifications.attempt(client_address(request), VERIFY_LIMITED)
    try:
        verified = service.check(
            state.engine, state.settings, body.token, audience=body.audience, write=state.write
        )
    except Refused as exc:
        return AttestationVerdict(valid=False, reason=str(exc))
    return AttestationVerdict(
        valid=True,
        id=verified.jti,
        claims=verified.claims,
        as_of=verified.visible.get("as_of"),
        issued_at=verified.issued_at,
        expires_at=verified.expires_at,
        audience=verified.audience,
    )
