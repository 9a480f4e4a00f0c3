"""A tenant never sees or touches another tenant's webhooks or deliveries."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from autocrm.accounts.tests.factories import SYSTEM, actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tasks import events_dispatch
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import selectors, services
from autocrm.notifications.models import (
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from autocrm.notifications.tasks import webhook_deliver
from autocrm.notifications.tests.conftest import Receiver
from autocrm.notifications.tests.helpers import deliveries, make_event

pytestmark = pytest.mark.django_db


@dataclass
class Scene:
    sub_a: WebhookSubscription
    sub_b: WebhookSubscription
    delivery_a: WebhookDelivery


@pytest.fixture
def scene(tenant_a: Tenant, tenant_b: Tenant, receiver: Receiver, allow_private: object) -> Scene:
    sub_a = services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=receiver.url)
    sub_b = services.webhook_subscription_create(tenant=tenant_b, actor=SYSTEM, url=receiver.url)
    event_a = make_event(tenant_a, "ticket.created")
    events_dispatch(tenant_id=tenant_a.pk, event_id=event_a.pk)
    (delivery_a,) = deliveries(tenant_a)
    webhook_deliver(tenant_id=tenant_a.pk, delivery_id=delivery_a.pk, attempt=1)
    return Scene(sub_a=sub_a, sub_b=sub_b, delivery_a=delivery_a)


def test_an_event_is_delivered_only_to_its_own_tenants_subscriptions(
    tenant_a: Tenant, tenant_b: Tenant, scene: Scene, receiver: Receiver
) -> None:
    assert deliveries(tenant_b) == []
    (request,) = receiver.requests
    assert b'"tenant":"acme"' in request.body


def test_selectors_of_another_tenant_find_nothing(
    tenant_a: Tenant, tenant_b: Tenant, scene: Scene
) -> None:
    sub_a, delivery_a = scene.sub_a, scene.delivery_a
    admin_b = member(tenant_b, "admin")
    with tenant_context(tenant_b):
        assert [
            s.pk
            for s in selectors.webhook_subscription_list(
                tenant=tenant_b, actor=actor_of(tenant_b, admin_b)
            )
        ] == [scene.sub_b.pk]
        with pytest.raises(WebhookSubscription.DoesNotExist):
            selectors.webhook_subscription_get(
                tenant=tenant_b, actor=actor_of(tenant_b, admin_b), subscription_id=sub_a.pk
            )
        with pytest.raises(WebhookDelivery.DoesNotExist):
            selectors.webhook_delivery_get(
                tenant=tenant_b, actor=actor_of(tenant_b, admin_b), delivery_id=delivery_a.pk
            )
        assert not selectors.webhook_delivery_list(
            tenant=tenant_b, actor=actor_of(tenant_b, admin_b), subscription=sub_a
        ).exists()
        # Row-level security hides them even from a query that forgets the tenant filter.
        assert not WebhookSubscription.objects.filter(pk=sub_a.pk).exists()
        assert not WebhookDelivery.objects.exists()
        assert not WebhookDeliveryAttempt.objects.exists()
    with tenant_context(tenant_a):
        assert (
            selectors.webhook_delivery_get(tenant=tenant_a, actor=SYSTEM, delivery_id=delivery_a.pk)
            == delivery_a
        )


def test_services_of_another_tenant_cannot_touch_them(
    tenant_a: Tenant, tenant_b: Tenant, scene: Scene, receiver: Receiver
) -> None:
    sub_a, delivery_a = scene.sub_a, scene.delivery_a
    with pytest.raises(WebhookSubscription.DoesNotExist):
        services.webhook_subscription_update(
            tenant=tenant_b, actor=SYSTEM, subscription=sub_a, description="hijacked"
        )
    with pytest.raises(WebhookSubscription.DoesNotExist):
        services.webhook_subscription_rotate_secret(
            tenant=tenant_b, actor=SYSTEM, subscription=sub_a
        )
    with pytest.raises(WebhookSubscription.DoesNotExist):
        services.webhook_subscription_delete(tenant=tenant_b, actor=SYSTEM, subscription=sub_a)
    with pytest.raises(WebhookDelivery.DoesNotExist):
        services.webhook_redeliver(tenant=tenant_b, actor=SYSTEM, delivery=delivery_a)
    # A job carrying the wrong tenant for a pending delivery finds nothing to send.
    (pending,) = services.webhook_deliveries_create_for_event(
        tenant=tenant_a, actor=SYSTEM, event=make_event(tenant_a, "ticket.updated")
    )
    assert (
        services.webhook_delivery_attempt(
            tenant=tenant_b, actor=SYSTEM, delivery_id=pending.pk, attempt=1
        )
        is None
    )
    assert len(receiver.requests) == 1
    services.webhook_delivery_attempt(
        tenant=tenant_a, actor=SYSTEM, delivery_id=pending.pk, attempt=1
    )
    assert len(receiver.requests) == 2
    with tenant_context(tenant_a):
        sub = WebhookSubscription.objects.get(pk=sub_a.pk)
    assert sub.description == "" and sub.secret == sub_a.secret


def test_an_admin_of_another_tenant_is_not_an_admin_here(
    tenant_a: Tenant, tenant_b: Tenant, scene: Scene
) -> None:
    admin_b = member(tenant_b, "admin")
    with pytest.raises(Exception, match="owners and admins"):
        services.webhook_subscription_create(
            tenant=tenant_a, actor=actor_of(tenant_b, admin_b), url="http://93.184.215.14/h"
        )
    with tenant_context(tenant_a), pytest.raises(Exception, match="owners and admins"):
        selectors.webhook_subscription_list(tenant=tenant_a, actor=actor_of(tenant_b, admin_b))
