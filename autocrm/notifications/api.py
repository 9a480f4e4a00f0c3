"""Webhooks API (admin only): subscriptions, their delivery log, secret rotation and
redelivery. Thin: parse -> selector or service -> schema."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from autocrm.core.api import keyset_response, page_of, require, secret_response
from autocrm.core.api.pagination import Cursor, Limit
from autocrm.notifications import selectors, services
from autocrm.notifications.schemas import (
    DeliveryStatusName,
    WebhookDeliveryDetailOut,
    WebhookDeliveryOut,
    WebhookIn,
    WebhookOut,
    WebhookPatchIn,
    WebhookWithSecretOut,
)

router = Router(tags=["webhooks"])


@router.get(
    "",
    response=page_of(WebhookOut),
    summary="List webhooks",
    description="Newest first. Secrets are not included. Admin only.",
)
def webhooks_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    who = require(request, "admin")
    return keyset_response(
        selectors.webhook_subscription_list(tenant=who.tenant, actor=who.actor),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "",
    response={201: WebhookWithSecretOut},
    summary="Create a webhook",
    description="The URL must be http(s) on a public address (422 naming `body.url` "
    "otherwise). The response holds the signing secret; a retry with the same "
    "Idempotency-Key gets a 409, never the secret again. Admin only.",
)
@secret_response
def webhooks_create(request: HttpRequest, payload: WebhookIn) -> Any:
    who = require(request, "admin")
    subscription = services.webhook_subscription_create(
        tenant=who.tenant,
        actor=who.actor,
        url=payload.url,
        event_types=payload.event_types,
        description=payload.description,
        active=payload.active,
    )
    return Status(201, subscription)


@router.get(
    "/{webhook_subscription_id}",
    response=WebhookOut,
    summary="Get a webhook",
    description="Admin only.",
)
def webhooks_get(request: HttpRequest, webhook_subscription_id: int) -> Any:
    who = require(request, "admin")
    return selectors.webhook_subscription_get(
        tenant=who.tenant, actor=who.actor, subscription_id=webhook_subscription_id
    )


@router.patch(
    "/{webhook_subscription_id}",
    response=WebhookOut,
    summary="Change a webhook",
    description="Only the fields sent change. A new URL is checked like on create. "
    "`active: true` re-enables a webhook disabled after persistent failures. Admin only.",
)
def webhooks_update(
    request: HttpRequest, webhook_subscription_id: int, payload: WebhookPatchIn
) -> Any:
    who = require(request, "admin")
    subscription = selectors.webhook_subscription_get(
        tenant=who.tenant, actor=who.actor, subscription_id=webhook_subscription_id
    )
    return services.webhook_subscription_update(
        tenant=who.tenant,
        actor=who.actor,
        subscription=subscription,
        url=payload.url,
        event_types=payload.event_types,
        description=payload.description,
        active=payload.active,
    )


@router.delete(
    "/{webhook_subscription_id}",
    response={204: None},
    summary="Delete a webhook",
    description="With its delivery log; pending retries stop. Admin only.",
)
def webhooks_delete(request: HttpRequest, webhook_subscription_id: int) -> Status[None]:
    who = require(request, "admin")
    subscription = selectors.webhook_subscription_get(
        tenant=who.tenant, actor=who.actor, subscription_id=webhook_subscription_id
    )
    services.webhook_subscription_delete(
        tenant=who.tenant, actor=who.actor, subscription=subscription
    )
    return Status(204, None)


@router.post(
    "/{webhook_subscription_id}/rotate-secret",
    response=WebhookWithSecretOut,
    summary="Rotate the signing secret",
    description="A new secret replaces the old one at once; the response shows it once. "
    "Admin only.",
)
@secret_response
def webhooks_rotate_secret(request: HttpRequest, webhook_subscription_id: int) -> Any:
    who = require(request, "admin")
    subscription = selectors.webhook_subscription_get(
        tenant=who.tenant, actor=who.actor, subscription_id=webhook_subscription_id
    )
    return services.webhook_subscription_rotate_secret(
        tenant=who.tenant, actor=who.actor, subscription=subscription
    )


@router.get(
    "/{webhook_subscription_id}/deliveries",
    response=page_of(WebhookDeliveryOut),
    summary="List a webhook's deliveries",
    description="Newest first, optionally of one status. Admin only.",
)
def webhook_deliveries_list(
    request: HttpRequest,
    webhook_subscription_id: int,
    status: DeliveryStatusName | None = None,
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    who = require(request, "admin")
    subscription = selectors.webhook_subscription_get(
        tenant=who.tenant, actor=who.actor, subscription_id=webhook_subscription_id
    )
    return keyset_response(
        selectors.webhook_delivery_list(
            tenant=who.tenant, actor=who.actor, subscription=subscription, status=status
        ),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/{webhook_subscription_id}/deliveries/{webhook_delivery_id}",
    response=WebhookDeliveryDetailOut,
    summary="Get a delivery with its attempts",
    description="The body sent and every attempt's request headers and response. Admin only.",
)
def webhook_deliveries_get(
    request: HttpRequest, webhook_subscription_id: int, webhook_delivery_id: int
) -> Any:
    who = require(request, "admin")
    delivery = selectors.webhook_delivery_get(
        tenant=who.tenant,
        actor=who.actor,
        delivery_id=webhook_delivery_id,
        subscription_id=webhook_subscription_id,
    )
    attempts = selectors.webhook_delivery_attempts(
        tenant=who.tenant, actor=who.actor, delivery=delivery
    )
    return {
        **WebhookDeliveryOut.from_orm(delivery).model_dump(),
        "request_body": delivery.request_body,
        "attempts": list(attempts),
    }


@router.post(
    "/{webhook_subscription_id}/deliveries/{webhook_delivery_id}/redeliver",
    response={202: WebhookDeliveryOut},
    summary="Redeliver",
    description="Queues one more attempt now with the same body and delivery id (fresh "
    "timestamp and signature). Not for a delivery already scheduled, nor while the "
    "webhook is disabled (422). A failed redelivery is not retried automatically. "
    "Admin only.",
)
def webhook_deliveries_redeliver(
    request: HttpRequest, webhook_subscription_id: int, webhook_delivery_id: int
) -> Any:
    who = require(request, "admin")
    delivery = selectors.webhook_delivery_get(
        tenant=who.tenant,
        actor=who.actor,
        delivery_id=webhook_delivery_id,
        subscription_id=webhook_subscription_id,
    )
    return Status(
        202, services.webhook_redeliver(tenant=who.tenant, actor=who.actor, delivery=delivery)
    )
