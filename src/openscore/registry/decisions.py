"""Decision records: what a partner was told about a person, and the person's right to a
human review of it.

The decision itself is made by :mod:`openscore.decisions` (products and policies); this
module keeps what was decided (product, outcome, terms, adverse-action reasons, the score
used) so that the person can see it and ask for review. Reviews form the operators'
queue: ``requested`` until an operator ``upheld`` or ``overturned`` the decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.domain import SCORE_MAX, SCORE_MIN, band_of
from openscore.errors import Conflict, InputError, NotFound
from openscore.registry import audit, sequencer
from openscore.registry.grants import Grant, _check_grant_of, check_slug
from openscore.registry.inquiries import Inquiry, _inquiry_entry, _insert_inquiry
from openscore.registry.metadata import (
    audit_pending,
    decision_reviews,
    decisions,
    new_id,
    partners,
    utc_now,
)
from openscore.registry.notifications import notify, partner_name
from openscore.registry.people import get_person
from openscore.registry.sequencer import Receipt

Outcome = Literal["approve", "decline"]
ReviewStatus = Literal["requested", "upheld", "overturned"]
MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: str
    person_id: str
    partner_id: str
    grant_id: str | None
    product_id: str
    outcome: Outcome
    score: int | None
    band: str | None
    terms: dict[str, Any]
    reasons: list[dict[str, Any]]
    decided_at: datetime
    #: The entry's seq in the log; ``None`` while it is queued (see ``audit_receipt``).
    audit_seq: int | None
    #: The receipt id of an entry queued for the sequencer (``registry/sequencer.py``).
    audit_receipt: str | None = None
    #: The signed receipt itself, on the record just made (it is not stored as such).
    receipt: Receipt | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    decision_id: str
    person_id: str
    reason: str
    status: ReviewStatus
    requested_at: datetime
    resolved_at: datetime | None
    resolution: str | None


def _record(row: sa.Row[*tuple[Any, ...]]) -> DecisionRecord:
    return DecisionRecord(
        row.id,
        row.person_id,
        row.partner_id,
        row.grant_id,
        row.product_id,
        row.outcome,
        row.score,
        row.band,
        dict(row.terms),
        list(row.reasons),
        row.decided_at,
        None if row.audit_seq is None else int(row.audit_seq),
        row.audit_receipt,
    )


#: A decision with the seq of its entry, whether appended at once or queued and since
#: integrated by the sequencer.
_SELECT = sa.select(
    *(c for c in decisions.c if c.name != "audit_seq"),
    sa.func.coalesce(decisions.c.audit_seq, audit_pending.c.seq).label("audit_seq"),
).select_from(decisions.outerjoin(audit_pending, audit_pending.c.id == decisions.c.audit_receipt))


def _review(row: sa.Row[*tuple[Any, ...]]) -> Review:
    return Review(
        row.id,
        row.decision_id,
        row.person_id,
        row.reason,
        row.status,
        row.requested_at,
        row.resolved_at,
        row.resolution,
    )


def _check_decision(
    product_id: str,
    outcome: str,
    score: int | None,
    band: str | None,
    reasons: Sequence[Mapping[str, Any]],
) -> None:
    check_slug(product_id, "product_id")
    if outcome not in ("approve", "decline"):
        raise InputError("must be approve or decline", field="outcome")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX
    ):
        raise InputError(f"must be an integer in {SCORE_MIN}-{SCORE_MAX}", field="score")
    if score is not None and band is not None and band != band_of(score):
        raise InputError(f"{band!r} is not the band of {score}", field="band")
    if outcome == "decline" and not reasons:
        raise InputError("a decline must carry its adverse-action reasons", field="reasons")


def _decision_entry(record: DecisionRecord, actor: str) -> audit.PendingEntry:
    """The audit entry of a decision: partner, product and outcome; the decision and
    grant ids only as HMACs under the person's salt."""
    return audit.PendingEntry(
        action="decision.recorded",
        actor=actor,
        person_id=record.person_id,
        details={
            "partner": record.partner_id,
            "product": record.product_id,
            "outcome": record.outcome,
        },
        linked={"decision": record.id, "grant": record.grant_id},
        at=record.decided_at,
    )


_INSERT_DECISION = decisions.insert()


def _insert_decision(
    conn: Connection, record: DecisionRecord, audit_seq: int | None, receipt: str | None = None
) -> DecisionRecord:
    """Store a decision whose audit entry is ``audit_seq`` (or queued as ``receipt``)."""
    record = replace(record, audit_seq=audit_seq, audit_receipt=receipt)
    conn.execute(
        _INSERT_DECISION,
        {
            "id": record.id,
            "person_id": record.person_id,
            "partner_id": record.partner_id,
            "grant_id": record.grant_id,
            "product_id": record.product_id,
            "outcome": record.outcome,
            "score": record.score,
            "band": record.band,
            "terms": record.terms,
            "reasons": record.reasons,
            "decided_at": record.decided_at,
            "audit_seq": audit_seq,
            "audit_receipt": receipt,
        },
    )
    return record


