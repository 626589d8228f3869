"""My grants: which partner may ask about me, for which products and purpose, how much
it may learn (scope), until when. Revoking one takes effect on the partner's next call."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from openscore import registry
from openscore.api.deps import CurrentSubject, PageDep, StateDep
from openscore.api.presenters import grant_public
from openscore.api.schemas import GrantCreate, GrantPublic, GrantsPublic, Id
from openscore.errors import NotFound

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
    with state.read() as conn:
        grants = registry.list_grants(conn, subject.person_id, active_only=active)
    return GrantsPublic(items=[grant_public(g) for g in grants[: page.limit]])


@router.post("", status_code=201, response_model=GrantPublic)
def create_grant(state: StateDep, subject: CurrentSubject, body: GrantCreate) -> GrantPublic:
    for product in body.products:
        try:
            state.catalogue.get(product)
        except NotFound:
            raise NotFound(f"product {product!r} not found") from None
    now = registry.utc_now()
    with state.write() as conn:
        grant = registry.create_grant(
            conn,
            subject.person_id,
            partner_id=body.partner_id,
            products=body.products,
            purpose=body.purpose,
            scope=body.scope,
            expires_at=now + timedelta(days=body.expires_in_days),
            actor="subject",
            now=now,
        )
    return grant_public(grant)


@router.get("/{grant_id}", response_model=GrantPublic)
def read_grant(state: StateDep, subject: CurrentSubject, grant_id: GrantId) -> GrantPublic:
    with state.read() as conn:
        return grant_public(registry.get_grant(conn, subject.person_id, grant_id))


@router.post("/{grant_id}/revoke", response_model=GrantPublic)
def revoke_grant(state: StateDep, subject: CurrentSubject, grant_id: GrantId) -> GrantPublic:
    with state.write() as conn:
        grant = registry.revoke_grant(conn, subject.person_id, grant_id, actor="subject")
    return grant_public(grant)
