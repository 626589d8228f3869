"""A person's grants: which partner may ask about them, for which products and purpose,
how much it may learn (scope), until when. Revoking one takes effect on the partner's
next call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import cast

from openscore import registry
from openscore.errors import NotFound
from openscore.registry.grants import Scope
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
    for product in products:
        try:
            state.catalogue.get(product)
        except NotFound:
            raise NotFound(f"product {product!r} not found") from None
    now = registry.utc_now()
    with state.write() as conn:
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
