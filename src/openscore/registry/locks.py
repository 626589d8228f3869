"""The file lock: a person can freeze their file; while locked, no partner gets a new
decision or a score read (:func:`ensure_unlocked` is what the partner paths call;
:func:`openscore.registry.grants.usable_grant` reads the lock with the grant instead)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import ConsentError
from openscore.registry import audit
from openscore.registry.metadata import file_locks, utc_now
from openscore.registry.people import get_person

LOCKED = "the person has locked their file"


def is_locked(conn: Connection, person_id: str) -> bool:
    return (
        conn.execute(
            sa.select(file_locks.c.person_id).where(file_locks.c.person_id == person_id)
        ).first()
        is not None
    )


def locked_since(conn: Connection, person_id: str) -> datetime | None:
    return conn.execute(
        sa.select(file_locks.c.locked_at).where(file_locks.c.person_id == person_id)
    ).scalar_one_or_none()


def ensure_unlocked(conn: Connection, person_id: str) -> None:
    """:class:`ConsentError` if the person's file is locked."""
    if is_locked(conn, person_id):
        raise ConsentError(LOCKED)


def lock_file(
    conn: Connection, person_id: str, *, actor: str, now: datetime | None = None
) -> datetime:
    """Lock the file (idempotent: locking a locked file changes and logs nothing)."""
    get_person(conn, person_id)
    since = locked_since(conn, person_id)
    if since is not None:
        return since
    now = now or utc_now()
    try:
        with conn.begin_nested():
            conn.execute(file_locks.insert().values(person_id=person_id, locked_at=now))
    except sa.exc.IntegrityError:  # locked concurrently
        return locked_since(conn, person_id) or now
    audit.append(conn, action="file.locked", actor=actor, person_id=person_id, at=now)
    return now


def unlock_file(
    conn: Connection, person_id: str, *, actor: str, now: datetime | None = None
) -> None:
    """Unlock the file (idempotent)."""
    get_person(conn, person_id)
    if not is_locked(conn, person_id):
        return
    conn.execute(file_locks.delete().where(file_locks.c.person_id == person_id))
    audit.append(conn, action="file.unlocked", actor=actor, person_id=person_id, at=now)