def _new_record(
    person_id: str,
    partner_id: str,
    grant_id: str | None,
    product_id: str,
    outcome: Outcome,
    terms: Mapping[str, Any],
    reasons: Sequence[Mapping[str, Any]],
    score: int | None,
    band: str | None,
    now: datetime,
) -> DecisionRecord:
    return DecisionRecord(
        new_id(),
        person_id,
        partner_id,
        grant_id,
        product_id,
        outcome,
        score,
        band,
        dict(terms),
        [dict(r) for r in reasons],
        now,
        -1,
    )


def record_decision(
    conn: Connection,
    person_id: str,
    *,
    partner_id: str,
    product_id: str,
    outcome: Outcome,
    terms: Mapping[str, Any],
    reasons: Sequence[Mapping[str, Any]],
    actor: str,
    grant_id: str | None = None,
    score: int | None = None,
    band: str | None = None,
    now: datetime | None = None,
) -> DecisionRecord:
    """Keep a decision (``terms``: deposit waived or due, credit line, rate band ...)."""
    get_person(conn, person_id)
    _check_decision(product_id, outcome, score, band, reasons)
    if conn.execute(sa.select(partners.c.id).where(partners.c.id == partner_id)).first() is None:
        raise NotFound(f"partner {partner_id!r} not found")
    if grant_id is not None:
        _check_grant_of(conn, grant_id, person_id, partner_id)
    record = _new_record(
        person_id,
        partner_id,
        grant_id,
        product_id,
        outcome,
        terms,
        reasons,
        score,
        band,
        now or utc_now(),
    )
    (entry,) = audit.append_many(conn, [_decision_entry(record, actor)])
    stored = _insert_decision(conn, record, entry.seq)
    _notify_decision(conn, stored)
    return stored


def _notify_decision(conn: Connection, record: DecisionRecord, who: str | None = None) -> None:
    """Tell the person what a partner decided (in the decision's transaction); ``who``:
    the partner's name when the caller has it already (else it is read)."""
    who = who or partner_name(conn, record.partner_id)
    outcome = "approved" if record.outcome == "approve" else "declined"
    notify(
        conn,
        record.person_id,
        "decision",
        f"{who} {outcome} your request for {record.product_id.replace('_', ' ')}.",
        {
            "decision_id": record.id,
            "partner_id": record.partner_id,
            "partner": who,
            "product_id": record.product_id,
            "outcome": record.outcome,
        },
        now=record.decided_at,
    )


def record_answered_decision(
    conn: Connection,
    grant: Grant,
    *,
    product_id: str,
    outcome: Outcome,
    terms: Mapping[str, Any],
    reasons: Sequence[Mapping[str, Any]],
    answer: Mapping[str, Any],
    actor: str,
    score: int | None = None,
    band: str | None = None,
    now: datetime | None = None,
    max_merge_delay: float = sequencer.MAX_MERGE_DELAY_SECONDS,
    partner: str | None = None,
) -> tuple[DecisionRecord, Inquiry]:
    """A partner's decision and the inquiry that returned it, recorded together: what
    :func:`record_decision` then :func:`~openscore.registry.inquiries.record_inquiry`
    (with ``returned = {"decision_id": <the decision's id>, **answer}``) would store and
    log, in fewer statements — the decision path of the API.

    ``grant`` must be the grant as :func:`~openscore.registry.grants.usable_grant`
    returned it in this transaction: that read proves that the person, the partner and
    the grant exist and belong together, so nothing is read again (the foreign keys still
    hold at insert). The log gets the same two entries, ``decision.recorded`` then
    ``inquiry.recorded``, queued for the sequencer (:func:`sequencer.append_queued`: no
    lock on the log) — the decision's record carries their signed receipts in
    ``receipt`` (the decision's) and the inquiry's ``audit_receipt``. ``partner``: the
    partner's name for the person's notification, when the caller authenticated the
    partner already (one read fewer on the hot path).
    """
    _check_decision(product_id, outcome, score, band, reasons)
    if not isinstance(answer, Mapping):
        raise InputError("must be an object", field="returned")
    now = now or utc_now()
    record = _new_record(
        grant.person_id,
        grant.partner_id,
        grant.id,
        product_id,
        outcome,
        terms,
        reasons,
        score,
        band,
        now,
    )
    inquiry = Inquiry(
        new_id(),
        grant.person_id,
        grant.partner_id,
        grant.id,
        grant.purpose,
        {"decision_id": record.id, **answer},
        now,
        -1,
    )
    decided, asked = sequencer.append_queued(
        conn,
        [_decision_entry(record, actor), _inquiry_entry(inquiry, actor)],
        max_merge_delay=max_merge_delay,
    )
    stored = _insert_decision(conn, record, None, decided.receipt_id)
    # one notification: the decision (the read that returned it is part of it)
    _notify_decision(conn, stored, partner)
    return (
        replace(stored, receipt=decided),
        replace(_insert_inquiry(conn, inquiry, None, asked.receipt_id), receipt=asked),
    )


