"""My grants: which partner may ask about me, for which products and purpose, how much
it may learn (scope), until when. Revoking one takes effect on the partner's next call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from openscore.api.deps import CurrentSubject, PageDep, StateDep
from openscore.services import grants
from openscore.services.schemas import GrantCreate, GrantPublic, GrantsPublic, Id

router = APIRouter(prefix="/v1/me/grants", tags=["subjects: grants"])

GrantId = Annotated[Id, Path(description="the grant's id")]


@router.get("", response_model=GrantsPublic)
def list_grants(
    state: StateDep,
    subject: CurrentSubject,
    page: PageDep,
    active: Annotated[bool, Query(description="only grants usable now")] = False,
) -> GrantsPublic:
    """Newest first."""
    return grants.list_grants(state, subject.person_id, limit=page.limit, active=active)


@router.post("", status_code=201, response_model=GrantPublic)
def create_grant(state: StateDep, subject: CurrentSubject, body: GrantCreate) -> GrantPublic:
    return grants.create_grant(
        state,
        subject.person_id,
        partner_id=body.partner_id,
        products=body.products,
        purpose=body.purpose,
        scope=body.scope,
        expires_in_days=body.expires_in_days,
        actor="subject",
    )


@router.get("/{grant_id}", response_model=GrantPublic)
def read_grant(state: StateDep, subject: CurrentSubject, grant_id: GrantId) -> GrantPublic:
    return grants.read_grant(state, subject.person_id, grant_id)


@router.post("/{grant_id}/revoke", response_model=GrantPublic)
def revoke_grant(state: StateDep, subject: CurrentSubject, grant_id: GrantId) -> GrantPublic:
    return grants.revoke_grant(state, subject.person_id, grant_id, actor="subject")
