"""Partners and operators, and their API keys.

A principal (a row of ``partners``) has a role: ``partner`` (a lender, a rental, an
insurer: asks for decisions under a subject's grant) or ``operator`` (runs the platform).
API keys are random 256-bit secrets shown once, at creation; only their SHA-256 is stored
(a slow password hash buys nothing against a key with that much entropy, and a fast one
lets authentication be one index lookup).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import audit
from openscore.registry.grants import check_slug
from openscore.registry.metadata import api_keys, new_id, partners, utc_now

Role = Literal["partner", "operator"]
ROLES: tuple[Role, ...] = ("partner", "operator")
KEY_PREFIX = "osk_"
_PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


@dataclass(frozen=True, slots=True)
class Partner:
    id: str
    name: str
    role: Role
    created_at: datetime
    deactivated_at: datetime | None
    #: the catalogue products it offers; None: registered before partners declared them
    products: tuple[str, ...] | None = None

    @property
    def active(self) -> bool:
        return self.deactivated_at is None


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key, without its secret (which is not stored) or its hash."""

    id: str
    partner_id: str
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key just created: ``secret`` is shown to its owner now and never again."""

    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    """Who an authenticated request comes from."""

    partner_id: str
    role: Role
    key_id: str
    name: str

    @property
    def actor(self) -> str:
        """The audit log's name for this principal."""
        return f"{self.role}:{self.partner_id}"


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _partner(row: sa.Row[*tuple[Any, ...]]) -> Partner:
    products = None if row.products is None else tuple(row.products)
    return Partner(row.id, row.name, row.role, row.created_at, row.deactivated_at, products)


def _key(row: sa.Row[*tuple[Any, ...]]) -> ApiKey:
    return ApiKey(row.id, row.partner_id, row.prefix, row.label, row.created_at, row.revoked_at)


def create_partner(
    conn: Connection,
    *,
    name: str,
    actor: str,
    role: Role = "partner",
    partner_id: str | None = None,
    products: Sequence[str] | None = None,
    now: datetime | None = None,
) -> Partner:
    """Register a partner (or an operator). ``partner_id`` is a slug or a fresh id;
    ``products`` the catalogue products it offers (checked against the catalogue by the
    caller: the registry does not read it)."""
    if role not in ROLES:
        raise InputError(f"must be one of {', '.join(ROLES)}", field="role")
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InputError("must be 1-200 characters", field="name")
    partner_id = partner_id or new_id()
    if not _PARTNER_ID.match(partner_id):
        raise InputError("must be 2-64 of a-z, 0-9, '_' and '-'", field="partner_id")
    now = now or utc_now()
    try:
        with conn.begin_nested():
            conn.execute(
                partners.insert().values(
                    id=partner_id,
                    name=name,
                    role=role,
                    created_at=now,
                    products=None if products is None else _product_list(products),
                )
            )
    except sa.exc.IntegrityError:
        raise Conflict(f"partner {partner_id!r} already exists") from None
    audit.append(
        conn,
        action="partner.created",
        actor=actor,
        subject=f"partner:{partner_id}",
        details={"role": role}
        if products is None
        else {"role": role, "products": _product_list(products)},
        at=now,
    )
    return Partner(
        partner_id,
        name,
        role,
        now,
        None,
        None if products is None else tuple(_product_list(products)),
    )


def _product_list(products: Sequence[str]) -> list[str]:
    """Distinct product ids, in the order given, each a slug."""
    out: list[str] = []
    for product in products:
        check_slug(product, "products")
        if product not in out:
            out.append(product)
    return out


def set_partner_products(
    conn: Connection,
    partner_id: str,
    products: Sequence[str],
    *,
    actor: str,
    now: datetime | None = None,
) -> Partner:
    """Declare the catalogue products a partner offers (replacing any earlier list)."""
    partner = get_partner(conn, partner_id)
    listed = _product_list(products)
    now = now or utc_now()
    conn.execute(partners.update().where(partners.c.id == partner_id).values(products=listed))
    audit.append(
        conn,
        action="partner.products_set",
        actor=actor,
        subject=f"partner:{partner_id}",
        details={"products": listed},
        at=now,
    )
    return replace(partner, products=tuple(listed))


