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
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.config import DEFAULT_SCORE_CHANGE_POINTS
from openscore.domain import SCORE_MAX, SCORE_MIN, Dimension, band_of
from openscore.errors import InputError, NotFound
from openscore.registry import audit
from openscore.registry.attestations import revoke_unsupported
from openscore.registry.metadata import people, published_scores, utc_now
from openscore.registry.notifications import notify


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
    #: points of every term (kept with recomputed history points)
    contributions: Mapping[str, int] | None = None


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
    #: ``published`` (as published then) or ``recomputed`` (a history point computed
    #: later with the model ``model_id``; ``published_at`` is when it was computed)
    kind: str = "published"
    contributions: dict[str, int] | None = None

    @property
    def recomputed(self) -> bool:
        return self.kind == RECOMPUTED

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
        row.kind,
        None if row.contributions is None else {k: int(v) for k, v in row.contributions.items()},
    )


_DIMENSIONS = {d.value for d in Dimension}
PUBLISHED = "published"
RECOMPUTED = "recomputed"


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
        "contributions": None
        if item.contributions is None
        else {str(k): int(v) for k, v in item.contributions.items()},
    }


def publish_score(
    conn: Connection,
    item: ScoreToPublish,
    *,
    actor: str,
    now: datetime | None = None,
    change_points: int = DEFAULT_SCORE_CHANGE_POINTS,
) -> PublishedScore:
    """Publish one person's new score (it becomes their current one); a change of more
    than ``change_points`` from the last one is notified to the person."""
    if conn.execute(sa.select(people.c.id).where(people.c.id == item.person_id)).first() is None:
        raise NotFound(f"person {item.person_id!r} not found")
    now = now or utc_now()
    values = _values(item, now)
    before = _latest_published(conn, [item.person_id])
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
    _notify_changes(conn, before, [values], change_points, now)
    return _published(
        conn.execute(sa.select(published_scores).where(published_scores.c.id == score_id)).one()
    )


def publish_scores(
    conn: Connection,
    items: Iterable[ScoreToPublish],
    *,
    actor: str,
    now: datetime | None = None,
    change_points: int = DEFAULT_SCORE_CHANGE_POINTS,
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
    before = _latest_published(conn, wanted)
    conn.execute(published_scores.insert(), rows)
    revoke_unsupported(conn, {r["person_id"]: r["score"] for r in rows}, now=now)
    _notify_changes(conn, before, rows, change_points, now)
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
    .where(
        published_scores.c.person_id == sa.bindparam("person_id"),
        published_scores.c.kind == PUBLISHED,
    )
    .order_by(published_scores.c.id.desc())
    .limit(1)
)


def current_score(conn: Connection, person_id: str) -> PublishedScore:
    """The person's latest published score; :class:`NotFound` if they have none yet."""
    row = conn.execute(_CURRENT_SCORE, {"person_id": person_id}).one_or_none()
    if row is None:
        raise NotFound(f"no published score for person {person_id!r}")
    return _published(row)


def score_history(
    conn: Connection, person_id: str, *, limit: int = 100, recomputed: bool = True
) -> list[PublishedScore]:
    """The person's scores over time, newest first: as published, and (unless
    ``recomputed=False``) the recomputed month-end points of the history job.

    Ordered by the date each score is *as of* (a recomputed point for last March is
    computed today but belongs in March), then by publication.
    """
    query = sa.select(published_scores).where(published_scores.c.person_id == person_id)
    if not recomputed:
        query = query.where(published_scores.c.kind == PUBLISHED)
    rows = conn.execute(
        query.order_by(published_scores.c.as_of.desc(), published_scores.c.id.desc()).limit(limit)
    )
    return [_published(r) for r in rows]


def publish_history_points(
    conn: Connection, items: Iterable[ScoreToPublish], *, actor: str, now: datetime | None = None
) -> int:
    """Store recomputed month-end points (``kind = recomputed``) in one statement.

    They are history only: never the current score, no attestation is revoked by them
    and no one is notified. Only scored rows are kept (no data, no point). One audit
    entry for the batch, as :func:`publish_scores`.
    """
    now = now or utc_now()
    rows = []
    for item in items:
        if item.status != "scored":
            raise InputError("a history point has a score: no data, no point", field="status")
        rows.append({**_values(item, now), "kind": RECOMPUTED})
    if not rows:
        return 0
    conn.execute(published_scores.insert(), rows)
    digest = hashlib.sha256()
    for row in rows:
        digest.update(audit.canonical_json(row) + b"\n")
    audit.append(
        conn,
        action="scores.recomputed",
        actor=actor,
        details={
            "count": len(rows),
            "model_ids": sorted({r["model_id"] for r in rows}),
            "as_of": sorted({r["as_of"].date().isoformat() for r in rows}),
            "sha256": digest.hexdigest(),
        },
        at=now,
    )
    return len(rows)


