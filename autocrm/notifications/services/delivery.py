"""Delivery of events to webhook subscriptions (worker side), and redelivery on request.

One attempt is three steps, so no transaction, row lock or pooled connection is held while
the receiver takes its time (up to transport.TIMEOUT_SECONDS):

1. **claim**, a short transaction: the delivery row is locked, the attempt checked to be the
   next one, and a lease (``claim_token``, ``claimed_until``) written and committed;
2. **send**, with no transaction open;
3. **record**, a second short transaction: only the holder of the claim records the
   attempt, once ((delivery, number) is also unique), and schedules what comes next.

A duplicate job (or one overtaken by a redelivery) finds the attempt claimed or done and
does nothing. A worker that dies between claim and record leaves a claim that expires: the
sweeper (tasks.webhooks_sweep) queues the attempt again after OVERDUE_AFTER, longer than
the lease, and that job claims it anew. The receiver may then see the delivery twice (at
least once, as documented); it is recorded once.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.jobs import JobDeferrer
from procrastinate.manager import JobManager

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import events, transport
from autocrm.notifications.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from autocrm.notifications.services.payloads import webhook_body, webhook_request_headers
from autocrm.notifications.services.subscriptions import (
    event_type_matches,
    require_webhook_admin,
    webhook_subscription_disable,
)

# Retries: 1 min doubling up to 2 h, +-20 % jitter; 19 attempts span about 24 hours.
RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 2 * 3600
RETRY_JITTER = 0.2
MAX_ATTEMPTS = 19
# How long a claimed attempt belongs to its worker: well over one send (DNS + the
# transport's deadline), well under the sweeper's OVERDUE_AFTER.
CLAIM_LEASE = dt.timedelta(minutes=5)
SCHEDULED = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)

_transactional_jobs = JobManager(connector=DjangoConnector(alias=DEFAULT_DB_ALIAS))


def retry_delay(failed_attempt: int) -> dt.timedelta:
    """Backoff after the ``failed_attempt``-th attempt (1-based): 1, 2, 4 ... 120 minutes,
    with jitter so a recovering receiver is not hit by every retry at once."""
    base = min(RETRY_BASE_SECONDS * 2 ** (failed_attempt - 1), RETRY_CAP_SECONDS)
    jitter = random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)  # noqa: S311 - not security
    return dt.timedelta(seconds=base * jitter)


def _defer_attempt(
    delivery: WebhookDelivery, *, manual: bool = False, at: dt.datetime | None = None
) -> None:
    """Queue the next attempt in the caller's transaction: the job is written on Django's
    connection, so it exists only if the transaction commits (also inside the worker, whose
    own connector is a separate pool; same mechanism as autocrm.core.events)."""
    from autocrm.notifications.tasks import webhook_deliver

    job = webhook_deliver.configure(schedule_at=at).job
    JobDeferrer(job_manager=_transactional_jobs, job=job).defer(
        tenant_id=delivery.tenant_id,
        delivery_id=delivery.pk,
        attempt=delivery.attempt_count + 1,
        manual=manual,
    )


def webhook_redeliver(
    *, tenant: Tenant, actor: Actor, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Send a finished delivery again, now, as one more attempt (same body and delivery id,
    fresh timestamp and signature). A failed redelivery is not retried automatically."""
    with tenant_context(tenant):
        require_webhook_admin(tenant, actor)
        found = (
            WebhookDelivery.objects.select_for_update()
            .filter(tenant=tenant, pk=delivery.pk)
            .first()
        )
        if found is None:
            raise WebhookDelivery.DoesNotExist("No such delivery.")
        subscription = WebhookSubscription.objects.get(tenant=tenant, pk=found.subscription_id)
        if not subscription.active:
            raise ValidationError("The webhook is disabled; enable it before redelivering.")
        if found.status in SCHEDULED:
            raise ValidationError("This delivery is already scheduled.")
        found.status = DeliveryStatus.PENDING
        found.next_attempt_at = timezone.now()
        found.save(update_fields=["status", "next_attempt_at", "updated_at"])
        _defer_attempt(found, manual=True)
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_REDELIVERY_REQUESTED,
            subject=subscription,
            actor=actor,
            payload={
                "delivery_id": found.pk,
                "event_id": found.event_id,
                "event_type": found.event_type,
            },
        )
    return found


