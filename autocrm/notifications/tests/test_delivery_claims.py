"""One attempt as claim → send → record: no transaction, row lock or held connection while
the receiver answers, and each attempt recorded once, whatever workers die or overlap."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services
from autocrm.notifications.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from autocrm.notifications.services.delivery import CLAIM_LEASE
from autocrm.notifications.tasks import OVERDUE_AFTER, webhooks_sweep
from autocrm.notifications.tests.conftest import ReceivedRequest, Receiver
from autocrm.notifications.tests.helpers import deliver_jobs, deliveries, make_event
from autocrm.testing.database import runtime_connection
from autocrm.testing.worker import clear_jobs, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])


@pytest.fixture(autouse=True)
def _no_leftover_jobs() -> Iterator[None]:
    clear_jobs()
    yield
    clear_jobs()


def _delivery(tenant: Tenant, receiver: Receiver) -> WebhookDelivery:
    services.webhook_subscription_create(tenant=tenant, actor=SYSTEM, url=receiver.url)
    (delivery,) = services.webhook_deliveries_create_for_event(
        tenant=tenant, actor=SYSTEM, event=make_event(tenant)
    )
    return delivery


def _attempts(tenant: Tenant, delivery: WebhookDelivery) -> list[int]:
    with tenant_context(tenant):
        return list(
            WebhookDeliveryAttempt.objects.filter(delivery_id=delivery.pk)
            .order_by("number")
            .values_list("number", flat=True)
        )


def _attempt(tenant: Tenant, delivery: WebhookDelivery) -> WebhookDelivery | None:
    return services.webhook_delivery_attempt(
        tenant=tenant, actor=SYSTEM, delivery_id=delivery.pk, attempt=1
    )


def test_no_transaction_or_row_lock_is_held_while_the_receiver_answers(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    delivery = _delivery(tenant_a, receiver)
    seen: dict[str, Any] = {}

    def observe(request: ReceivedRequest) -> None:
        # Another connection looks at the database while the sender waits for us.
        with runtime_connection() as conn:
            seen["open_transactions"] = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%%'"
            ).fetchone()
            conn.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
            # NOWAIT: fails at once if the sender still holds the row lock.
            seen["claim"] = conn.execute(
                "SELECT claim_token IS NOT NULL, claimed_until > now() "
                "FROM notifications_webhookdelivery WHERE id = %s FOR UPDATE NOWAIT",
                [delivery.pk],
            ).fetchone()

    receiver.on_request = observe
    recorded = _attempt(tenant_a, delivery)

    assert receiver.hook_errors == []
    # The claim was committed before the request went out, and nothing else was held.
    assert seen == {"open_transactions": (0,), "claim": (True, True)}
    assert recorded is not None and recorded.status == DeliveryStatus.SUCCEEDED
    (stored,) = deliveries(tenant_a)
    assert (stored.claim_token, stored.claimed_until, stored.attempt_count) == (None, None, 1)
    assert _attempts(tenant_a, delivery) == [1]


def test_a_claimed_attempt_is_not_sent_twice_and_a_dead_workers_claim_is_retried_later(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    assert CLAIM_LEASE < OVERDUE_AFTER  # the sweeper never requeues a live claim's only job
    delivery = _delivery(tenant_a, receiver)
    # A worker claimed attempt 1 and died before recording it.
    with tenant_context(tenant_a):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            claim_token=uuid.uuid4(), claimed_until=timezone.now() + CLAIM_LEASE
        )
    # The job delivered again meanwhile (a redelivered job, a duplicate): nothing is sent.
    assert _attempt(tenant_a, delivery) is None
    assert receiver.requests == [] and _attempts(tenant_a, delivery) == []

    # Later: the lease ran out and the attempt is overdue, so the sweeper queues it again.
    clear_jobs()
    with tenant_context(tenant_a):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            claimed_until=timezone.now() - dt.timedelta(seconds=1),
            next_attempt_at=timezone.now() - OVERDUE_AFTER - dt.timedelta(minutes=1),
        )
    assert webhooks_sweep(timestamp=0) == 1
    assert [args["attempt"] for args, _ in deliver_jobs(delivery.pk)] == [1]
    run_worker_until_idle(queues=["webhooks"])

    (stored,) = deliveries(tenant_a)
    assert stored.status == DeliveryStatus.SUCCEEDED and stored.attempt_count == 1
    assert len(receiver.requests) == 1 and _attempts(tenant_a, delivery) == [1]


def test_a_worker_whose_claim_was_taken_over_records_nothing(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    delivery = _delivery(tenant_a, receiver)
    overtaken: dict[str, Any] = {}

    def take_over(request: ReceivedRequest) -> None:
        if overtaken:
            return
        overtaken["by"] = None
        try:  # the first worker is slow: its lease runs out, and a second one steps in
            with tenant_context(tenant_a):
                WebhookDelivery.objects.filter(pk=delivery.pk).update(
                    claimed_until=timezone.now() - dt.timedelta(seconds=1)
                )
            overtaken["by"] = _attempt(tenant_a, delivery)
        finally:
            connections.close_all()  # this server thread's own connections

    receiver.on_request = take_over
    first = _attempt(tenant_a, delivery)

    assert receiver.hook_errors == []
    assert first is None  # its answer came too late to be recorded
    second = overtaken["by"]
    assert second is not None and second.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 2  # at least once: the receiver dedupes on the id
    assert _attempts(tenant_a, delivery) == [1]
    (stored,) = deliveries(tenant_a)
    assert stored.attempt_count == 1 and stored.claim_token is None


def test_a_delivery_removed_during_the_send_records_nothing(
    tenant_a: Tenant, receiver: Receiver, allow_private: Any
) -> None:
    delivery = _delivery(tenant_a, receiver)

    def delete_webhook(request: ReceivedRequest) -> None:
        try:
            with tenant_context(tenant_a):
                subscription = WebhookSubscription.objects.get()
            services.webhook_subscription_delete(
                tenant=tenant_a, actor=SYSTEM, subscription=subscription
            )
        finally:
            connections.close_all()

    receiver.on_request = delete_webhook
    assert _attempt(tenant_a, delivery) is None
    assert receiver.hook_errors == [] and len(receiver.requests) == 1
    assert deliveries(tenant_a) == []
