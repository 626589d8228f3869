"""A person's grants: which partner may ask about them, for which products and purpose,
how much it may learn (scope), until when. Revoking one takes effect on the partner's
next call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast

from openscore import registry
from openscore.decisions import Catalogue, Product
from openscore.errors import InputError, NotFound
from openscore.registry.grants import Scope
from openscore.registry.partners import Partner
from openscore.services.context import Context
from openscore.services.presenters import grant_public
from openscore.services.schemas import GrantPublic, GrantsPublic


def list_grants(
    state: Context, person_id: str, *, limit: int, active: bool = False
) -> GrantsPublic:
    """Newest first."""
    with state.read() as conn:
        grants = registry.list_grants(conn, person_id, active_only=active)
    return GrantsPublic(items=[grant_public(g) for g in grants[:limit]])


#: What a grant's purpose says, per product kind: a purpose is the kind of a granted product.
PURPOSES = {
    "deposit_waiver": "Deposit-free services",
    "loan": "Loans",
    "perk": "Perks",
}


def offered_products(catalogue: Catalogue, partner: Partner) -> list[Product]:
    """The catalogue products a partner may be granted: those it registered (every product
    for a partner registered before partners declared theirs)."""
    if partner.products is None:
        return list(catalogue.products)
    return [p for p in catalogue.products if p.id in partner.products]


def purposes_of(products: Sequence[Product]) -> list[str]:
    """The purposes a grant for ``products`` may state: their kinds, in catalogue order."""
    out: list[str] = []
    for p in products:
        if p.kind.value not in out:
            out.append(p.kind.value)
    return out


def check_grant(
    catalogue: Catalogue, partner: Partner, products: Sequence[str], purpose: str
) -> None:
    """:class:`NotFound` for a product the catalogue lacks; :class:`InputError` naming the
    field for a product the partner does not offer, or a purpose none of the granted
    products serves."""
    for product in products:
        try:
            catalogue.get(product)
        except NotFound:
            raise NotFound(f"product {product!r} not found") from None
    offered = offered_products(catalogue, partner)
    ids = [p.id for p in offered]
    foreign = [p for p in products if p not in ids]
    if foreign:
        raise InputError(
            f"{', '.join(map(repr, foreign))} is not one of {partner.name}'s products; "
            f"it offers {', '.join(ids) or 'none'}",
            field="products",
        )
    allowed = purposes_of([catalogue.get(p) for p in products])
    if purpose not in allowed:
        raise InputError(
            f"{purpose!r} is not a purpose of the products granted; choose "
            f"{' or '.join(map(repr, allowed))}",
            field="purpose",
        )


def create_grant(
    state: Context,
    person_id: str,
    *,
    partner_id: str,
    products: Sequence[str],
    purpose: str,
    scope: str,
    expires_in_days: int,
    actor: str,
) -> GrantPublic:
    now = registry.utc_now()
    with state.write() as conn:
        check_grant(state.catalogue, registry.get_partner(conn, partner_id), products, purpose)
        grant = registry.create_grant(
            conn,
            person_id,
            partner_id=partner_id,
            products=products,
            purpose=purpose,
            scope=cast(Scope, scope),
            expires_at=now + timedelta(days=expires_in_days),
            actor=actor,
            now=now,
        )
    return grant_public(grant)


def read_grant(state: Context, person_id: str, grant_id: str) -> GrantPublic:
    with state.read() as conn:
        return grant_public(registry.get_grant(conn, person_id, grant_id))


def revoke_grant(state: Context, person_id: str, grant_id: str, *, actor: str) -> GrantPublic:
    with state.write() as conn:
        grant = registry.revoke_grant(conn, person_id, grant_id, actor=actor)
    return grant_public(grant)
