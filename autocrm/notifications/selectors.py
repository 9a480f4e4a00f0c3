"""Reads of outbound webhooks. Only owners and admins see them (``actor=None``: an
admin-scoped API key or the system). Call inside the tenant's context (request middleware,
task): row-level security hides every other tenant's rows, and each query also filters on
the tenant explicitly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from autocrm.accounts.models import ADMIN_ROLES, Membership
from autocrm.core.models import Tenant
from autocrm.notifications.models import (
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)

if TYPE_CHECKING:
    from autocrm.accounts.models import User


def _check_admin(*, tenant: Tenant, actor: User | None) -> None:
    if actor is None:
        return
    if not Membership.objects.filter(tenant=tenant, user=actor, role__in=ADMIN_ROLES).exists():
        raise PermissionDenied("Only owners and admins can see webhooks.")


def webhook_subscription_list(
    *, tenant: Tenant, actor: User | None
) -> QuerySet[WebhookSubscription]:
    """The tenant's subscriptions, newest first."""
    _check_admin(tenant=tenant, actor=actor)
    return WebhookSubscription.objects.filter(tenant=tenant).order_by("-created_at", "-pk")


def webhook_subscription_get(
    *, tenant: Tenant, actor: User | None, subscription_id: int
) -> WebhookSubscription:
    """Raises WebhookSubscription.DoesNotExist for an unknown id or another tenant's."""
    _check_admin(tenant=tenant, actor=actor)
    return WebhookSubscription.objects.get(tenant=tenant, pk=subscription_id)


def webhook_delivery_list(
    *,
    tenant: Tenant,
    actor: User | None,
    subscription: WebhookSubscription,
    status: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """Deliveries of one subscription, newest first, optionally of one status."""
    _check_admin(tenant=tenant, actor=actor)
    deliveries = WebhookDelivery.objects.filter(tenant=tenant, subscription=subscription)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-pk")


def webhook_delivery_get(
    *, tenant: Tenant, actor: User | None, delivery_id: int, subscription_id: int | None = None
) -> WebhookDelivery:
    """One delivery (of ``subscription_id`` when given); raises WebhookDelivery.DoesNotExist."""
    _check_admin(tenant=tenant, actor=actor)
    deliveries = WebhookDelivery.objects.filter(tenant=tenant, pk=delivery_id)
    if subscription_id is not None:
        deliveries = deliveries.filter(subscription_id=subscription_id)
    return deliveries.get()


def webhook_delivery_attempts(
    *, tenant: Tenant, actor: User | None, delivery: WebhookDelivery
) -> QuerySet[WebhookDeliveryAttempt]:
    """The attempt log of a delivery, oldest first."""
    _check_admin(tenant=tenant, actor=actor)
    return WebhookDeliveryAttempt.objects.filter(tenant=tenant, delivery=delivery).order_by(
        "number"
    )
