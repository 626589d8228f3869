"""The suppression list: people who were erased stay erased.

An erasure deletes everything the registry holds about a person, but a furnisher does not
know that: a public record or a partner's report that arrives afterwards would otherwise
bring the person back. So erasure adds the person's id to this list — as a keyed hash
(HMAC-SHA256 under a key derived from the settings' secret, through the engine's audit
key), never the id itself — and

* ingestion (files and the API) refuses the events of a listed id, line by line;
* registering a listed id again is refused (:class:`~openscore.errors.Conflict`) unless an
  operator lifts the suppression explicitly (:func:`lift_suppression`, audited), e.g.
  when the person comes back and asks to be registered.

The hash is keyed so that the list cannot be checked against a list of guessed ids by
anyone without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import IntegrityError, NotFound
from openscore.registry import audit
from openscore.registry.engine import audit_key
from openscore.registry.metadata import erased_people, utc_now

_PURPOSE = b"openscore.erased-person.v1"
#: ids checked per query (bound parameters stay well under every backend's limit)
_CHUNK = 500


def _key(conn: Connection) -> bytes:
    key = audit_key(conn)
    if key is None:
        raise IntegrityError(
            "this registry engine has no secret key: create it with "
            "create_registry_engine(url, secret_key=...) to use the erasure suppression list"
        )
    return hmac.new(key, _PURPOSE, hashlib.sha256).digest()


def _hash(key: bytes, person_id: str) -> str:
    return hmac.new(key, person_id.encode(), hashlib.sha256).hexdigest()


def suppress(conn: Connection, person_id: str, *, now: datetime | None = None) -> None:
    """Add an erased person to the list (idempotent; inside the erasure's transaction)."""
    digest = _hash(_key(conn), person_id)
    exists = conn.execute(
        sa.select(erased_people.c.id_hash).where(erased_people.c.id_hash == digest)
    ).first()
    if exists is None:
        conn.execute(erased_people.insert().values(id_hash=digest, erased_at=now or utc_now()))


def is_suppressed(conn: Connection, person_id: str) -> bool:
    return bool(suppressed_ids(conn, [person_id]))


def suppressed_ids(conn: Connection, person_ids: Iterable[str]) -> set[str]:
    """Which of these ids belong to erased people."""
    key = _key(conn)
    by_hash = {_hash(key, p): p for p in set(person_ids)}
    hashes = list(by_hash)
    found: set[str] = set()
    for start in range(0, len(hashes), _CHUNK):
        chunk = hashes[start : start + _CHUNK]
        rows = conn.execute(
            sa.select(erased_people.c.id_hash).where(erased_people.c.id_hash.in_(chunk))
        )
        found.update(by_hash[r.id_hash] for r in rows)
    return found


def lift_suppression(conn: Connection, person_id: str, *, actor: str) -> None:
    """Take an erased id off the list so that it may be registered and ingested again
    (an operator's explicit decision, audited without naming the person).
    :class:`NotFound` if the id is not on the list."""
    digest = _hash(_key(conn), person_id)
    deleted = conn.execute(erased_people.delete().where(erased_people.c.id_hash == digest))
    if not deleted.rowcount:
        raise NotFound("this id is not on the erasure suppression list")
    audit.append(conn, action="person.suppression_lifted", actor=actor)