def get_decision(conn: Connection, person_id: str, decision_id: str) -> DecisionRecord:
    """One of the person's decisions; another person's is :class:`NotFound`."""
    row = conn.execute(
        _SELECT.where(decisions.c.id == decision_id, decisions.c.person_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"decision {decision_id!r} not found")
    return _record(row)


def get_partner_decision(conn: Connection, partner_id: str, decision_id: str) -> DecisionRecord:
    """A decision the partner asked for; any other is :class:`NotFound`."""
    row = conn.execute(
        _SELECT.where(decisions.c.id == decision_id, decisions.c.partner_id == partner_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"decision {decision_id!r} not found")
    return _record(row)


def list_decisions(conn: Connection, person_id: str, *, limit: int = 100) -> list[DecisionRecord]:
    """Decisions about a person, newest first."""
    rows = conn.execute(
        _SELECT.where(decisions.c.person_id == person_id)
        .order_by(decisions.c.decided_at.desc(), decisions.c.id)
        .limit(limit)
    )
    return [_record(r) for r in rows]


def request_review(
    conn: Connection,
    person_id: str,
    decision_id: str,
    *,
    reason: str,
    actor: str,
    now: datetime | None = None,
) -> Review:
    """The person asks for a human to look at a decision again (GDPR art. 22).

    :class:`Conflict` if a review of that decision was already requested.
    """
    get_decision(conn, person_id, decision_id)
    reason = reason.strip()
    if not 1 <= len(reason) <= MAX_TEXT:
        raise InputError(f"must be 1-{MAX_TEXT} characters", field="reason")
    now = now or utc_now()
    review = Review(new_id(), decision_id, person_id, reason, "requested", now, None, None)
    try:
        with conn.begin_nested():
            conn.execute(
                decision_reviews.insert().values(
                    id=review.id,
                    decision_id=decision_id,
                    person_id=person_id,
                    reason=reason,
                    status="requested",
                    requested_at=now,
                )
            )
    except sa.exc.IntegrityError:
        raise Conflict("a review of this decision was already requested") from None
    audit.append(
        conn,
        action="review.requested",
        actor=actor,
        person_id=person_id,
        linked={"review": review.id, "decision": decision_id, "reason": reason},
        at=now,
    )
    return review


def get_review(conn: Connection, person_id: str, review_id: str) -> Review:
    """One of the person's review requests; another person's is :class:`NotFound`."""
    row = conn.execute(
        sa.select(decision_reviews).where(
            decision_reviews.c.id == review_id, decision_reviews.c.person_id == person_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"review {review_id!r} not found")
    return _review(row)


def list_reviews(conn: Connection, person_id: str) -> list[Review]:
    rows = conn.execute(
        sa.select(decision_reviews)
        .where(decision_reviews.c.person_id == person_id)
        .order_by(decision_reviews.c.requested_at.desc(), decision_reviews.c.id)
    )
    return [_review(r) for r in rows]


def review_queue(
    conn: Connection, *, status: ReviewStatus = "requested", limit: int = 100
) -> list[Review]:
    """The operators' queue, oldest request first."""
    rows = conn.execute(
        sa.select(decision_reviews)
        .where(decision_reviews.c.status == status)
        .order_by(decision_reviews.c.requested_at, decision_reviews.c.id)
        .limit(limit)
    )
    return [_review(r) for r in rows]


def close_review(
    conn: Connection,
    review_id: str,
    *,
    status: Literal["upheld", "overturned"],
    resolution: str,
    actor: str,
    now: datetime | None = None,
) -> Review:
    """An operator's answer to a review; :class:`Conflict` if it was already answered."""
    if status not in ("upheld", "overturned"):
        raise InputError("must be upheld or overturned", field="status")
    resolution = resolution.strip()
    if not 1 <= len(resolution) <= MAX_TEXT:
        raise InputError(f"must be 1-{MAX_TEXT} characters", field="resolution")
    row = conn.execute(
        sa.select(decision_reviews).where(decision_reviews.c.id == review_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"review {review_id!r} not found")
    if row.status != "requested":
        raise Conflict(f"review {review_id!r} is already {row.status}")
    now = max(now or utc_now(), row.requested_at)
    conn.execute(
        decision_reviews.update()
        .where(decision_reviews.c.id == review_id)
        .values(status=status, resolved_at=now, resolution=resolution)
    )
    audit.append(
        conn,
        action=f"review.{status}",
        actor=actor,
        person_id=row.person_id,
        linked={"review": review_id, "resolution": resolution},
        at=now,
    )
    return replace(_review(row), status=status, resolved_at=now, resolution=resolution)
