"""What I am told (every new inquiry, decision, score change beyond the threshold and
dispute outcome), read/unread; and my own webhook that receives the same, signed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from openscore.api.deps import CurrentSubject, PageDep, StateDep
from openscore.services import notifications
from openscore.services.schemas_webhooks import (
    NotificationsPublic,
    NotificationsRead,
    NotificationsReadPublic,
    PersonWebhookPublic,
    PersonWebhookSet,
)

router = APIRouter(prefix="/v1/me", tags=["subjects: notifications"])


@router.get("/notifications", response_model=NotificationsPublic)
def list_notifications(
    state: StateDep,
    subject: CurrentSubject,
    page: PageDep,
    unread: Annotated[bool, Query(description="only the unread ones")] = False,
) -> NotificationsPublic:
    """My notifications, newest first, and how many are unread."""
    return notifications.list_notifications(
        state, subject.person_id, limit=page.limit, unread_only=unread
    )


@router.post("/notifications/read", response_model=NotificationsReadPublic)
def mark_read(
    state: StateDep, subject: CurrentSubject, body: NotificationsRead
) -> NotificationsReadPublic:
    """Mark notifications read (``ids``; all when left out). 404 for an id not mine."""
    return notifications.mark_read(state, subject.person_id, body.ids)


@router.get("/webhook", response_model=PersonWebhookPublic)
def read_webhook(state: StateDep, subject: CurrentSubject) -> PersonWebhookPublic:
    """My webhook's URL (never its secret); 404 when none is set."""
    return notifications.get_webhook(state, subject.person_id)


@router.put("/webhook", response_model=PersonWebhookPublic)
def set_webhook(
    state: StateDep, subject: CurrentSubject, body: PersonWebhookSet
) -> PersonWebhookPublic:
    """Set where my notifications are POSTed, signed with a new secret shown in this
    answer only. 422 (field ``url``) for a URL that is not http(s) or not on a public
    address. Delivery never holds up the event: a failing URL is retried with backoff."""
    return notifications.set_webhook(
        state, subject.person_id, body.url, allow_networks=state.api.webhook_allow_networks
    )


@router.delete("/webhook", status_code=204, response_class=Response)
def delete_webhook(state: StateDep, subject: CurrentSubject) -> Response:
    """Remove my webhook; events not yet sent are dropped. 404 when none is set."""
    notifications.delete_webhook(state, subject.person_id)
    return Response(status_code=204)
