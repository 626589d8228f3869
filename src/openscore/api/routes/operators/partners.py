"""Partners (and operators) and their API keys. A new key's secret is in the answer that
creates it and nowhere else, ever."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from openscore.api.deps import OperatorPrincipal, StateDep
from openscore.services import partners
from openscore.services.schemas import (
    ApiKeyCreate,
    ApiKeyPublic,
    ApiKeysPublic,
    Id,
    NewApiKeyPublic,
    PartnerCreate,
    PartnerId,
    PartnerProductsSet,
    PartnerPublic,
    PartnersPublic,
)

router = APIRouter(prefix="/v1/operator/partners", tags=["operators: partners"])

PartnerPath = Annotated[PartnerId, Path(description="the partner's id")]
KeyPath = Annotated[Id, Path(description="the key's id")]


@router.get("", response_model=PartnersPublic)
def list_partners(state: StateDep, operator: OperatorPrincipal) -> PartnersPublic:
    return partners.list_partners(state)


@router.post("", status_code=201, response_model=PartnerPublic)
def create_partner(
    state: StateDep, operator: OperatorPrincipal, body: PartnerCreate
) -> PartnerPublic:
    return partners.create_partner(
        state,
        name=body.name,
        role=body.role,
        partner_id=body.partner_id,
        actor=operator.actor,
        products=body.products,
    )


@router.put("/{partner_id}/products", response_model=PartnerPublic)
def set_products(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath, body: PartnerProductsSet
) -> PartnerPublic:
    """Declare the catalogue products a partner offers: a person can grant it only these,
    and its grants' purposes are these products' kinds."""
    return partners.set_products(state, partner_id, body.products, actor=operator.actor)


@router.get("/{partner_id}", response_model=PartnerPublic)
def read_partner(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath
) -> PartnerPublic:
    return partners.read_partner(state, partner_id)


@router.post("/{partner_id}/deactivate", response_model=PartnerPublic)
def deactivate_partner(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath
) -> PartnerPublic:
    """Switch a partner off: its keys stop working and its grants are refused."""
    return partners.deactivate_partner(state, partner_id, actor=operator.actor)


@router.get("/{partner_id}/keys", response_model=ApiKeysPublic)
def list_keys(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath
) -> ApiKeysPublic:
    return partners.list_keys(state, partner_id)


@router.post("/{partner_id}/keys", status_code=201, response_model=NewApiKeyPublic)
def create_key(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath, body: ApiKeyCreate
) -> NewApiKeyPublic:
    return partners.create_key(state, partner_id, label=body.label, actor=operator.actor)


@router.post("/{partner_id}/keys/{key_id}/revoke", response_model=ApiKeyPublic)
def revoke_key(
    state: StateDep, operator: OperatorPrincipal, partner_id: PartnerPath, key_id: KeyPath
) -> ApiKeyPublic:
    return partners.revoke_key(state, partner_id, key_id, actor=operator.actor)
