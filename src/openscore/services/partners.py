"""Partners (and operators) and their API keys; the public directory of partners a person
can authorise. A new key's secret is in the answer that creates it and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from openscore import registry
from openscore.errors import InputError
from openscore.registry.partners import Role
from openscore.services import grants
from openscore.services.context import Context
from openscore.services.presenters import api_key_public, partner_public
from openscore.services.schemas import (
    ApiKeyPublic,
    ApiKeysPublic,
    NewApiKeyPublic,
    PartnerDirectoryEntry,
    PartnerDirectoryPublic,
    PartnerPublic,
    PartnersPublic,
)


def directory(state: Context) -> PartnerDirectoryPublic:
    """Active partners (not operators): who a grant can be given to."""
    with state.read() as conn:
        partners = registry.list_partners(conn, role="partner")
    items = []
    for p in partners:
        if not p.active:
            continue
        offered = grants.offered_products(state.catalogue, p)
        items.append(
            PartnerDirectoryEntry(
                id=p.id,
                name=p.name,
                products=[o.id for o in offered],
                purposes=grants.purposes_of(offered),
            )
        )
    return PartnerDirectoryPublic(items=items)


def list_partners(state: Context) -> PartnersPublic:
    with state.read() as conn:
        return PartnersPublic(items=[partner_public(p) for p in registry.list_partners(conn)])


def _known_products(state: Context, products: Sequence[str]) -> None:
    unknown = [p for p in products if p not in state.catalogue.ids]
    if unknown:
        raise InputError(
            f"{', '.join(map(repr, unknown))} is not in the product catalogue "
            f"({', '.join(state.catalogue.ids)})",
            field="products",
        )


def create_partner(
    state: Context,
    *,
    name: str,
    role: str,
    partner_id: str | None,
    actor: str,
    products: Sequence[str] | None = None,
) -> PartnerPublic:
    if products is not None:
        _known_products(state, products)
    with state.write() as conn:
        partner = registry.create_partner(
            conn,
            name=name,
            role=cast(Role, role),
            partner_id=partner_id,
            actor=actor,
            products=products,
        )
    return partner_public(partner)


def set_products(
    state: Context, partner_id: str, products: Sequence[str], *, actor: str
) -> PartnerPublic:
    """Declare the catalogue products a partner offers: people can grant it only these."""
    _known_products(state, products)
    with state.write() as conn:
        return partner_public(
            registry.set_partner_products(conn, partner_id, products, actor=actor)
        )


def read_partner(state: Context, partner_id: str) -> PartnerPublic:
    with state.read() as conn:
        return partner_public(registry.get_partner(conn, partner_id))


def deactivate_partner(state: Context, partner_id: str, *, actor: str) -> PartnerPublic:
    """Switch a partner off: its keys stop working and its grants are refused."""
    with state.write() as conn:
        return partner_public(registry.deactivate_partner(conn, partner_id, actor=actor))


def list_keys(state: Context, partner_id: str) -> ApiKeysPublic:
    with state.read() as conn:
        keys = registry.list_api_keys(conn, partner_id)
    return ApiKeysPublic(items=[api_key_public(k) for k in keys])


def create_key(state: Context, partner_id: str, *, label: str, actor: str) -> NewApiKeyPublic:
    with state.write() as conn:
        new = registry.create_api_key(conn, partner_id, label=label, actor=actor)
    return NewApiKeyPublic(**api_key_public(new.key).model_dump(), secret=new.secret)


def revoke_key(state: Context, partner_id: str, key_id: str, *, actor: str) -> ApiKeyPublic:
    with state.write() as conn:
        key = registry.revoke_api_key(conn, partner_id, key_id, actor=actor)
    return api_key_public(key)
