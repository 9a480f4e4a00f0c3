"""Reads of outbound webhooks. Only owners and admins see them (and admin-scoped API keys
and system jobs). Call inside the tenant's context (request middleware,
task): row-level security hides every other tenant's rows, and each query also filters on
the tenant explicitly."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.notifications.models import (
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)


def _check_admin(tenant: Tenant, actor: Actor) -> None:
    if not (actor.is_admin and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only owners and admins can see webhooks.")


def webhook_subscription_list(*, tenant: Tenant, actor: Actor) -> QuerySet[WebhookSubscription]:
    """The tenant's subscriptions, newest first."""
    _check_admin(tenant, actor)
    return (
        WebhookSubscription.objects.filter(tenant=tenant)
        .select_related("created_by")  # shown as the creator's email
        .order_by("-created_at", "-pk")
    )


def webhook_subscription_get(
    *, tenant: Tenant, actor: Actor, subscription_id: int
) -> WebhookSubscription:
    """Raises WebhookSubscription.DoesNotExist for an unknown id or another tenant's."""
    _check_admin(tenant, actor)
    return WebhookSubscription.objects.get(tenant=tenant, pk=subscription_id)


def webhook_delivery_list(
    *,
    tenant: Tenant,
    actor: Actor,
    subscription: WebhookSubscription,
    status: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """Deliveries of one subscription, newest first, optionally of one status."""
    _check_admin(tenant, actor)
    deliveries = WebhookDelivery.objects.filter(tenant=tenant, subscription=subscription)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-pk")


def webhook_delivery_get(
    *, tenant: Tenant, actor: Actor, delivery_id: int, subscription_id: int | None = None
) -> WebhookDelivery:
    """One delivery (of ``subscription_id`` when given); raises WebhookDelivery.DoesNotExist."""
    _check_admin(tenant, actor)
    deliveries = WebhookDelivery.objects.filter(tenant=tenant, pk=delivery_id)
    if subscription_id is not None:
        deliveries = deliveries.filter(subscription_id=subscription_id)
    return deliveries.get()


def webhook_delivery_attempts(
    *, tenant: Tenant, actor: Actor, delivery: WebhookDelivery
) -> QuerySet[WebhookDeliveryAttempt]:
    """The attempt log of a delivery, oldest first."""
    _check_admin(tenant, actor)
    return WebhookDeliveryAttempt.objects.filter(tenant=tenant, delivery=delivery).order_by(
        "number"
    )
