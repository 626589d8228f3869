"""What a person is told: every new inquiry, decision, score change beyond the threshold
and dispute outcome, written **in the transaction of the event** (so a notification
exists exactly when its event does), with read/unread state.

:func:`notify` also puts the notification in the webhook outbox when the person has set
a webhook of their own (``registry/webhooks.py``): delivery is the partners' deliverer's
job, with its signature, backoff and SSRF guard, and never blocks the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import NotFound
from openscore.registry.metadata import new_id, notifications, partners, utc_now
from openscore.registry.webhooks import enqueue_person_event

Kind = Literal["inquiry", "decision", "score_change", "dispute_outcome"]
KINDS: tuple[str, ...] = ("inquiry", "decision", "score_change", "dispute_outcome")
MAX_TEXT = 500


@dataclass(frozen=True, slots=True)
class Notification:
    id: str
    person_id: str
    kind: str
    text: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None


def _notification(row: sa.Row[*tuple[Any, ...]]) -> Notification:
    return Notification(
        row.id, row.person_id, row.kind, row.text, dict(row.data), row.created_at, row.read_at
    )


def notify(
    conn: Connection,
    person_id: str,
    kind: str,
    text: str,
    data: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> Notification:
    """Write a notification (and its webhook event, if the person has a webhook) in the
    caller's transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    now = now or utc_now()
    note = Notification(new_id(), person_id, kind, text[:MAX_TEXT], dict(data), now, None)
    conn.execute(
        notifications.insert().values(
            id=note.id,
            person_id=person_id,
            kind=kind,
            text=note.text,
            data=note.data,
            created_at=now,
        )
    )
    enqueue_person_event(
        conn,
        person_id,
        f"notification.{kind}",
        {
            "notification_id": note.id,
            "kind": kind,
            "text": note.text,
            "data": note.data,
            "created_at": now.isoformat(),
        },
        now=now,
    )
    return note


def partner_name(conn: Connection, partner_id: str) -> str:
    name = conn.execute(
        sa.select(partners.c.name).where(partners.c.id == partner_id)
    ).scalar_one_or_none()
    return name or partner_id


def list_notifications(
    conn: Connection, person_id: str, *, limit: int = 50, unread_only: bool = False
) -> list[Notification]:
    """The person's notifications, newest first."""
    query = sa.select(notifications).where(notifications.c.person_id == person_id)
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    query = query.order_by(notifications.c.created_at.desc(), notifications.c.id).limit(limit)
    return [_notification(r) for r in conn.execute(query)]


def unread_count(conn: Connection, person_id: str) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(notifications)
            .where(notifications.c.person_id == person_id, notifications.c.read_at.is_(None))
        ).scalar_one()
    )


def mark_read(
    conn: Connection,
    person_id: str,
    ids: list[str] | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Mark the person's notifications ``ids`` (all when ``None``) read; how many changed.
    :class:`NotFound` for an id that is not theirs."""
    query = notifications.update().where(
        notifications.c.person_id == person_id, notifications.c.read_at.is_(None)
    )
    if ids is not None:
        mine = set(
            conn.execute(
                sa.select(notifications.c.id).where(
                    notifications.c.person_id == person_id, notifications.c.id.in_(ids)
                )
            ).scalars()
        )
        unknown = [i for i in ids if i not in mine]
        if unknown:
            raise NotFound(f"notification {unknown[0]!r} not found")
        query = query.where(notifications.c.id.in_(ids))
    return int(conn.execute(query.values(read_at=now or utc_now())).rowcount)