def webhook_deliveries_create_for_event(
    *, tenant: Tenant, actor: Actor, event: Event
) -> list[WebhookDelivery]:
    """One delivery per active subscription whose filter matches, each with its first
    attempt queued. Idempotent: (subscription, event) is unique, so running it again for
    the same event creates and queues nothing new. (``actor`` is the fan-out job; it
    appends no event.)"""
    created: list[WebhookDelivery] = []
    with tenant_context(tenant):
        subscriptions = WebhookSubscription.objects.filter(
            tenant=tenant, active=True, created_at__lte=event.created_at
        ).order_by("pk")
        matching = [s for s in subscriptions if event_type_matches(s.event_types, event.type)]
        if not matching:
            return created
        body = webhook_body(tenant=tenant, event=event)
        now = timezone.now()
        for subscription in matching:
            delivery, is_new = WebhookDelivery.objects.get_or_create(
                tenant=tenant,
                subscription=subscription,
                event=event,
                defaults={
                    "event_type": event.type,
                    "request_body": body,
                    "status": DeliveryStatus.PENDING,
                    "next_attempt_at": now,
                },
            )
            if is_new:
                _defer_attempt(delivery)
                created.append(delivery)
    return created


@dataclass(frozen=True)
class _Claim:
    """An attempt this worker holds: what to send, and the token that lets it record."""

    token: uuid.UUID
    url: str
    headers: dict[str, str]
    body: bytes
    started_at: dt.datetime


def webhook_delivery_attempt(
    *, tenant: Tenant, actor: Actor, delivery_id: int, attempt: int, manual: bool = False
) -> WebhookDelivery | None:
    """Make attempt number ``attempt`` of a delivery and record it (claim, send with no
    transaction open, record; see the module docstring). Returns the delivery as recorded,
    or None when this job had nothing to do (a duplicate, stale or foreign job).

    On failure the next attempt is scheduled with backoff; after MAX_ATTEMPTS the delivery
    is abandoned, and if nothing reached the subscription since this delivery's first
    attempt (about 24 hours of failures) the subscription is disabled, by ``actor``."""
    claim = _claim(tenant=tenant, delivery_id=delivery_id, attempt=attempt)
    if not isinstance(claim, _Claim):
        return claim
    if not connection.in_atomic_block and getattr(connection, "pool", None) is not None:
        # The claim is committed; the pooled connection serves others while the receiver
        # answers (the record step takes one again). Without a pool it stays: reconnecting
        # costs more than it frees.
        connection.close()
    result = transport.post(claim.url, body=claim.body, headers=claim.headers)
    return _record(
        tenant=tenant,
        actor=actor,
        delivery_id=delivery_id,
        attempt=attempt,
        manual=manual,
        claim=claim,
        result=result,
    )


def _claim(*, tenant: Tenant, delivery_id: int, attempt: int) -> _Claim | WebhookDelivery | None:
    """The short first transaction: lease the attempt to this worker. Returns the claim, or
    the delivery when it was settled here (abandoned: its webhook was disabled), or None."""
    with tenant_context(tenant):
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(tenant=tenant, pk=delivery_id)
            .first()
        )
        now = timezone.now()
        if (
            delivery is None
            or delivery.attempt_count != attempt - 1
            or delivery.status not in SCHEDULED
            or (delivery.claimed_until is not None and delivery.claimed_until > now)
        ):
            return None
        subscription = WebhookSubscription.objects.get(tenant=tenant, pk=delivery.subscription_id)
        if not subscription.active:
            delivery.status = DeliveryStatus.ABANDONED
            delivery.next_attempt_at = None
            delivery.claim_token, delivery.claimed_until = None, None
            delivery.error = "The webhook was disabled before this attempt."
            delivery.save(
                update_fields=[
                    "status",
                    "next_attempt_at",
                    "claim_token",
                    "claimed_until",
                    "error",
                    "updated_at",
                ]
            )
            return delivery
        token = uuid.uuid4()
        delivery.claim_token, delivery.claimed_until = token, now + CLAIM_LEASE
        delivery.save(update_fields=["claim_token", "claimed_until", "updated_at"])
        return _Claim(
            token=token,
            url=subscription.url,
            headers=webhook_request_headers(delivery, subscription.secret),
            body=delivery.request_body.encode(),
            started_at=now,
        )


