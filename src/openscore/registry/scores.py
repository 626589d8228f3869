"""Published scores: what a person's score is, and what it was.

Every publication is a new row (history is kept; the latest row is the current score), so
"your score went from 640 to 655 on 3 March because ..." can always be answered. One
person at a time (:func:`publish_score`: after a revocation, a dispute, a re-grant) logs
one audit entry per person; a batch run (:func:`publish_scores`) logs one entry for the
whole batch with a digest of its rows, because a million entries for one run would say
nothing more.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.domain import SCORE_MAX, SCORE_MIN, Dimension, band_of
from openscore.errors import InputError, NotFound
from openscore.registry import audit
from openscore.registry.attestations import revoke_unsupported
from openscore.registry.metadata import people, published_scores, utc_now


@dataclass(frozen=True, slots=True)
class ScoreToPublish:
    """One person's score as scoring produced it."""

    person_id: str
    score: int | None
    dimensions: Mapping[str, int | None]
    reasons: Sequence[Mapping[str, Any]]
    model_id: str
    as_of: datetime
    band: str | None = None  # derived from the score when left out
    #: ``scored``, or ``unscorable`` (not enough data: score and band are None)
    status: str = "scored"
    helps: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True, slots=True)
class PublishedScore:
    id: int
    person_id: str
    score: int | None
    band: str | None
    dimensions: dict[str, int | None]
    reasons: list[dict[str, Any]]
    model_id: str
    as_of: datetime
    published_at: datetime
    status: str = "scored"
    helps: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def scored(self) -> bool:
        """Whether there is a number (else: not enough data to score)."""
        return self.status == "scored"


def _published(row: sa.Row[*tuple[Any, ...]]) -> PublishedScore:
    return PublishedScore(
        int(row.id),
        row.person_id,
        None if row.score is None else int(row.score),
        row.band,
        dict(row.dimensions),
        list(row.reasons),
        row.model_id,
        row.as_of,
        row.published_at,
        row.status,
        list(row.helps or []),
    )


_DIMENSIONS = {d.value for d in Dimension}


def _values(item: ScoreToPublish, now: datetime) -> dict[str, Any]:
    if item.status not in ("scored", "unscorable"):
        raise InputError("must be scored or unscorable", field="status")
    band: str | None = None
    if item.status == "unscorable":
        # Not enough data to score: no number, band, sub-score or reason may be published.
        if item.score is not None or item.band is not None:
            raise InputError("an unscorable person has no score or band", field="score")
        if any(v is not None for v in item.dimensions.values()) or item.reasons or item.helps:
            raise InputError(
                "an unscorable person has no sub-scores or reasons", field="dimensions"
            )
    else:
        if isinstance(item.score, bool) or not isinstance(item.score, int):
            raise InputError("must be an integer", field="score")
        if not SCORE_MIN <= item.score <= SCORE_MAX:
            raise InputError(f"must lie in {SCORE_MIN}-{SCORE_MAX}", field="score")
        band = band_of(item.score)
        if item.band is not None and item.band != band:
            raise InputError(
                f"{item.band!r} is not the band of {item.score} ({band})", field="band"
            )
    unknown = set(item.dimensions) - _DIMENSIONS
    if unknown:
        raise InputError(f"unknown dimensions {sorted(unknown)}", field="dimensions")
    if any(v is not None and not 0 <= int(v) <= 100 for v in item.dimensions.values()):
        raise InputError("sub-scores must lie in 0-100", field="dimensions")
    if not item.model_id or len(item.model_id) > 128:
        raise InputError("must be 1-128 characters", field="model_id")
    if item.as_of.tzinfo is None:
        raise InputError("must carry a time zone", field="as_of")
    return {
        "person_id": item.person_id,
        "score": item.score,
        "band": band,
        "dimensions": {k: None if v is None else int(v) for k, v in item.dimensions.items()},
        "reasons": [dict(r) for r in item.reasons],
        "model_id": item.model_id,
        "as_of": item.as_of,
        "published_at": now,
        "status": item.status,
        "helps": [dict(h) for h in item.helps],
    }


def publish_score(
    conn: Connection, item: ScoreToPublish, *, actor: str, now: datetime | None = None
) -> PublishedScore:
    """Publish one person's new score (it becomes their current one)."""
    if conn.execute(sa.select(people.c.id).where(people.c.id == item.person_id)).first() is None:
        raise NotFound(f"person {item.person_id!r} not found")
    now = now or utc_now()
    values = _values(item, now)
    score_id = conn.execute(
        published_scores.insert().values(**values).returning(published_scores.c.id)
    ).scalar_one()
    audit.append(
        conn,
        action="score.published",
        actor=actor,
        person_id=item.person_id,
        details={"model_id": item.model_id},
        linked={
            "score": str(score_id),
            "content": audit.canonical_json(
                {k: v for k, v in values.items() if k != "person_id"}
            ).decode("ascii"),
        },
        at=now,
    )
    # An attestation the new score no longer supports goes on the status list now.
    revoke_unsupported(conn, {item.person_id: item.score}, now=now)
    return _published(
        conn.execute(sa.select(published_scores).where(published_scores.c.id == score_id)).one()
    )


def publish_scores(
    conn: Connection, items: Iterable[ScoreToPublish], *, actor: str, now: datetime | None = None
) -> int:
    """Publish a batch (one scoring run) in one statement; returns how many.

    The audit entry holds the count, the model ids and the SHA-256 of the rows' canonical
    JSON: enough to prove later which batch was published, and no personal data.
    """
    now = now or utc_now()
    rows = [_values(item, now) for item in items]
    if not rows:
        return 0
    wanted = sorted({r["person_id"] for r in rows})
    known: set[str] = set()
    for i in range(0, len(wanted), 10_000):
        chunk = wanted[i : i + 10_000]
        known.update(conn.execute(sa.select(people.c.id).where(people.c.id.in_(chunk))).scalars())
    missing = [p for p in wanted if p not in known]
    if missing:
        raise NotFound(f"{len(missing)} people not found, e.g. {missing[0]!r}")
    conn.execute(published_scores.insert(), rows)
    revoke_unsupported(conn, {r["person_id"]: r["score"] for r in rows}, now=now)
    digest = hashlib.sha256()
    for row in rows:
        digest.update(audit.canonical_json(row) + b"\n")
    audit.append(
        conn,
        action="scores.published",
        actor=actor,
        details={
            "count": len(rows),
            "model_ids": sorted({r["model_id"] for r in rows}),
            "sha256": digest.hexdigest(),
        },
        at=now,
    )
    return len(rows)


#: Built once: every partner decision reads it.
_CURRENT_SCORE = (
    sa.select(published_scores)
    .where(published_scores.c.person_id == sa.bindparam("person_id"))
    .order_by(published_scores.c.id.desc())
    .limit(1)
)


def current_score(conn: Connection, person_id: str) -> PublishedScore:
    """The person's latest published score; :class:`NotFound` if they have none yet."""
    row = conn.execute(_CURRENT_SCORE, {"person_id": person_id}).one_or_none()
    if row is None:
        raise NotFound(f"no published score for person {person_id!r}")
    return _published(row)


def score_history(conn: Connection, person_id: str, *, limit: int = 100) -> list[PublishedScore]:
    """The person's published scores, newest first."""
    rows = conn.execute(
        sa.select(published_scores)
        .where(published_scores.c.person_id == person_id)
        .order_by(published_scores.c.id.desc())
        .limit(limit)
    )
    return [_published(r) for r in rows]
