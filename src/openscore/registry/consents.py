"""Consents: one opt-in per person and source, with its history.

A row is one period of consent: granted at, revoked at (null while current). The current
consents are the open periods; a unique partial index keeps at most one per source.
Only :data:`CONSENTABLE_SOURCES` can be consented to: public records are held on a legal
basis, not on consent. What a revocation does to the ledger and the score (purge,
rescore) is the caller's to run in the same request; the registry records the decision.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.domain import CONSENTABLE_SOURCES, Source
from openscore.errors import Conflict, InputError
from openscore.registry import audit
from openscore.registry.metadata import consents, new_id, utc_now
from openscore.registry.people import get_person

_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class Consent:
    id: str
    person_id: str
    source: Source
    granted_at: datetime
    revoked_at: datetime | None

    @property
    def current(self) -> bool:
        return self.revoked_at is None


def _source(source: Source | str) -> Source:
    try:
        value = Source(source)
    except ValueError:
        raise InputError(f"unknown source {source!r}", field="source") from None
    if value not in CONSENTABLE_SOURCES:
        raise InputError(f"{value.value} is held on a legal basis, not on consent", field="source")
    return value


def _consent(row: sa.Row[*tuple[Any, ...]]) -> Consent:
    return Consent(row.id, row.person_id, Source(row.source), row.granted_at, row.revoked_at)


def _current_row(
    conn: Connection, person_id: str, source: Source
) -> sa.Row[*tuple[Any, ...]] | None:
    return conn.execute(
        sa.select(consents).where(
            consents.c.person_id == person_id,
            consents.c.source == source.value,
            consents.c.revoked_at.is_(None),
        )
    ).one_or_none()


def grant_consent(
    conn: Connection,
    person_id: str,
    source: Source | str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Consent:
    """Consent to a source. Granting what is already granted returns the current consent
    unchanged (and logs nothing): a double click is not a new decision."""
    source = _source(source)
    get_person(conn, person_id)
    current = _current_row(conn, person_id, source)
    if current is not None:
        return _consent(current)
    now = now or utc_now()
    consent_id = new_id()
    try:
        with conn.begin_nested():
            conn.execute(
                consents.insert().values(
                    id=consent_id, person_id=person_id, source=source.value, granted_at=now
                )
            )
    except sa.exc.IntegrityError:  # granted concurrently: theirs is as good as ours
        current = _current_row(conn, person_id, source)
        if current is None:
            raise
        return _consent(current)
    audit.append(
        conn,
        action="consent.granted",
        actor=actor,
        person_id=person_id,
        details={"source": source.value},
        linked={"consent": consent_id},
        at=now,
    )
    return Consent(consent_id, person_id, source, now, None)


def revoke_consent(
    conn: Connection,
    person_id: str,
    source: Source | str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Consent:
    """Revoke the current consent to a source; :class:`Conflict` if there is none."""
    source = _source(source)
    get_person(conn, person_id)
    current = _current_row(conn, person_id, source)
    if current is None:
        raise Conflict(f"{source.value} is not shared: there is nothing to revoke")
    now = max(now or utc_now(), current.granted_at)
    conn.execute(consents.update().where(consents.c.id == current.id).values(revoked_at=now))
    audit.append(
        conn,
        action="consent.revoked",
        actor=actor,
        person_id=person_id,
        details={"source": source.value},
        linked={"consent": current.id},
        at=now,
    )
    return Consent(current.id, person_id, source, current.granted_at, now)


def current_consents(conn: Connection, person_id: str) -> dict[Source, Consent]:
    """The sources a person shares now, with when they granted each."""
    get_person(conn, person_id)
    rows = conn.execute(
        sa.select(consents).where(
            consents.c.person_id == person_id, consents.c.revoked_at.is_(None)
        )
    )
    return {Source(r.source): _consent(r) for r in rows}


def consent_history(conn: Connection, person_id: str) -> list[Consent]:
    """Every consent period of a person, oldest first."""
    get_person(conn, person_id)
    rows = conn.execute(
        sa.select(consents)
        .where(consents.c.person_id == person_id)
        .order_by(consents.c.granted_at, consents.c.source, consents.c.id)
    )
    return [_consent(r) for r in rows]


def consent_map(
    conn: Connection, person_ids: Iterable[str] | None = None
) -> dict[str, frozenset[Source]]:
    """Person -> the sources they share now, for the ingestion gate (one query per batch).

    People without any current consent are absent; ``None`` means everyone.
    """
    query = sa.select(consents.c.person_id, consents.c.source).where(
        consents.c.revoked_at.is_(None)
    )
    if person_ids is None:
        queries = [query]
    else:
        wanted = sorted(set(person_ids))
        # Chunked: SQLite caps the number of bound parameters in one statement.
        queries = [
            query.where(consents.c.person_id.in_(wanted[i : i + _CHUNK]))
            for i in range(0, len(wanted), _CHUNK)
        ]
    found: dict[str, set[Source]] = {}
    for chunk in queries:
        for row in conn.execute(chunk):
            found.setdefault(row.person_id, set()).add(Source(row.source))
    return {person: frozenset(sources) for person, sources in found.items()}
