"""The differential-privacy budget: how much privacy loss each published release spent.

Every release of the city map (or any DP aggregate) spends (epsilon, delta) against a
budget per scope. Recording the spend and checking the cap happen in one transaction, so
two releases cannot both fit into the last bit of budget; the audit log records each
release (publications are state changes, principle 5).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError
from openscore.registry import audit
from openscore.registry.metadata import dp_releases, new_id, utc_now

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True, slots=True)
class DpRelease:
    id: str
    scope: str
    release: str
    epsilon: float
    delta: float
    released_at: datetime
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DpSpend:
    scope: str
    epsilon: float
    delta: float
    releases: int


def _release(row: sa.Row[*tuple[Any, ...]]) -> DpRelease:
    return DpRelease(
        row.id, row.scope, row.release, row.epsilon, row.delta, row.released_at, dict(row.details)
    )


def dp_budget_spent(conn: Connection, scope: str) -> DpSpend:
    """The budget a scope has spent so far (basic composition: the sums)."""
    row = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(dp_releases.c.epsilon), 0.0),
            sa.func.coalesce(sa.func.sum(dp_releases.c.delta), 0.0),
            sa.func.count(),
        ).where(dp_releases.c.scope == scope)
    ).one()
    return DpSpend(scope, float(row[0]), float(row[1]), int(row[2]))


def record_dp_release(
    conn: Connection,
    *,
    scope: str,
    release: str,
    epsilon: float,
    delta: float,
    epsilon_budget: float,
    actor: str,
    delta_budget: float = 1e-6,
    details: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> DpRelease:
    """Spend budget on a release; :class:`Conflict` if it would exceed the budget or the
    release name is taken. Call it in the transaction that publishes the release."""
    for field, value in (("scope", scope), ("release", release)):
        if not _NAME.match(value):
            raise InputError("must be 1-64 of A-Z, a-z, 0-9, '_', '.', '-'", field=field)
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise InputError("must be a positive number", field="epsilon")
    if not (math.isfinite(delta) and 0 <= delta < 1):
        raise InputError("must lie in [0, 1)", field="delta")
    if conn.dialect.name == "postgresql":
        # Two releases of one scope must not both pass the check below: lock the scope
        # until commit. (SQLite transactions are serialised by BEGIN IMMEDIATE.)
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(scope))))
    total = dp_budget_spent(conn, scope)
    if total.epsilon + epsilon > epsilon_budget + 1e-12:
        raise Conflict(
            f"privacy budget of {scope!r} exhausted: spent epsilon {total.epsilon:g} of "
            f"{epsilon_budget:g}, this release needs {epsilon:g}"
        )
    if total.delta + delta > delta_budget + 1e-18:
        raise Conflict(
            f"privacy budget of {scope!r} exhausted: spent delta {total.delta:g} of "
            f"{delta_budget:g}, this release needs {delta:g}"
        )
    now = now or utc_now()
    item = DpRelease(
        new_id(), scope, release, float(epsilon), float(delta), now, dict(details or {})
    )
    try:
        with conn.begin_nested():
            conn.execute(
                dp_releases.insert().values(
                    id=item.id,
                    scope=scope,
                    release=release,
                    epsilon=item.epsilon,
                    delta=item.delta,
                    released_at=now,
                    details=item.details,
                )
            )
    except sa.exc.IntegrityError:
        raise Conflict(f"release {release!r} already exists") from None
    audit.append(
        conn,
        action="dp.released",
        actor=actor,
        subject=f"release:{release}",
        details={"scope": scope, "epsilon": item.epsilon, "delta": item.delta},
        at=now,
    )
    return item


def list_dp_releases(conn: Connection, scope: str | None = None) -> list[DpRelease]:
    query = sa.select(dp_releases).order_by(dp_releases.c.released_at, dp_releases.c.id)
    if scope is not None:
        query = query.where(dp_releases.c.scope == scope)
    return [_release(r) for r in conn.execute(query)]
