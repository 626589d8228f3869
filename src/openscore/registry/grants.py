"""Grants: a person's authorisation for one partner to ask about them.

A grant names the partner, the products it may ask decisions for, the purpose, the scope
of what it may learn, and an expiry; the person can revoke it at any time. Scope is least
privilege by default: ``decision`` (pass/fail and the decision's terms), ``band``
(also the band), ``score`` (also the score, dimensions and reasons).

Two views: the person's (``get_grant(conn, person_id, grant_id)``) and the partner's
(:func:`usable_grant`), each of which answers :class:`NotFound` for someone else's grant
so that ids reveal nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, ConsentError, InputError, NotFound
from openscore.registry import audit
from openscore.registry.locks import LOCKED
from openscore.registry.metadata import file_locks, grants, new_id, partners, utc_now
from openscore.registry.people import get_person
from openscore.registry.webhooks import enqueue_event

Scope = Literal["decision", "band", "score"]
SCOPES: tuple[Scope, ...] = ("decision", "band", "score")
MAX_GRANT_DURATION = timedelta(days=730)
MAX_PRODUCTS = 32
#: Products and purposes are vocabulary, not prose: a slug cannot carry personal data.
SLUG = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    person_id: str
    partner_id: str
    products: tuple[str, ...]
    purpose: str
    scope: Scope
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @property
    def may_see_score(self) -> bool:
        return self.scope == "score"

    @property
    def may_see_band(self) -> bool:
        return self.scope in ("band", "score")

    def active(self, now: datetime | None = None) -> bool:
        now = now or utc_now()
        return self.revoked_at is None and now < self.expires_at


def _grant(row: sa.Row[*tuple[Any, ...]]) -> Grant:
    return Grant(
        id=row.id,
        person_id=row.person_id,
        partner_id=row.partner_id,
        products=tuple(row.products),
        purpose=row.purpose,
        scope=row.scope,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def check_slug(value: str, field: str) -> str:
    if not isinstance(value, str) or not SLUG.match(value):
        raise InputError("must be a lower-case slug (a-z, 0-9, '_', '.', '-')", field=field)
    return value


def _check_grant_of(conn: Connection, grant_id: str, person_id: str, partner_id: str) -> None:
    """NotFound unless ``grant_id`` is ``person_id``'s grant to ``partner_id`` (whatever its
    state: records are kept of reads and decisions under expired or revoked grants too)."""
    found = conn.execute(
        sa.select(grants.c.id).where(
            grants.c.id == grant_id,
            grants.c.person_id == person_id,
            grants.c.partner_id == partner_id,
        )
    ).first()
    if found is None:
        raise NotFound(f"grant {grant_id!r} not found")


def create_grant(
    conn: Connection,
    person_id: str,
    *,
    partner_id: str,
    products: Sequence[str],
    purpose: str,
    expires_at: datetime,
    actor: str,
    scope: Scope = "decision",
    now: datetime | None = None,
) -> Grant:
    """Authorise a partner. ``expires_at`` must lie in the next two years."""
    get_person(conn, person_id)
    row = conn.execute(
        sa.select(partners.c.role, partners.c.deactivated_at).where(partners.c.id == partner_id)
    ).one_or_none()
    if row is None or row.role != "partner":
        raise NotFound(f"partner {partner_id!r} not found")
    if row.deactivated_at is not None:
        raise Conflict(f"partner {partner_id!r} is deactivated")
    if not products or len(products) > MAX_PRODUCTS:
        raise InputError(f"must name 1-{MAX_PRODUCTS} products", field="products")
    products = tuple(dict.fromkeys(check_slug(p, "products") for p in products))
    check_slug(purpose, "purpose")
    if scope not in SCOPES:
        raise InputError(f"must be one of {', '.join(SCOPES)}", field="scope")
    now = now or utc_now()
    if expires_at.tzinfo is None:
        raise InputError("must carry a time zone", field="expires_at")
    if not now < expires_at <= now + MAX_GRANT_DURATION:
        raise InputError("must lie in the future and at most two years ahead", field="expires_at")
    grant = Grant(new_id(), person_id, partner_id, products, purpose, scope, now, expires_at, None)
    conn.execute(
        grants.insert().values(
            id=grant.id,
            person_id=person_id,
            partner_id=partner_id,
            products=list(products),
            purpose=purpose,
            scope=scope,
            created_at=now,
            expires_at=expires_at,
        )
    )
    audit.append(
        conn,
        action="grant.created",
        actor=actor,
        person_id=person_id,
        details={
            "partner": partner_id,
            "products": list(products),
            "purpose": purpose,
            "scope": scope,
            "expires_at": audit.format_time(expires_at),
        },
        linked={"grant": grant.id},
        at=now,
    )
    return grant


def get_grant(conn: Connection, person_id: str, grant_id: str) -> Grant:
    """One of the person's grants; another person's is :class:`NotFound`."""
    row = conn.execute(
        sa.select(grants).where(grants.c.id == grant_id, grants.c.person_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"grant {grant_id!r} not found")
    return _grant(row)


def list_grants(
    conn: Connection, person_id: str, *, active_only: bool = False, now: datetime | None = None
) -> list[Grant]:
    """A person's grants, newest first."""
    query = (
        sa.select(grants)
        .where(grants.c.person_id == person_id)
        .order_by(grants.c.created_at.desc(), grants.c.id)
    )
    if active_only:
        query = query.where(grants.c.revoked_at.is_(None), grants.c.expires_at > (now or utc_now()))
    return [_grant(r) for r in conn.execute(query)]


