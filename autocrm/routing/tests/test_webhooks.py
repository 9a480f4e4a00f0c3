"""Routing events reach webhooks: subscriptions to ``team.*`` and ``sla_policy.*`` receive
the signed deliveries of a team's and an SLA policy's changes through the real worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services as webhooks
from autocrm.notifications.signing import verify
from autocrm.notifications.tests.conftest import Receiver, allow_private, receiver
from autocrm.routing import services
from autocrm.testing.worker import clear_jobs, run_worker_until_idle

__all__ = ["allow_private", "receiver"]

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


@pytest.fixture(autouse=True)
def _no_leftover_jobs() -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


def test_team_and_sla_policy_events_are_delivered_to_subscribed_webhooks(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    sub = webhooks.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=receiver.url, event_types=["team.*", "sla_policy.*"]
    )
    with tenant_context(tenant_a):
        team = services.team_create(tenant=tenant_a, actor=SYSTEM, name="Billing")
        services.team_update(tenant=tenant_a, actor=SYSTEM, team=team, changes={"name": "Money"})
        services.sla_policy_create(
            tenant=tenant_a,
            actor=SYSTEM,
            name="Urgent",
            conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
            first_reply_minutes=60,
        )
    run_worker_until_idle(queues=["events", "webhooks"])

    received = sorted(receiver.requests, key=lambda r: int(r.headers["X-AutoCRM-Delivery"]))
    types = [r.headers["X-AutoCRM-Event"] for r in received]
    assert types == ["team.created", "team.updated", "sla_policy.created"]
    for request in received:
        verify(sub.secret, request.headers, request.body)
        assert json.loads(request.body)["tenant"] == tenant_a.slug
    assert json.loads(received[2].body)["data"]["name"] == "Urgent"
