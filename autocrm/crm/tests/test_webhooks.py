"""Deal and activity events reach webhooks: a subscription to them receives the signed
deliveries of a deal created and moved to another stage and of an activity created and
completed, through the real worker (core.events_dispatch, the webhooks fan-out,
notifications.webhook_deliver) and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from autocrm.accounts.tests.factories import SYSTEM, actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import services
from autocrm.notifications import services as webhooks
from autocrm.notifications.models import DeliveryStatus
from autocrm.notifications.signing import SignatureError, verify
from autocrm.notifications.tests.conftest import ReceivedRequest, Receiver, allow_private, receiver
from autocrm.notifications.tests.helpers import deliveries
from autocrm.testing.worker import clear_jobs, run_worker_until_idle

__all__ = ["allow_private", "receiver"]

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])

SUBSCRIBED = ["deal.created", "deal.stage_changed", "activity.created", "activity.completed"]


@pytest.fixture(autouse=True)
def _no_leftover_jobs() -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


def _by_delivery(receiver: Receiver) -> list[ReceivedRequest]:
    return sorted(receiver.requests, key=lambda r: int(r.headers["X-AutoCRM-Delivery"]))


def test_deal_and_activity_events_are_delivered_signed_to_a_subscribed_webhook(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    sub = webhooks.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=receiver.url, event_types=SUBSCRIBED
    )
    kim = member(tenant_a, "agent", email="kim@acme.test", name="Kim Seller")
    kim_actor = actor_of(tenant_a, kim)
    due = timezone.now() + dt.timedelta(days=1)
    with tenant_context(tenant_a):
        sales = services.pipeline_create(tenant=tenant_a, actor=SYSTEM, name="Sales")
        first, second = list(sales.stages.order_by("position"))[:2]
        renewal = services.deal_create(
            tenant=tenant_a,
            actor=kim_actor,
            title="Initech renewal",
            pipeline_id=sales.pk,
            stage_id=first.pk,
            amount="24000",
            currency="EUR",
        )
        services.deal_move(tenant=tenant_a, actor=kim_actor, deal=renewal, stage_id=second.pk)
        call = services.activity_create(
            tenant=tenant_a,
            actor=kim_actor,
            kind="call",
            subject="Renewal call",
            due_at=due,
            deal_id=renewal.pk,
        )
        services.activity_update(
            tenant=tenant_a, actor=kim_actor, activity=call, changes={"done": True}
        )
    run_worker_until_idle(queues=["events", "webhooks"])

    received = _by_delivery(receiver)
    # Exactly the subscribed types, in the order they happened: not the pipeline's creation,
    # the deal.updated/activity.updated that came with them, or the subscription's own event.
    assert [r.headers["X-AutoCRM-Event"] for r in received] == SUBSCRIBED
    bodies = []
    for request in received:
        timestamp = verify(sub.secret, request.headers, request.body)
        assert timestamp == int(request.headers["X-AutoCRM-Timestamp"])
        with pytest.raises(SignatureError):
            verify("whsec_not_this_one", request.headers, request.body)
        body = json.loads(request.body)
        assert body["type"] == request.headers["X-AutoCRM-Event"]
        assert body["tenant"] == tenant_a.slug
        assert body["actor"]["id"] == kim.pk
        bodies.append(body)
    created, moved, added, done = bodies
    assert created["subject"] == {"type": "crm.deal", "id": str(renewal.pk)}
    assert created["data"]["title"] == "Initech renewal"
    assert (created["data"]["amount"], created["data"]["currency"]) == ("24000.00", "EUR")
    assert created["data"]["stage_id"] == first.pk
    assert moved["subject"] == created["subject"]
    assert (moved["data"]["from_stage"], moved["data"]["to_stage"]) == (first.name, second.name)
    assert moved["data"]["changes"]["stage_id"] == {"from": first.pk, "to": second.pk}
    assert added["subject"] == {"type": "crm.activity", "id": str(call.pk)}
    assert added["data"]["subject"] == "Renewal call" and added["data"]["kind"] == "call"
    assert added["data"]["deal_id"] == renewal.pk
    assert dt.datetime.fromisoformat(added["data"]["due_at"]) == due
    assert done["subject"] == added["subject"]
    assert done["data"] == {"subject": "Renewal call", "kind": "call"}

    assert {d.status for d in deliveries(tenant_a)} == {DeliveryStatus.SUCCEEDED}
    assert len(deliveries(tenant_a)) == len(SUBSCRIBED)


def test_wildcard_subscriptions_get_the_deal_and_activity_events(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    """``deal.*`` and ``activity.*`` match the CRM's types as they match the tickets': a
    move is one deal.stage_changed and a completion one activity.completed, each delivered
    once and signed."""
    sub = webhooks.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=receiver.url, event_types=["deal.*", "activity.*"]
    )
    with tenant_context(tenant_a):
        sales = services.pipeline_create(tenant=tenant_a, actor=SYSTEM, name="Sales")
        stages = list(sales.stages.order_by("position"))
        lead = services.deal_create(
            tenant=tenant_a, actor=SYSTEM, title="Pilot", pipeline_id=sales.pk
        )
        services.deal_move(tenant=tenant_a, actor=SYSTEM, deal=lead, stage_id=stages[2].pk)
        task = services.activity_create(
            tenant=tenant_a, actor=SYSTEM, kind="task", subject="Send the quote", deal_id=lead.pk
        )
        services.activity_update(
            tenant=tenant_a, actor=SYSTEM, activity=task, changes={"done": True}
        )
    run_worker_until_idle(queues=["events", "webhooks"])

    received = _by_delivery(receiver)
    assert [r.headers["X-AutoCRM-Event"] for r in received] == SUBSCRIBED
    for request in received:
        verify(sub.secret, request.headers, request.body)
        assert json.loads(request.body)["actor"] == {"id": None, "label": SYSTEM.label}
