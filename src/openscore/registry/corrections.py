"""Correction notices (FCRA §1681i(d)): when a dispute is resolved in the person's favour,
every partner that received a decision about them in the look-back window (6 months) is
told that the file was corrected, with the person's corrected status.

A notice is a registry row, like an inquiry: recorded in the same transaction as the
dispute's resolution, shown to the person, logged in the audit chain. Delivery to the
partner (a webhook, a poll) is a separate concern: ``delivered_at`` stays null until
something delivers it, and :func:`partner_notices` is what a deliverer reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.registry import audit
from openscore.registry.metadata import correction_notices, decisions, new_id, utc_now

#: how far back decisions are looked for (FCRA §1681i(d): six months for most reports)
LOOKBACK = timedelta(days=183)


@dataclass(frozen=True, slots=True)
class CorrectionNotice:
    id: str
    person_id: str
    partner_id: str
    decision_id: str
    dispute_id: str
    record_ref: str
    body: dict[str, Any]
    at: datetime
    delivered_at: datetime | None


def _notice(row: sa.Row[*tuple[Any, ...]]) -> CorrectionNotice:
    return CorrectionNotice(
        row.id,
        row.person_id,
        row.partner_id,
        row.decision_id,
        row.dispute_id,
        row.record_ref,
        dict(row.body),
        row.at,
        row.delivered_at,
    )


def decisions_to_correct(
    conn: Connection, person_id: str, *, now: datetime | None = None
) -> list[sa.Row[*tuple[Any, ...]]]:
    """The person's decisions within :data:`LOOKBACK` of ``now``, oldest first."""
    now = now or utc_now()
    return list(
        conn.execute(
            sa.select(decisions)
            .where(decisions.c.person_id == person_id, decisions.c.decided_at >= now - LOOKBACK)
            .order_by(decisions.c.decided_at, decisions.c.id)
        )
    )


def record_correction_notices(
    conn: Connection,
    *,
    person_id: str,
    dispute_id: str,
    record_ref: str,
    bodies: Mapping[str, Mapping[str, Any]],
    actor: str,
    now: datetime | None = None,
) -> list[CorrectionNotice]:
    """One notice per decision in ``bodies`` (decision id → what the partner is told).

    The partner of each notice is the decision's partner; decisions outside the look-back
    window or of another person are refused by simply not being found."""
    now = now or utc_now()
    wanted = {row.id: row for row in decisions_to_correct(conn, person_id, now=now)}
    out = []
    for decision_id, body in bodies.items():
        row = wanted.get(decision_id)
        if row is None:
            continue
        notice = CorrectionNotice(
            new_id(),
            person_id,
            row.partner_id,
            decision_id,
            dispute_id,
            record_ref,
            dict(body),
            now,
            None,
        )
        conn.execute(
            correction_notices.insert().values(
                id=notice.id,
                person_id=person_id,
                partner_id=notice.partner_id,
                decision_id=decision_id,
                dispute_id=dispute_id,
                record_ref=record_ref,
                body=notice.body,
                at=now,
            )
        )
        audit.append(
            conn,
            action="correction.noticed",
            actor=actor,
            person_id=person_id,
            details={"partner": notice.partner_id},
            linked={
                "notice": notice.id,
                "decision": decision_id,
                "dispute": dispute_id,
                "body": audit.canonical_json(notice.body).decode("ascii"),
            },
            at=now,
        )
        out.append(notice)
    return out


def list_correction_notices(conn: Connection, person_id: str) -> list[CorrectionNotice]:
    """The notices sent about a person, newest first (the person sees them all)."""
    rows = conn.execute(
        sa.select(correction_notices)
        .where(correction_notices.c.person_id == person_id)
        .order_by(correction_notices.c.at.desc(), correction_notices.c.id)
    )
    return [_notice(r) for r in rows]


def partner_notices(
    conn: Connection, partner_id: str, *, undelivered_only: bool = True, limit: int = 100
) -> list[CorrectionNotice]:
    """The notices for a partner, oldest first (what a deliverer sends)."""
    query = sa.select(correction_notices).where(correction_notices.c.partner_id == partner_id)
    if undelivered_only:
        query = query.where(correction_notices.c.delivered_at.is_(None))
    rows = conn.execute(
        query.order_by(correction_notices.c.at, correction_notices.c.id).limit(limit)
    )
    return [_notice(r) for r in rows]
