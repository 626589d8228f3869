"""Consent changes and erasure, carried through every store at once.

A revocation is recorded in the registry, the person's events of that source are purged
from the ledger, and a new score is published — in that order; ingestion refuses the
source from the registry's commit on. An erasure deletes the person from the registry,
then their rows from the ledger. Neither pair of steps can commit together, so each
operation records its intent in the ledger's manifest before its first step and clears
it after its last (``openscore.ledger.pending``): a crash in between leaves the intent,
and :func:`recover` — run by the API in the background and by ``openscore ledger verify
--repair`` — finishes the job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy.engine import Engine

from openscore.config import Settings, get_settings
from openscore.domain.sources import Source
from openscore.errors import Conflict, InputError, IntegrityError, NotFound
from openscore.jobs.score import published_reason
from openscore.ledger import Ledger, PendingOp, erase_person, pending_operations, purge_source
from openscore.ledger.pending import begin, finish
from openscore.online.person import rescore
from openscore.registry import (
    ScoreToPublish,
    consent_history,
    consent_map,
    current_consents,
    excluded_records,
    grant_consent,
    person_exists,
    publish_score,
    read_only,
    revoke_consent,
    suppressed_ids,
)
from openscore.registry import erase_person as erase_registry_person
from openscore.scoring.person import ScoreResult

#: how far apart the clocks of the registry writer and the ledger writer may be
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Rescored:
    result: ScoreResult
    features: dict[str, Any]
    published_id: int
    seconds: float


def publish(
    engine: Engine, person_id: str, *, actor: str, settings: Settings | None = None
) -> Rescored:
    """Rescore a person from the ledger and publish it as their current score."""
    started = time.perf_counter()
    settings = settings or get_settings()
    with engine.connect() as conn:
        excluded = excluded_records(conn, [person_id]).get(person_id, frozenset())
    result, features = rescore(person_id, excluded=excluded, settings=settings)
    if result.as_of is None:
        raise IntegrityError(f"the rescore of {person_id!r} has no as-of date")
    with engine.begin() as conn:
        published = publish_score(
            conn,
            ScoreToPublish(
                person_id=person_id,
                score=result.score,
                band=result.band,
                dimensions=result.dimensions,
                reasons=[
                    published_reason(
                        r.code, r.text, r.improve, points=r.points_lost, missing=r.missing
                    )
                    for r in result.reasons
                ],
                model_id=result.model_id,
                as_of=datetime.fromisoformat(result.as_of).replace(tzinfo=UTC),
                status=result.status,
                helps=[h.to_dict() for h in result.helps],
                contributions=dict(result.contributions) if result.scored else None,
            ),
            actor=actor,
            change_points=settings.score_change_points,
        )
    return Rescored(result, features, published.id, time.perf_counter() - started)


def revoke_source(
    engine: Engine,
    person_id: str,
    source: Source | str,
    *,
    actor: str,
    settings: Settings | None = None,
) -> Rescored:
    """Revoke a source: registry, then purge the ledger, then publish the new score.

    The intent is recorded in the ledger first (``ledger/pending.py``), so that a crash
    after the registry's commit still ends with the events purged and the score
    republished (:func:`recover`)."""
    settings = settings or get_settings()
    ledger = Ledger.open(settings)
    op = begin(ledger, PendingOp("consent_purge", person_id, Source(source).value, actor))
    try:
        with engine.begin() as conn:
            revoke_consent(conn, person_id, source, actor=actor)
    except (Conflict, NotFound, InputError):
        # A definite "no" (nothing shared to revoke, no such person): nothing changed in
        # the registry. Events of a source that is not shared must not stay, though.
        _settle_refused_purge(engine, ledger, op, settings)
        raise
    purge_source(ledger, person_id, source)
    rescored = publish(engine, person_id, actor=actor, settings=settings)
    finish(ledger, op)
    return rescored


def grant_source(engine: Engine, person_id: str, source: Source | str, *, actor: str) -> None:
    """Share a source again: it takes effect for events ingested from now on."""
    with engine.begin() as conn:
        grant_consent(conn, person_id, source, actor=actor)


def erase(engine: Engine, person_id: str, *, actor: str, settings: Settings | None = None) -> int:
    """Erase a person from the registry (audit tombstone kept) and from the ledger.

    The intent is recorded in the ledger first and cleared by the ledger's erasure
    commit; a crash anywhere in between is finished by :func:`recover` (or by calling
    this again), so an erasure that began always ends with nothing left in either store.
    """
    settings = settings or get_settings()
    ledger = Ledger.open(settings)
    wanted = PendingOp("erasure", person_id)
    with read_only(engine).connect() as conn:
        exists = person_exists(conn, person_id)
    if not exists and not any(wanted.same(op) for op in pending_operations(ledger)):
        raise NotFound(f"person {person_id!r} not found")
    op = begin(ledger, PendingOp("erasure", person_id, None, actor))
    return _finish_erasure(engine, ledger, op)


def _finish_erasure(engine: Engine, ledger: Ledger, op: PendingOp) -> int:
    try:
        with engine.begin() as conn:
            erase_registry_person(conn, op.person_id, actor=op.actor)
    except NotFound:
        pass  # erased already: by the attempt that crashed, or a concurrent one
    return erase_person(ledger, op.person_id)  # clears the intent in the same commit


def _settle_refused_purge(
    engine: Engine, ledger: Ledger, op: PendingOp, settings: Settings
) -> None:
    if op.source is None:
        raise IntegrityError(f"a pending purge of {op.person_id!r} names no source")
    with read_only(engine).connect() as conn:
        exists = person_exists(conn, op.person_id)
        shared = exists and Source(op.source) in current_consents(conn, op.person_id)
    if exists and not shared and purge_source(ledger, op.person_id, op.source):
        _publish_if_possible(engine, op, settings)
    finish(ledger, op)


def _finish_purge(engine: Engine, ledger: Ledger, op: PendingOp, settings: Settings) -> str:
    """Finish a revocation that crashed after recording its intent."""
    if op.source is None:
        raise IntegrityError(f"a pending purge of {op.person_id!r} names no source")
    with read_only(engine).connect() as conn:
        if not person_exists(conn, op.person_id):
            finish(ledger, op)
            return "person no longer registered (an erasure removes their events)"
        periods = [c for c in consent_history(conn, op.person_id) if c.source.value == op.source]
    current = next((c for c in periods if c.current), None)
    since = datetime.fromisoformat(op.since) - CLOCK_SKEW
    if current is None:
        removed = purge_source(ledger, op.person_id, op.source)
    elif any(c.revoked_at is not None and c.revoked_at >= since for c in periods):
        # revoked, then shared again before we got here: what came before goes
        removed = purge_source(ledger, op.person_id, op.source, ingested_before=current.granted_at)
    else:
        finish(ledger, op)
        return "the revocation never reached the registry: nothing to do"
    _publish_if_possible(engine, op, settings)
    finish(ledger, op)
    return f"{removed} events purged, score republished"


def _publish_if_possible(engine: Engine, op: PendingOp, settings: Settings) -> None:
    try:
        publish(engine, op.person_id, actor=op.actor, settings=settings)
    except NotFound:
        pass  # no model in service yet: the first publication will use the purged ledger


def recover(
    engine: Engine, *, settings: Settings | None = None, min_age_seconds: float = 60.0
) -> list[str]:
    """Finish every erasure and revocation that began at least ``min_age_seconds`` ago and
    did not end (a crash between its registry and ledger steps); what was done, in words
    that name no one (they go to logs, and an erased person must not stay in a log).

    The age keeps it off operations still running in a request: finishing those is
    harmless for an erasure, but a revocation whose registry step has not committed yet
    would look like one that never will.
    """
    settings = settings or get_settings()
    ledger = Ledger.open(settings)
    done = []
    now = datetime.now(UTC)
    for op in pending_operations(ledger):
        if op.since and (now - datetime.fromisoformat(op.since)).total_seconds() < min_age_seconds:
            continue
        if op.kind == "erasure":
            removed = _finish_erasure(engine, ledger, op)
            done.append(f"an interrupted erasure finished ({removed} ledger rows removed)")
        elif op.kind == "consent_purge":
            outcome = _finish_purge(engine, ledger, op, settings)
            done.append(f"an interrupted revocation of {op.source}: {outcome}")
    return done


def registry_consent_gate(engine: Engine):
    """The ingestion gate: a row is stored only if its person shares its source now.

    People unknown to the registry have consented to nothing; public records are held on
    a legal basis and pass (an erased person's are refused by the suppression check,
    :func:`registry_suppression_check`, which every caller passes beside this gate).
    """

    reader = read_only(engine)

    def gate(pairs: pa.Table) -> pa.Array:
        people = pairs.column("person_id").to_pylist()
        sources = pairs.column("source").to_pylist()
        # read-only: on SQLite a plain connection would queue for the write lock, which a
        # fulfilment request holds while it ingests (the gate runs inside that ingest)
        with reader.connect() as conn:
            shared = consent_map(conn, set(people))
        return pa.array(
            [
                s == Source.PUBLIC_RECORDS.value or Source(s) in shared.get(p, frozenset())
                for p, s in zip(people, sources, strict=True)
            ],
            pa.bool_(),
        )

    return gate


def registry_suppression_check(engine: Engine):
    """The ingestion's suppression check: the ids among a batch's that were erased."""
    reader = read_only(engine)

    def check(person_ids: list[str]) -> set[str]:
        with reader.connect() as conn:
            return suppressed_ids(conn, person_ids)

    return check


def require_person(engine: Engine, person_id: str) -> None:
    from openscore.registry import person_exists

    with engine.connect() as conn:
        if not person_exists(conn, person_id):
            raise NotFound(f"person {person_id!r} not found")