def _record(
    *,
    tenant: Tenant,
    actor: Actor,
    delivery_id: int,
    attempt: int,
    manual: bool,
    claim: _Claim,
    result: transport.SendResult,
) -> WebhookDelivery | None:
    """The short second transaction: record the attempt if the claim is still ours (not
    taken over after its lease ran out, the delivery not deleted meanwhile)."""
    with tenant_context(tenant):
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(tenant=tenant, pk=delivery_id, claim_token=claim.token)
            .first()
        )
        if delivery is None or delivery.attempt_count != attempt - 1:
            return None
        WebhookDeliveryAttempt.objects.create(
            tenant=tenant,
            delivery=delivery,
            number=attempt,
            manual=manual,
            started_at=claim.started_at,
            request_headers=claim.headers,
            response_status=result.status,
            response_headers=result.headers,
            response_body=result.body,
            duration_ms=result.duration_ms,
            error=result.error,
            succeeded=result.ok,
        )
        delivery.attempt_count = attempt
        delivery.claim_token, delivery.claimed_until = None, None
        delivery.request_headers = claim.headers
        delivery.response_status = result.status
        delivery.response_headers = result.headers
        delivery.response_body = result.body
        delivery.duration_ms = result.duration_ms
        delivery.error = result.error
        delivery.next_attempt_at = None
        subscriptions = WebhookSubscription.objects.filter(
            tenant=tenant, pk=delivery.subscription_id
        )
        if result.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            subscriptions.update(consecutive_failures=0, failing_since=None)
        else:
            subscriptions.update(
                consecutive_failures=F("consecutive_failures") + 1,
                failing_since=Coalesce(F("failing_since"), claim.started_at),
            )
            if manual:
                delivery.status = DeliveryStatus.FAILED
            elif attempt < MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.RETRYING
                delivery.next_attempt_at = timezone.now() + retry_delay(attempt)
            else:
                delivery.status = DeliveryStatus.ABANDONED
        delivery.save()
        if delivery.status == DeliveryStatus.RETRYING:
            _defer_attempt(delivery, at=delivery.next_attempt_at)
        elif delivery.status == DeliveryStatus.ABANDONED:
            _disable_if_failing_throughout(
                tenant=tenant, actor=actor, delivery=delivery, result=result
            )
    return delivery


def _disable_if_failing_throughout(
    *, tenant: Tenant, actor: Actor, delivery: WebhookDelivery, result: transport.SendResult
) -> None:
    """Switch the subscription off if nothing reached it since this delivery's first
    attempt (its retries span about 24 hours)."""
    first_attempt_at = (
        WebhookDeliveryAttempt.objects.filter(tenant=tenant, delivery=delivery)
        .order_by("number")
        .values_list("started_at", flat=True)
        .first()
    )
    subscription = WebhookSubscription.objects.get(tenant=tenant, pk=delivery.subscription_id)
    if (
        subscription.failing_since is not None
        and first_attempt_at is not None
        and subscription.failing_since <= first_attempt_at
    ):
        webhook_subscription_disable(
            tenant=tenant,
            actor=actor,
            subscription=subscription,
            reason=f"Every delivery failed since "
            f"{subscription.failing_since:%Y-%m-%d %H:%M} UTC; last error: "
            f"{_failure_summary(result)}",
        )


def _failure_summary(result: transport.SendResult) -> str:
    if result.status is not None:
        return f"HTTP {result.status}" + (f" ({result.error})" if result.error else "")
    return result.error or "no response"
