"""Partners (and operators) and their API keys. A new key's secret is in the answer that
creates it and nowhere else, ever."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore import registry
from openscore.api.deps import OperatorPrincipal, StateDep
from openscore.api.presenters import api_key_public, partner_public
from openscore.api.schemas import (
    ApiKeyCreate,
    ApiKeyPublic,
    ApiKeysPublic,
    Id,
    NewApiKeyPublic,
    PartnerCreate,
    PartnerId,
    PartnerPublic,
    PartnersPublic,
)

router = APIRouter(prefix="/v1/operator/partners", tags=["operators: partners"])

PartnerPath = Annotated[PartnerId, Path(description="the partner's id")]
KeyPath = Annotated[Id, Path(description="the key's id")]


@router.get("", response_model=PartnersPublic)
def list_partners(state: StateDep, operator: OperatorPrincipal) -> PartnersPublic:
    with state.read() as conn:
        return PartnersPublic(items=[partner_public(p) for p in registry.list_partners(conn)])


@router.post("", status_code=201, response_model=PartnerPublic)
def create_partner(
    state: StateDep, operator: OperatorPrincipal, body: PartnerCreate
) -> PartnerPublic:
    with state.write() as conn:
        partner = registry.create_partner(
            conn,
            name=body.name,
            role=body.role,
            partner_id=body.partner_id,
            actor=operator.actor,
        )
    return partner_public(partner)


@router.get("/{partner_id}", response_model=PartnerPublic)
def read_partner(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath
) -> PartnerPublic:
    with state.read() as conn:
        return partner_public(registry.get_partner(conn, partner_id))


@router.post("/{partner_id}/deactivate", response_model=PartnerPublic)
def deactivate_partner(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath
) -> PartnerPublic:
    """Switch a partner off: its keys stop working and its grants are refused."""
    with state.write() as conn:
        return partner_public(registry.deactivate_partner(conn, partner_id, actor=operator.actor))


@router.get("/{partner_id}/keys", response_model=ApiKeysPublic)
def list_keys(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath
) -> ApiKeysPublic:
    with state.read() as conn:
        keys = registry.list_api_keys(conn, partner_id)
    return ApiKeysPublic(items=[api_key_public(k) for k in keys])


@router.post("/{partner_id}/keys", status_code=201, response_model=NewApiKeyPublic)
def create_key(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath, body: ApiKeyCreate
) -> NewApiKeyPublic:
    with state.write() as conn:
        new = registry.create_api_key(conn, partner_id, label=body.label, actor=operator.actor)
    return NewApiKeyPublic(**api_key_public(new.key).model_dump(), secret=new.secret)


@router.post("/{partner_id}/keys/{key_id}/revoke", response_model=ApiKeyPublic)
def revoke_key(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath, key_id: KeyPath
) -> ApiKeyPublic:
    with state.write() as conn:
        key = registry.revoke_api_key(conn, partner_id, key_id, actor=operator.actor)
    return api_key_public(key)