def revoke_grant(
    conn: Connection, person_id: str, grant_id: str, *, actor: str, now: datetime | None = None
) -> Grant:
    """Revoke a grant at once; :class:`Conflict` if it already was."""
    grant = get_grant(conn, person_id, grant_id)
    if grant.revoked_at is not None:
        raise Conflict(f"grant {grant_id!r} is already revoked")
    now = max(now or utc_now(), grant.created_at)
    conn.execute(grants.update().where(grants.c.id == grant_id).values(revoked_at=now))
    audit.append(
        conn,
        action="grant.revoked",
        actor=actor,
        person_id=person_id,
        details={"partner": grant.partner_id},
        linked={"grant": grant_id},
        at=now,
    )
    # the partner learns at once that it must stop using what it was given
    enqueue_event(
        conn,
        grant.partner_id,
        "grant.revoked",
        {"grant_id": grant_id, "person_id": person_id, "revoked_at": now.isoformat()},
        now=now,
    )
    return replace(grant, revoked_at=now)


#: The grant a partner presents, with what else decides whether it is usable now: its
#: partner's deactivation and the person's file lock (one statement on the hot path).
_USABLE_GRANT = (
    sa.select(
        grants,
        partners.c.deactivated_at.label("partner_deactivated_at"),
        file_locks.c.locked_at.label("file_locked_at"),
    )
    .join(partners, partners.c.id == grants.c.partner_id)
    .outerjoin(file_locks, file_locks.c.person_id == grants.c.person_id)
    .where(
        grants.c.id == sa.bindparam("grant_id"), grants.c.partner_id == sa.bindparam("partner_id")
    )
)


def usable_grant(
    conn: Connection,
    *,
    partner_id: str,
    grant_id: str,
    product_id: str | None = None,
    now: datetime | None = None,
) -> Grant:
    """The partner's side: the grant it presents, checked for use now.

    :class:`NotFound` if the grant is not this partner's (or does not exist);
    :class:`ConsentError` if it is revoked, expired, does not cover ``product_id``, the
    partner is deactivated, or the person has locked their file.
    """
    row = conn.execute(
        _USABLE_GRANT, {"grant_id": grant_id, "partner_id": partner_id}
    ).one_or_none()
    if row is None:
        raise NotFound(f"grant {grant_id!r} not found")
    grant = _grant(row)
    now = now or utc_now()
    if row.partner_deactivated_at is not None:
        raise ConsentError("this partner is deactivated")
    if grant.revoked_at is not None:
        raise ConsentError("the person has revoked this grant")
    if now >= grant.expires_at:
        raise ConsentError("this grant has expired")
    if product_id is not None and product_id not in grant.products:
        raise ConsentError(f"this grant does not cover the product {product_id!r}")
    if row.file_locked_at is not None:
        raise ConsentError(LOCKED)
    return grant