def recomputed_dates(conn: Connection, person_ids: Sequence[str] | None = None) -> set[date]:
    """The as-of dates (month-ends) for which recomputed points are stored (for any of
    ``person_ids``, when given)."""
    query = sa.select(published_scores.c.as_of).where(published_scores.c.kind == RECOMPUTED)
    if person_ids is not None:
        query = query.where(published_scores.c.person_id.in_(list(person_ids)))
    rows = conn.execute(query.group_by(published_scores.c.as_of))
    return {r.as_of.date() for r in rows}


# -- what changed between two scores ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moved:
    """One factor (a model term) that moved between two scores, by ``points``."""

    code: str
    points: int
    #: the factor's words where either score cites it (a reason or a help), else None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """Why a score moved from ``old`` to ``new``: the factors, largest move first."""

    old: int
    new: int
    moved: list[Moved]
    #: ``all`` when both scores carry every term's points; ``top`` when only the reasons
    #: and helps each score cites could be compared (a score published without them)
    basis: str

    @property
    def delta(self) -> int:
        return self.new - self.old


def _texts(*scores: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for score in scores:
        for entry in [*(score.get("reasons") or []), *(score.get("helps") or [])]:
            if entry.get("code") and entry.get("text") and not entry.get("missing"):
                out.setdefault(str(entry["code"]), str(entry["text"]))
    return out


def _cited_points(score: Mapping[str, Any]) -> dict[str, int]:
    """Points relative to the term's best bin (reasons) or earned (helps), per code: only
    what the score cites, so only comparable within one kind."""
    out: dict[str, int] = {}
    for r in score.get("reasons") or []:
        if r.get("points_lost") is not None:
            out[f"r:{r['code']}"] = -int(r["points_lost"])
    for h in score.get("helps") or []:
        if h.get("points") is not None:
            out[f"h:{h['code']}"] = int(h["points"])
    return out


def score_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> ScoreChange | None:
    """Which factors moved, and by how many points, from ``old`` to ``new`` (mappings with
    ``score``, ``reasons``, ``helps`` and optionally ``contributions``); ``None`` when
    either has no score.

    With every term's points on both sides the moves are exact (they add up to the change
    before clipping to the range); otherwise the factors both scores cite are compared.
    """
    if old.get("score") is None or new.get("score") is None:
        return None
    texts = _texts(new, old)
    a, b = old.get("contributions"), new.get("contributions")
    moved: list[Moved] = []
    if a and b:
        for code in sorted(set(a) | set(b)):
            d = int(b.get(code, 0)) - int(a.get(code, 0))
            if d:
                moved.append(Moved(code, d, texts.get(code)))
        basis = "all"
    else:
        ca, cb = _cited_points(old), _cited_points(new)
        seen: set[str] = set()
        for key in sorted(set(ca) & set(cb)):
            code = key[2:]
            d = cb[key] - ca[key]
            if d and code not in seen:
                seen.add(code)
                moved.append(Moved(code, d, texts.get(code)))
        basis = "top"
    moved.sort(key=lambda m: (-abs(m.points), m.code))
    return ScoreChange(int(old["score"]), int(new["score"]), moved, basis)


def describe_change(change: ScoreChange, *, factors: int = 3) -> str:
    """One sentence: "Your score went up from 640 to 655 (+15): ..." with the largest
    moves."""
    way = "up" if change.delta > 0 else "down"
    text = f"Your score went {way} from {change.old} to {change.new} ({change.delta:+d})"
    if change.moved:
        parts = [
            f"{m.text or m.code.replace('_', ' ')} {m.points:+d}" for m in change.moved[:factors]
        ]
        text += ": " + "; ".join(parts)
    return text + "."


def _latest_published(conn: Connection, person_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each person's current published score (score, reasons, helps, contributions)."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(0, len(person_ids), 2_000):
        chunk = list(person_ids[i : i + 2_000])
        latest = (
            sa.select(sa.func.max(published_scores.c.id).label("id"))
            .where(
                published_scores.c.person_id.in_(chunk),
                published_scores.c.kind == PUBLISHED,
            )
            .group_by(published_scores.c.person_id)
            .subquery()
        )
        rows = conn.execute(
            sa.select(
                published_scores.c.person_id,
                published_scores.c.score,
                published_scores.c.reasons,
                published_scores.c.helps,
                published_scores.c.contributions,
            ).join(latest, latest.c.id == published_scores.c.id)
        )
        for row in rows:
            out[row.person_id] = dict(row._mapping)
    return out


def _notify_changes(
    conn: Connection,
    before: Mapping[str, Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    change_points: int,
    now: datetime,
) -> None:
    for row in rows:
        old = before.get(row["person_id"])
        if old is None:
            continue
        change = score_change(old, row)
        if change is None or abs(change.delta) <= change_points:
            continue
        notify(
            conn,
            row["person_id"],
            "score_change",
            describe_change(change),
            {
                "old": change.old,
                "new": change.new,
                "delta": change.delta,
                "threshold": change_points,
                "moved": [{"code": m.code, "points": m.points} for m in change.moved[:5]],
                "basis": change.basis,
            },
            now=now,
        )
