"""Partner webhooks in the registry: each partner's endpoint and signing secret, and the
durable outbox of events waiting to be delivered to it.

An event is written to the outbox **in the transaction of the change it reports** (a
grant revoked, a fulfilment batch answered), so it exists exactly when the change does
and a request never waits for a partner's server: delivery is
:func:`openscore.services.webhooks.deliver_due`'s job, at least once, with exponential
backoff for 24 hours. Other modules call :func:`enqueue_event`; it does nothing for a
partner that has no endpoint.

Event types: ``grant.revoked``, ``grant.expired``, ``fulfilment.accepted``,
``fulfilment.rejected``, ``decision.data_corrected`` (a correction to data behind a
decision the partner received), ``webhook.ping``.

A **person** may have an endpoint too (``person_webhooks``): their notifications
(``notification.inquiry``, ``notification.decision``, ``notification.score_change``,
``notification.dispute_outcome``) go through the same outbox, signature, backoff and SSRF
guard — an outbox row has either a ``partner_id`` or a ``person_id``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from openscore.errors import NotFound
from openscore.registry import audit
from openscore.registry.metadata import (
    grants,
    new_id,
    person_webhooks,
    utc_now,
    webhook_endpoints,
    webhook_outbox,
)

EVENT_TYPES = (
    "grant.revoked",
    "grant.expired",
    "fulfilment.accepted",
    "fulfilment.rejected",
    "decision.data_corrected",
    "webhook.ping",
)
PERSON_EVENT_TYPES = (
    "notification.inquiry",
    "notification.decision",
    "notification.score_change",
    "notification.dispute_outcome",
    "webhook.ping",
)
SECRET_PREFIX = "whsec_"


@dataclass(frozen=True, slots=True)
class Endpoint:
    partner_id: str
    url: str
    secret: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    partner_id: str | None
    event_type: str
    payload: dict[str, Any]
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    #: set instead of ``partner_id`` for a person's own webhook
    person_id: str | None = None

    @property
    def recipient(self) -> tuple[str, str]:
        """("partner", id) or ("person", id): whose endpoint it goes to."""
        if self.person_id is not None:
            return ("person", self.person_id)
        return ("partner", str(self.partner_id))


def _endpoint(row: sa.Row[*tuple[Any, ...]]) -> Endpoint:
    return Endpoint(row.partner_id, row.url, row.secret, row.created_at, row.updated_at)


def _delivery(row: sa.Row[*tuple[Any, ...]]) -> Delivery:
    return Delivery(
        row.id,
        row.partner_id,
        row.event_type,
        dict(row.payload),
        row.created_at,
        row.status,
        int(row.attempts),
        row.next_attempt_at,
        row.last_attempt_at,
        row.last_status_code,
        row.last_error,
        row.delivered_at,
        row.person_id,
    )


def get_endpoint(conn: Connection, partner_id: str) -> Endpoint:
    row = conn.execute(
        sa.select(webhook_endpoints).where(webhook_endpoints.c.partner_id == partner_id)
    ).one_or_none()
    if row is None:
        raise NotFound("no webhook endpoint is registered")
    return _endpoint(row)


def set_endpoint(
    conn: Connection,
    partner_id: str,
    url: str,
    *,
    rotate_secret: bool = False,
    now: datetime | None = None,
) -> tuple[Endpoint, bool]:
    """Register or change the partner's endpoint; ``(endpoint, secret_is_new)``. The
    secret is made with the first registration and kept on a URL change unless
    ``rotate_secret``. The URL must have passed the caller's SSRF check."""
    now = now or utc_now()
    existing = conn.execute(
        sa.select(webhook_endpoints).where(webhook_endpoints.c.partner_id == partner_id)
    ).one_or_none()
    fresh = existing is None or rotate_secret
    secret = (
        SECRET_PREFIX + secrets.token_urlsafe(32) if fresh or existing is None else existing.secret
    )
    if existing is None:
        conn.execute(
            webhook_endpoints.insert().values(
                partner_id=partner_id, url=url, secret=secret, created_at=now, updated_at=now
            )
        )
    else:
        conn.execute(
            webhook_endpoints.update()
            .where(webhook_endpoints.c.partner_id == partner_id)
            .values(url=url, secret=secret, updated_at=now)
        )
    audit.append(
        conn,
        action="webhook.endpoint_set",
        actor=f"partner:{partner_id}",
        subject=f"partner:{partner_id}",
        details={"secret_rotated": fresh},
        at=now,
    )
    return get_endpoint(conn, partner_id), fresh


