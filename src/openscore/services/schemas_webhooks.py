"""Request and answer models of partner webhooks (``/v1/partner/webhook*``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from openscore.services.schemas import In, Out

WebhookUrl = Annotated[str, StringConstraints(pattern=r"^https?://[!-~]{1,2040}$")]


class WebhookEndpointSet(In):
    url: WebhookUrl = Field(
        description="http(s) URL on a public address; redirects are not followed"
    )
    rotate_secret: bool = Field(default=False, description="make a new signing secret")


class WebhookEndpointPublic(Out):
    url: str
    created_at: datetime
    updated_at: datetime
    secret: str | None = Field(
        default=None,
        description="the signing secret: in the answer that made it only (first "
        "registration or rotate_secret)",
    )


class WebhookDeliveryPublic(Out):
    id: str = Field(description="the event id (Openscore-Event-Id): deduplicate on it")
    event_type: str
    data: dict[str, Any]
    created_at: datetime
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None


class WebhookDeliveriesPublic(Out):
    items: list[WebhookDeliveryPublic]


class WebhookPingPublic(Out):
    event_id: str


class PersonWebhookSet(In):
    url: WebhookUrl = Field(
        description="where your notifications are POSTed, signed: an http(s) URL on a "
        "public address; redirects are not followed"
    )


class PersonWebhookPublic(Out):
    url: str
    created_at: datetime
    secret: str | None = Field(
        default=None,
        description="the signing secret (Openscore-Signature: t=…,v1=HMAC-SHA256 of "
        "'<t>.<body>'): shown in the answer that set the webhook only",
    )


class NotificationPublic(Out):
    id: str
    kind: Literal["inquiry", "decision", "score_change", "dispute_outcome"]
    text: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None
    unread: bool


class NotificationsPublic(Out):
    items: list[NotificationPublic]
    unread: int = Field(description="how many of all your notifications are unread")


class NotificationsRead(In):
    ids: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] | None = Field(
        default=None,
        max_length=200,
        description="the notifications to mark read; leave out to mark all read",
    )


class NotificationsReadPublic(Out):
    marked: int
    unread: int
