from __future__ import annotations

from typing import Any

import pytest

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import EventHandling, Tenant
from autocrm.core.tasks import events_dispatch
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services
from autocrm.notifications.event_handlers import webhooks_fan_out
from autocrm.notifications.tests.helpers import deliver_jobs, deliveries, make_event

pytestmark = pytest.mark.django_db

URL = "http://93.184.215.14/hooks"


def _subscriptions(tenant: Tenant) -> Any:
    def create(types: list[str], active: bool = True) -> Any:
        return services.webhook_subscription_create(
            tenant=tenant, actor=SYSTEM, url=URL, event_types=types, active=active
        )

    return {
        "all": create([]),
        "tickets": create(["ticket.*"]),
        "created_only": create(["ticket.created"]),
        "contacts": create(["contact.*"]),
        "inactive": create([], active=False),
    }


def test_dispatch_creates_one_delivery_per_matching_active_subscription(tenant_a: Tenant) -> None:
    subs = _subscriptions(tenant_a)
    event = make_event(tenant_a, "ticket.created", {"subject": "Help"})
    events_dispatch(tenant_id=tenant_a.pk, event_id=event.pk)
    got = {d.subscription_id for d in deliveries(tenant_a, event=event)}
    assert got == {subs["all"].pk, subs["tickets"].pk, subs["created_only"].pk}
    with tenant_context(tenant_a):
        assert EventHandling.objects.filter(event=event, handler="webhooks").exists()

    updated = make_event(tenant_a, "ticket.updated")
    events_dispatch(tenant_id=tenant_a.pk, event_id=updated.pk)
    got = {d.subscription_id for d in deliveries(tenant_a, event=updated)}
    assert got == {subs["all"].pk, subs["tickets"].pk}


def test_each_new_delivery_queues_its_first_attempt_with_the_signed_body(tenant_a: Tenant) -> None:
    services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=URL)
    event = make_event(tenant_a, "contact.created", {"email": "x@example.test"})
    (delivery,) = services.webhook_deliveries_create_for_event(
        tenant=tenant_a, actor=SYSTEM, event=event
    )
    ((args, _),) = deliver_jobs(delivery.pk)
    assert args == {
        "tenant_id": tenant_a.pk,
        "delivery_id": delivery.pk,
        "attempt": 1,
        "manual": False,
    }
    import json

    body = json.loads(delivery.request_body)
    assert body == {
        "id": event.pk,
        "type": "contact.created",
        "created_at": event.created_at.isoformat(),
        "tenant": "acme",
        "subject": {"type": "tickets.ticket", "id": "42"},
        "actor": {"id": None, "label": "system:tests"},
        "data": {"email": "x@example.test"},
    }


def test_fanning_out_the_same_event_twice_creates_no_duplicates(tenant_a: Tenant) -> None:
    _subscriptions(tenant_a)
    event = make_event(tenant_a, "ticket.created")
    with tenant_context(tenant_a):
        webhooks_fan_out(event)
        first = deliveries(tenant_a, event=event)
        jobs = deliver_jobs()
        webhooks_fan_out(event)
    assert len(first) == 3
    assert deliveries(tenant_a, event=event) == first
    assert deliver_jobs() == jobs
    # A second dispatch of the event (e.g. by the sweeper) is harmless too.
    events_dispatch(tenant_id=tenant_a.pk, event_id=event.pk)
    events_dispatch(tenant_id=tenant_a.pk, event_id=event.pk)
    assert len(deliveries(tenant_a, event=event)) == 3


def test_webhook_events_are_delivered_without_feeding_back(tenant_a: Tenant) -> None:
    sub = services.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=URL, event_types=["webhook.*"]
    )
    with tenant_context(tenant_a):
        from autocrm.core.models import Event

        created = Event.objects.get(type="webhook.created")
    events_dispatch(tenant_id=tenant_a.pk, event_id=created.pk)
    (delivery,) = deliveries(tenant_a)
    assert delivery.subscription_id == sub.pk and delivery.event_type == "webhook.created"
    # Creating the delivery appended no event, so nothing else is waiting to be fanned out.
    with tenant_context(tenant_a):
        assert list(Event.objects.values_list("type", flat=True)) == ["webhook.created"]
