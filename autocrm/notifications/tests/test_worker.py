"""End to end with a real procrastinate worker in-process: a committed event reaches the
receiver through core.events_dispatch → the webhooks fan-out → notifications.webhook_deliver,
and a failed attempt comes back as a scheduled retry job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.notifications import services
from autocrm.notifications.models import DeliveryStatus
from autocrm.notifications.signing import verify
from autocrm.notifications.tests.conftest import Receiver
from autocrm.notifications.tests.helpers import deliver_jobs, deliveries, make_event
from autocrm.testing.worker import clear_jobs, make_jobs_due, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


@pytest.fixture(autouse=True)
def _no_leftover_jobs() -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


def test_a_committed_event_is_delivered_by_the_worker_and_retried(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    sub = services.webhook_subscription_create(
        tenant=tenant_a, actor=SYSTEM, url=receiver.url, event_types=["ticket.*"]
    )
    receiver.script(500)
    event = make_event(tenant_a, "ticket.created")

    run_worker_until_idle(queues=["events", "webhooks"])
    # webhook.created did not match the filter; ticket.created was tried once and failed.
    (first,) = receiver.requests
    assert first.headers["X-AutoCRM-Event"] == "ticket.created"
    (delivery,) = deliveries(tenant_a)
    assert delivery.event_id == event.pk and delivery.status == DeliveryStatus.RETRYING
    assert [args["attempt"] for args, _ in deliver_jobs(delivery.pk)] == [1, 2]

    run_worker_until_idle(queues=["events", "webhooks"])
    assert len(receiver.requests) == 1  # the retry is not due yet

    make_jobs_due()
    run_worker_until_idle(queues=["events", "webhooks"])
    first, second = receiver.requests
    verify(sub.secret, second.headers, second.body)
    assert second.body == first.body
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempt_count == 2


def test_the_sweeper_requeues_an_attempt_whose_job_was_lost(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from autocrm.core.tenancy import tenant_context
    from autocrm.notifications.models import WebhookDelivery
    from autocrm.notifications.tasks import OVERDUE_AFTER, webhooks_sweep

    services.webhook_subscription_create(tenant=tenant_a, actor=SYSTEM, url=receiver.url)
    (delivery,) = services.webhook_deliveries_create_for_event(
        tenant=tenant_a, actor=SYSTEM, event=make_event(tenant_a, "ticket.created")
    )
    # The job is lost (deleted by an operator, say) and the attempt is long overdue.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    assert webhooks_sweep(timestamp=0) == 0  # not overdue yet: nothing to do
    with tenant_context(tenant_a):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - OVERDUE_AFTER - dt.timedelta(minutes=1)
        )

    assert webhooks_sweep(timestamp=0) == 1
    assert [args["attempt"] for args, _ in deliver_jobs(delivery.pk)] == [1]
    run_worker_until_idle(queues=["webhooks"])
    (delivery,) = deliveries(tenant_a)
    assert delivery.status == DeliveryStatus.SUCCEEDED and len(receiver.requests) == 1