def get_partner(conn: Connection, partner_id: str) -> Partner:
    row = conn.execute(sa.select(partners).where(partners.c.id == partner_id)).one_or_none()
    if row is None:
        raise NotFound(f"partner {partner_id!r} not found")
    return _partner(row)


def list_partners(conn: Connection, *, role: Role | None = None) -> list[Partner]:
    query = sa.select(partners).order_by(partners.c.created_at, partners.c.id)
    if role is not None:
        query = query.where(partners.c.role == role)
    return [_partner(r) for r in conn.execute(query)]


def deactivate_partner(
    conn: Connection, partner_id: str, *, actor: str, now: datetime | None = None
) -> Partner:
    """Switch a partner off: its keys stop authenticating at once (its grants stay, for the
    record, but are refused while it is inactive)."""
    partner = get_partner(conn, partner_id)
    if not partner.active:
        return partner
    now = now or utc_now()
    conn.execute(partners.update().where(partners.c.id == partner_id).values(deactivated_at=now))
    audit.append(
        conn,
        action="partner.deactivated",
        actor=actor,
        subject=f"partner:{partner_id}",
        at=now,
    )
    return replace(partner, deactivated_at=now)


def create_api_key(
    conn: Connection,
    partner_id: str,
    *,
    label: str,
    actor: str,
    now: datetime | None = None,
) -> NewApiKey:
    """A new key for a partner; the returned ``secret`` is the only copy there will be."""
    partner = get_partner(conn, partner_id)
    if not partner.active:
        raise Conflict(f"partner {partner_id!r} is deactivated")
    label = label.strip()
    if not 1 <= len(label) <= 100:
        raise InputError("must be 1-100 characters", field="label")
    now = now or utc_now()
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(new_id(), partner_id, secret[:12], label, now, None)
    conn.execute(
        api_keys.insert().values(
            id=key.id,
            partner_id=partner_id,
            prefix=key.prefix,
            key_hash=hash_api_key(secret),
            label=label,
            created_at=now,
        )
    )
    audit.append(
        conn,
        action="api_key.created",
        actor=actor,
        subject=f"partner:{partner_id}",
        details={"key_id": key.id, "role": partner.role},
        at=now,
    )
    return NewApiKey(key, secret)


def list_api_keys(conn: Connection, partner_id: str) -> list[ApiKey]:
    """A partner's keys (prefix and label only)."""
    get_partner(conn, partner_id)
    rows = conn.execute(
        sa.select(api_keys)
        .where(api_keys.c.partner_id == partner_id)
        .order_by(api_keys.c.created_at, api_keys.c.id)
    )
    return [_key(r) for r in rows]


def revoke_api_key(
    conn: Connection, partner_id: str, key_id: str, *, actor: str, now: datetime | None = None
) -> ApiKey:
    """Revoke one of a partner's keys; another partner's key is :class:`NotFound`."""
    row = conn.execute(
        sa.select(api_keys).where(api_keys.c.id == key_id, api_keys.c.partner_id == partner_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"API key {key_id!r} not found")
    if row.revoked_at is not None:
        return _key(row)
    now = now or utc_now()
    conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(revoked_at=now))
    audit.append(
        conn,
        action="api_key.revoked",
        actor=actor,
        subject=f"partner:{partner_id}",
        details={"key_id": key_id},
        at=now,
    )
    return ApiKey(row.id, row.partner_id, row.prefix, row.label, row.created_at, now)


#: One index probe on the key's SHA-256, with its partner (built once: every partner and
#: operator request runs it).
_AUTHENTICATE = (
    sa.select(api_keys.c.id, partners.c.id.label("partner_id"), partners.c.role, partners.c.name)
    .join(partners, partners.c.id == api_keys.c.partner_id)
    .where(
        api_keys.c.key_hash == sa.bindparam("key_hash"),
        api_keys.c.revoked_at.is_(None),
        partners.c.deactivated_at.is_(None),
    )
)


def authenticate_api_key(conn: Connection, secret: str) -> ApiPrincipal | None:
    """The principal a presented key belongs to, or ``None`` (unknown, revoked, or its
    partner deactivated). The API answers ``None`` with 401 and says no more."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    row = conn.execute(_AUTHENTICATE, {"key_hash": hash_api_key(secret)}).one_or_none()
    if row is None:
        return None
    return ApiPrincipal(row.partner_id, row.role, row.id, row.name)
