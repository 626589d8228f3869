"""A person's notifications (list, unread count, mark read) and their own webhook (set,
delete): what the API's ``/v1/me/notifications`` and ``/v1/me/webhook`` and the portal's
notifications page call. The notifications themselves are written by the registry in the
transaction of their event (``registry/notifications.py``)."""

from __future__ import annotations

from openscore.registry import notifications as store
from openscore.registry import webhooks as outbox
from openscore.services import webhooks
from openscore.services.context import Context
from openscore.services.schemas_webhooks import (
    NotificationPublic,
    NotificationsPublic,
    NotificationsReadPublic,
    PersonWebhookPublic,
)


def notification_public(note: store.Notification) -> NotificationPublic:
    return NotificationPublic(
        id=note.id,
        kind=note.kind,  # type: ignore[arg-type]
        text=note.text,
        data=note.data,
        created_at=note.created_at,
        read_at=note.read_at,
        unread=note.unread,
    )


def list_notifications(
    state: Context, person_id: str, *, limit: int = 50, unread_only: bool = False
) -> NotificationsPublic:
    with state.read() as conn:
        found = store.list_notifications(conn, person_id, limit=limit, unread_only=unread_only)
        unread = store.unread_count(conn, person_id)
    return NotificationsPublic(items=[notification_public(n) for n in found], unread=unread)


def unread_count(state: Context, person_id: str) -> int:
    with state.read() as conn:
        return store.unread_count(conn, person_id)


def mark_read(state: Context, person_id: str, ids: list[str] | None) -> NotificationsReadPublic:
    with state.write() as conn:
        marked = store.mark_read(conn, person_id, ids)
        unread = store.unread_count(conn, person_id)
    return NotificationsReadPublic(marked=marked, unread=unread)


def get_webhook(state: Context, person_id: str) -> PersonWebhookPublic:
    with state.read() as conn:
        endpoint = outbox.get_person_endpoint(conn, person_id)
    return PersonWebhookPublic(url=endpoint.url, created_at=endpoint.created_at)


def set_webhook(
    state: Context, person_id: str, url: str, *, allow_networks: str
) -> PersonWebhookPublic:
    """Set the person's webhook (a new secret, returned here only). The SSRF guard is the
    partners': http(s), no credentials, public addresses only unless the operator allows
    a network (``OPENSCORE_API_WEBHOOK_ALLOW_NETWORKS``); :class:`InputError` on ``url``."""
    url = webhooks.check_url(url, allow=webhooks.parse_networks(allow_networks))
    with state.write() as conn:
        endpoint = outbox.set_person_endpoint(conn, person_id, url)
    return PersonWebhookPublic(
        url=endpoint.url, created_at=endpoint.created_at, secret=endpoint.secret
    )


def delete_webhook(state: Context, person_id: str) -> None:
    with state.write() as conn:
        outbox.delete_person_endpoint(conn, person_id)