def delete_endpoint(conn: Connection, partner_id: str, *, now: datetime | None = None) -> None:
    """Remove the endpoint; pending events for it are dropped (nothing to send them to)."""
    get_endpoint(conn, partner_id)
    conn.execute(webhook_endpoints.delete().where(webhook_endpoints.c.partner_id == partner_id))
    conn.execute(
        webhook_outbox.update()
        .where(webhook_outbox.c.partner_id == partner_id, webhook_outbox.c.status == "pending")
        .values(status="failed", last_error="the endpoint was removed")
    )
    audit.append(
        conn,
        action="webhook.endpoint_removed",
        actor=f"partner:{partner_id}",
        subject=f"partner:{partner_id}",
        at=now or utc_now(),
    )


def enqueue_event(
    conn: Connection,
    partner_id: str,
    event_type: str,
    data: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> str | None:
    """Put an event for ``partner_id`` in the outbox, in the caller's transaction; its id,
    or ``None`` when the partner has no endpoint (or ``dedupe_key`` was already sent).

    ``data`` must be JSON; it is what the partner receives under ``data``.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    has_endpoint = conn.execute(
        sa.select(webhook_endpoints.c.partner_id).where(
            webhook_endpoints.c.partner_id == partner_id
        )
    ).first()
    if has_endpoint is None:
        return None
    if (
        dedupe_key is not None
        and conn.execute(
            sa.select(webhook_outbox.c.id).where(
                webhook_outbox.c.partner_id == partner_id, webhook_outbox.c.dedupe_key == dedupe_key
            )
        ).first()
    ):
        return None
    return _queue(conn, event_type, data, now, partner_id=partner_id, dedupe_key=dedupe_key)


def _queue(
    conn: Connection,
    event_type: str,
    data: Mapping[str, Any],
    now: datetime | None,
    **recipient: str | None,
) -> str:
    """One pending outbox row for a partner (``partner_id``, ``dedupe_key``) or a person
    (``person_id``), due now; its id."""
    now = now or utc_now()
    event_id = new_id()
    conn.execute(
        webhook_outbox.insert().values(
            id=event_id,
            event_type=event_type,
            payload=dict(data),
            created_at=now,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            **recipient,
        )
    )
    return event_id


def _newly_expired(now: datetime, lookback: timedelta) -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(grants.c.id, grants.c.partner_id, grants.c.person_id, grants.c.expires_at)
        .join(webhook_endpoints, webhook_endpoints.c.partner_id == grants.c.partner_id)
        .where(
            grants.c.expires_at <= now,
            grants.c.expires_at > now - lookback,
            grants.c.revoked_at.is_(None),
            ~sa.exists().where(
                webhook_outbox.c.partner_id == grants.c.partner_id,
                webhook_outbox.c.dedupe_key == sa.literal("grant.expired:") + grants.c.id,
            ),
        )
    )


def has_newly_expired_grants(
    conn: Connection, *, now: datetime, lookback: timedelta = timedelta(days=7)
) -> bool:
    """Whether :func:`enqueue_expired_grants` has anything to queue (a read only, so that
    an idle deliverer never takes the write lock)."""
    return conn.execute(_newly_expired(now, lookback).limit(1)).first() is not None


def enqueue_expired_grants(
    conn: Connection, *, now: datetime | None = None, lookback: timedelta = timedelta(days=7)
) -> int:
    """``grant.expired`` for every grant that expired within ``lookback`` (unrevoked),
    once each; returns how many were queued. The deliverer calls it on each pass."""
    now = now or utc_now()
    rows = conn.execute(_newly_expired(now, lookback)).all()
    queued = 0
    for row in rows:
        queued += (
            enqueue_event(
                conn,
                row.partner_id,
                "grant.expired",
                {
                    "grant_id": row.id,
                    "person_id": row.person_id,
                    "expired_at": row.expires_at.isoformat(),
                },
                dedupe_key=f"grant.expired:{row.id}",
                now=now,
            )
            is not None
        )
    return queued


def due_events(conn: Connection, *, now: datetime, limit: int = 100) -> list[Delivery]:
    rows = conn.execute(
        sa.select(webhook_outbox)
        .where(webhook_outbox.c.status == "pending", webhook_outbox.c.next_attempt_at <= now)
        .order_by(webhook_outbox.c.next_attempt_at, webhook_outbox.c.id)
        .limit(limit)
    )
    return [_delivery(r) for r in rows]


def claim(conn: Connection, delivery: Delivery, *, until: datetime) -> bool:
    """Take ``delivery`` for one attempt (until ``until``): ``False`` if another deliverer
    took it first. A crashed deliverer's claim runs out and the event is due again."""
    taken = conn.execute(
        webhook_outbox.update()
        .where(
            webhook_outbox.c.id == delivery.id,
            webhook_outbox.c.status == "pending",
            webhook_outbox.c.next_attempt_at == delivery.next_attempt_at,
        )
        .values(next_attempt_at=until)
    )
    return taken.rowcount == 1


def record_attempt(
    conn: Connection,
    event_id: str,
    *,
    ok: bool,
    status_code: int | None,
    error: str | None,
    next_attempt_at: datetime | None,
    now: datetime,
) -> None:
    """The outcome of one attempt: delivered, due again at ``next_attempt_at``, or (when
    that is ``None`` and it failed) given up."""
    values: dict[str, Any] = {
        "attempts": webhook_outbox.c.attempts + 1,
        "last_attempt_at": now,
        "last_status_code": status_code,
        "last_error": (error or None) and error[:300],
    }
    if ok:
        values.update(status="delivered", delivered_at=now)
    elif next_attempt_at is None:
        values.update(status="failed")
    else:
        values.update(next_attempt_at=next_attempt_at)
    conn.execute(webhook_outbox.update().where(webhook_outbox.c.id == event_id).values(**values))


def list_deliveries(
    conn: Connection, partner_id: str, *, limit: int = 50, status: str | None = None
) -> list[Delivery]:
    """The partner's events, newest first."""
    query = (
        sa.select(webhook_outbox)
        .where(webhook_outbox.c.partner_id == partner_id)
        .order_by(webhook_outbox.c.created_at.desc(), webhook_outbox.c.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(webhook_outbox.c.status == status)
    return [_delivery(r) for r in conn.execute(query)]


# -- a person's own webhook ------------------------------------------------------------


def get_person_endpoint(conn: Connection, person_id: str) -> Endpoint:
    """The person's webhook (``partner_id`` of the answer holds the person's id)."""
    row = conn.execute(
        sa.select(person_webhooks).where(person_webhooks.c.person_id == person_id)
    ).one_or_none()
    if row is None:
        raise NotFound("no webhook is set")
    return Endpoint(row.person_id, row.url, row.secret, row.created_at, row.updated_at)


def set_person_endpoint(
    conn: Connection, person_id: str, url: str, *, now: datetime | None = None
) -> Endpoint:
    """Set (or replace) the person's webhook with a new signing secret, returned once by
    the caller. The URL must have passed the caller's SSRF check."""
    now = now or utc_now()
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    conn.execute(person_webhooks.delete().where(person_webhooks.c.person_id == person_id))
    conn.execute(
        person_webhooks.insert().values(
            person_id=person_id, url=url, secret=secret, created_at=now, updated_at=now
        )
    )
    audit.append(conn, action="webhook.person_set", actor="subject", person_id=person_id, at=now)
    return get_person_endpoint(conn, person_id)


def delete_person_endpoint(
    conn: Connection, person_id: str, *, now: datetime | None = None
) -> None:
    """Remove the person's webhook; their pending events are dropped."""
    get_person_endpoint(conn, person_id)
    conn.execute(person_webhooks.delete().where(person_webhooks.c.person_id == person_id))
    conn.execute(
        webhook_outbox.update()
        .where(webhook_outbox.c.person_id == person_id, webhook_outbox.c.status == "pending")
        .values(status="failed", last_error="the endpoint was removed")
    )
    audit.append(
        conn,
        action="webhook.person_removed",
        actor="subject",
        person_id=person_id,
        at=now or utc_now(),
    )


def enqueue_person_event(
    conn: Connection,
    person_id: str,
    event_type: str,
    data: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> str | None:
    """An event for the person's own webhook, in the caller's transaction; ``None`` when
    they have none."""
    if event_type not in PERSON_EVENT_TYPES:
        raise ValueError(f"unknown person webhook event type {event_type!r}")
    has_endpoint = conn.execute(
        sa.select(person_webhooks.c.person_id).where(person_webhooks.c.person_id == person_id)
    ).first()
    if has_endpoint is None:
        return None
    return _queue(conn, event_type, data, now, person_id=person_id)


def list_person_deliveries(conn: Connection, person_id: str, *, limit: int = 20) -> list[Delivery]:
    """The person's webhook events, newest first."""
    query = (
        sa.select(webhook_outbox)
        .where(webhook_outbox.c.person_id == person_id)
        .order_by(webhook_outbox.c.created_at.desc(), webhook_outbox.c.id)
        .limit(limit)
    )
    return [_delivery(r) for r in conn.execute(query)]
