"""Idempotency keys: a retried request returns the first answer instead of acting twice.

A partner reporting fulfilment (``POST /v1/fulfilment``) sends an ``Idempotency-Key``;
the first request with a key runs and its response is stored in the same transaction as
its effects; a retry with the same key and the same body gets the stored response back;
the same key with a different body is a :class:`Conflict` (the client reused a key, and
guessing which body it meant would be wrong either way). Keys are scoped to the principal,
so two partners cannot collide or probe each other's keys.

Concurrent twins: the key is claimed (inserted) before the action runs, so on PostgreSQL
the second request waits on the first's uncommitted row and then replays the committed
answer; SQLite runs one writer at a time anyway.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import Conflict, InputError
from openscore.registry.audit import canonical_json
from openscore.registry.metadata import idempotency_keys, utc_now

_KEY = re.compile(r"^[!-~]{1,128}$")


@dataclass(frozen=True, slots=True)
class IdempotentResult:
    response: dict[str, Any]
    replayed: bool


def request_hash(request: Mapping[str, Any] | bytes) -> str:
    """SHA-256 of the request: of its canonical JSON, so key order and spacing do not count."""
    body = request if isinstance(request, bytes) else canonical_json(request)
    return hashlib.sha256(body).hexdigest()


def _stored(conn: Connection, principal: str, key: str) -> sa.Row[*tuple[Any, ...]] | None:
    return conn.execute(
        sa.select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
            idempotency_keys.c.principal == principal, idempotency_keys.c.key == key
        )
    ).one_or_none()


def _replay(row: sa.Row[*tuple[Any, ...]], digest: str) -> IdempotentResult:
    if row.request_hash != digest:
        raise Conflict("this Idempotency-Key was already used with a different request")
    return IdempotentResult(dict(row.response), replayed=True)


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        raise InputError("must be 1-128 printable characters", field="Idempotency-Key")


def stored_answer(
    conn: Connection, *, principal: str, key: str, request: Mapping[str, Any] | bytes
) -> IdempotentResult | None:
    """The stored answer of an earlier request with this key (a replay), None if the key is
    unused, :class:`Conflict` if it was used with another request. A read: callers whose
    action is slow look first, on a read connection, before they act and claim the key."""
    _check_key(key)
    row = _stored(conn, principal, key)
    if row is None or not row.response:  # not yet claimed, or claimed and not yet answered
        return None
    return _replay(row, request_hash(request))


def run_idempotent(
    conn: Connection,
    *,
    principal: str,
    key: str,
    request: Mapping[str, Any] | bytes,
    action: Callable[[], Mapping[str, Any]],
    person_id: str | None = None,
    now: datetime | None = None,
) -> IdempotentResult:
    """Run ``action`` once per (principal, key); replay its response for the same request.

    ``action`` runs inside the caller's transaction: if it raises, nothing is stored and
    the key stays free for a retry. ``person_id`` ties the stored response to a person so
    that erasing them removes it.
    """
    _check_key(key)
    digest = request_hash(request)
    row = _stored(conn, principal, key)
    if row is not None:
        return _replay(row, digest)
    # Claim the key before acting: a concurrent twin blocks on this uncommitted row (on
    # PostgreSQL) and, once we commit, replays our answer instead of acting again.
    try:
        with conn.begin_nested():
            conn.execute(
                idempotency_keys.insert().values(
                    principal=principal,
                    key=key,
                    request_hash=digest,
                    response={},
                    person_id=person_id,
                    created_at=now or utc_now(),
                )
            )
    except sa.exc.IntegrityError:
        row = _stored(conn, principal, key)
        if row is None:  # the twin rolled back: its claim is gone, so is any effect
            raise Conflict("a request with this Idempotency-Key failed meanwhile; retry") from None
        return _replay(row, digest)
    response = dict(action())
    conn.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
        .values(response=response)
    )
    return IdempotentResult(response, replayed=False)


def purge_idempotency_keys(conn: Connection, *, older_than: datetime) -> int:
    """Forget keys stored before ``older_than`` (clients retry within hours, not months)."""
    result = conn.execute(
        idempotency_keys.delete().where(idempotency_keys.c.created_at < older_than)
    )
    return int(result.rowcount or 0)
