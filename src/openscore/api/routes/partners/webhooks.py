"""A partner's webhook endpoint, and the events openscore sent (or is sending) to it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from openscore.api.deps import PageDep, PartnerPrincipal, StateDep
from openscore.errors import NotFound
from openscore.registry import webhooks as outbox
from openscore.services import webhooks as service
from openscore.services.schemas_webhooks import (
    WebhookDeliveriesPublic,
    WebhookDeliveryPublic,
    WebhookEndpointPublic,
    WebhookEndpointSet,
    WebhookPingPublic,
)

router = APIRouter(prefix="/v1/partner", tags=["partners"])


def endpoint_public(endpoint: outbox.Endpoint, *, with_secret: bool) -> WebhookEndpointPublic:
    return WebhookEndpointPublic(
        url=endpoint.url,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
        secret=endpoint.secret if with_secret else None,
    )


def delivery_public(d: outbox.Delivery) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic(
        id=d.id,
        event_type=d.event_type,
        data=d.payload,
        created_at=d.created_at,
        status=d.status,  # type: ignore[arg-type]
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_attempt_at=d.last_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
    )


@router.put("/webhook", response_model=WebhookEndpointPublic)
def set_webhook(
    state: StateDep, principal: PartnerPrincipal, body: WebhookEndpointSet
) -> WebhookEndpointPublic:
    """Register (or change) where events are POSTed. The answer that creates the signing
    secret is the only one that shows it. 422 for a URL that is not http(s) or not on a
    public address."""
    url = service.check_url(
        body.url, allow=service.parse_networks(state.api.webhook_allow_networks)
    )
    with state.write() as conn:
        endpoint, fresh = outbox.set_endpoint(
            conn, principal.partner_id, url, rotate_secret=body.rotate_secret
        )
    return endpoint_public(endpoint, with_secret=fresh)


@router.get("/webhook", response_model=WebhookEndpointPublic)
def read_webhook(state: StateDep, principal: PartnerPrincipal) -> WebhookEndpointPublic:
    """The registered endpoint (404 if none), without its secret."""
    with state.read() as conn:
        return endpoint_public(outbox.get_endpoint(conn, principal.partner_id), with_secret=False)


@router.delete("/webhook", status_code=204)
def delete_webhook(state: StateDep, principal: PartnerPrincipal) -> Response:
    """Stop sending events; those still pending are dropped."""
    with state.write() as conn:
        outbox.delete_endpoint(conn, principal.partner_id)
    return Response(status_code=204)


@router.post("/webhook/ping", status_code=202, response_model=WebhookPingPublic)
def ping_webhook(state: StateDep, principal: PartnerPrincipal) -> WebhookPingPublic:
    """Queue a ``webhook.ping`` event, to test the endpoint and its signature check."""
    with state.write() as conn:
        event_id = outbox.enqueue_event(conn, principal.partner_id, "webhook.ping", {})
    if event_id is None:
        raise NotFound("no webhook endpoint is registered")
    return WebhookPingPublic(event_id=event_id)


@router.get("/webhook-deliveries", response_model=WebhookDeliveriesPublic)
def list_deliveries(
    state: StateDep,
    principal: PartnerPrincipal,
    page: PageDep,
    status: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(description="only these")
    ] = None,
) -> WebhookDeliveriesPublic:
    """Events for this partner, newest first: attempts, last answer, next try."""
    with state.read() as conn:
        items = outbox.list_deliveries(conn, principal.partner_id, limit=page.limit, status=status)
    return WebhookDeliveriesPublic(items=[delivery_public(d) for d in items])
