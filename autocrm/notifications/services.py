"""Every write of outbound webhooks.

Admin actions (create, update, delete, rotate, redeliver) take the tenant and the
:class:`Actor` (owners, admins, admin-scoped API keys; audited under the actor's label), run
in one transaction and append an event. The fan-out and the delivery attempts are called by
the worker; they append no event per delivery or attempt (that would loop through the
webhooks), only ``webhook.disabled`` when a subscription is switched off for persistent
failure.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import secrets
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.jobs import JobDeferrer
from procrastinate.manager import JobManager

from autocrm.accounts.models import ADMIN_ROLES, Membership
from autocrm.core.actors import Actor
from autocrm.core.events import event_append, event_types_registered
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import events, transport
from autocrm.notifications.models import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from autocrm.notifications.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from autocrm.notifications.targets import UnsafeTarget, resolve_target

SECRET_PREFIX = "whsec_"
USER_AGENT = "AutoCRM-Webhooks/1"
MAX_EVENT_TYPES = 50
URL_MAX_LENGTH = 2000
# Retries: 1 min doubling up to 2 h, +-20 % jitter; 19 attempts span about 24 hours.
RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 2 * 3600
RETRY_JITTER = 0.2
MAX_ATTEMPTS = 19

_transactional_jobs = JobManager(connector=DjangoConnector(alias=DEFAULT_DB_ALIAS))

_EVENT_PATTERN = re.compile(r"^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$")


# --- helpers -------------------------------------------------------------------------------


def _require_admin(tenant: Tenant, actor: Actor) -> None:
    """Webhooks send tenant data anywhere: only the tenant's owners and admins (and its
    admin-scoped keys, and system jobs) manage them."""
    if not (actor.is_admin and actor.acts_in(tenant.pk)):
        raise PermissionDenied("Only owners and admins can manage webhooks.")


def event_types_clean(value: Any) -> list[str]:
    """Validated, deduplicated, sorted event type patterns (``[]`` means every event)."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValidationError({"event_types": "Give a list of event types."})
    cleaned = sorted({v.strip().lower() for v in value if v.strip()})
    if len(cleaned) > MAX_EVENT_TYPES:
        raise ValidationError({"event_types": f"At most {MAX_EVENT_TYPES} event types."})
    bad = [v for v in cleaned if not _EVENT_PATTERN.match(v)]
    if bad:
        raise ValidationError(
            {"event_types": f"Not an event type or 'prefix.*' pattern: {', '.join(bad)}."}
        )
    # A typo (`ticket.create`, `tickets.*`) would otherwise be a subscription that silently
    # never fires.
    known = event_types_registered()
    unknown = [v for v in cleaned if not any(event_type_matches([v], t) for t in known)]
    if unknown:
        raise ValidationError(
            {"event_types": f"No event has this type or matches it: {', '.join(unknown)}."}
        )
    return cleaned


def event_type_matches(patterns: list[str], event_type: str) -> bool:
    """``[]`` and ``*`` match everything; ``ticket.*`` matches ``ticket.created`` and
    ``ticket.message.created`` but not ``ticket`` or ``tickets.x``."""
    if not patterns:
        return True
    for pattern in patterns:
        if pattern in ("*", event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def _url_clean(url: str) -> str:
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": "A URL is required."})
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError({"url": f"At most {URL_MAX_LENGTH} characters."})
    try:
        resolve_target(url)
    except UnsafeTarget as exc:
        raise ValidationError({"url": str(exc)}) from exc
    return url


def _secret_new() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _subscription_summary(subscription: WebhookSubscription) -> dict[str, Any]:
    # Never the secret: events are themselves delivered by webhooks and kept in the audit log.
    return {
        "url": subscription.url,
        "event_types": subscription.event_types,
        "description": subscription.description,
        "active": subscription.active,
    }


def retry_delay(failed_attempt: int) -> dt.timedelta:
    """Backoff after the ``failed_attempt``-th attempt (1-based): 1, 2, 4 ... 120 minutes,
    with jitter so a recovering receiver is not hit by every retry at once."""
    base = min(RETRY_BASE_SECONDS * 2 ** (failed_attempt - 1), RETRY_CAP_SECONDS)
    jitter = random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)  # noqa: S311 - not security
    return dt.timedelta(seconds=base * jitter)


def webhook_payload(*, tenant: Tenant, event: Event) -> dict[str, Any]:
    """The JSON document sent for ``event`` (see docs/webhooks.md)."""
    return {
        "id": event.pk,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "tenant": tenant.slug,
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "actor": {"id": event.actor_id, "label": event.actor_label},
        "data": event.payload,
    }


def webhook_body(*, tenant: Tenant, event: Event) -> str:
    return json.dumps(
        webhook_payload(tenant=tenant, event=event),
        cls=DjangoJSONEncoder,
        separators=(",", ":"),
        sort_keys=True,
    )


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


# --- subscriptions ---------------------------------------------------------------------------


def webhook_subscription_create(
    *,
    tenant: Tenant,
    actor: Actor,
    url: str,
    event_types: list[str] | None = None,
    description: str = "",
    active: bool = True,
) -> WebhookSubscription:
    """A new subscription with a generated secret (returned once on the object: show it to
    the admin, who configures it in the receiver)."""
    cleaned_types = event_types_clean(event_types)
    description = (description or "").strip()[:200]
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        url = _url_clean(url)
        subscription = WebhookSubscription.objects.create(
            tenant=tenant,
            url=url,
            event_types=cleaned_types,
            secret=_secret_new(),
            active=active,
            description=description,
            created_by=actor.user,
            disabled_at=None if active else timezone.now(),
            disabled_reason="" if active else "Created disabled.",
        )
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_CREATED,
            subject=subscription,
            actor=actor,
            payload=_subscription_summary(subscription),
        )
    return subscription


def webhook_subscription_update(
    *,
    tenant: Tenant,
    actor: Actor,
    subscription: WebhookSubscription,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change the given fields (``None`` leaves a field as is). Re-activating clears the
    failure streak and the disabled reason."""
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        before = _subscription_summary(sub)
        fields: set[str] = set()
        if url is not None and url.strip() != sub.url:
            sub.url = _url_clean(url)
            fields.add("url")
        if event_types is not None:
            cleaned = event_types_clean(event_types)
            if cleaned != sub.event_types:
                sub.event_types = cleaned
                fields.add("event_types")
        if description is not None and description.strip()[:200] != sub.description:
            sub.description = description.strip()[:200]
            fields.add("description")
        if active is not None and active != sub.active:
            sub.active = active
            if active:
                sub.disabled_at, sub.disabled_reason = None, ""
                sub.consecutive_failures, sub.failing_since = 0, None
            else:
                sub.disabled_at = timezone.now()
                sub.disabled_reason = "Disabled by an administrator."
            fields |= {
                "active",
                "disabled_at",
                "disabled_reason",
                "consecutive_failures",
                "failing_since",
            }
        if not fields:
            return sub
        sub.save(update_fields=[*sorted(fields), "updated_at"])
        after = _subscription_summary(sub)
        changes = {
            key: {"from": before[key], "to": after[key]}
            for key in after
            if before[key] != after[key]
        }
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_UPDATED,
            subject=sub,
            actor=actor,
            payload={"url": sub.url, "changes": changes},
        )
    return sub


def webhook_subscription_delete(
    *, tenant: Tenant, actor: Actor, subscription: WebhookSubscription
) -> None:
    """Remove the subscription and its delivery log; queued attempts find nothing and stop."""
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_DELETED,
            subject=(sub._meta.label_lower, sub.pk),
            actor=actor,
            payload=_subscription_summary(sub),
        )
        sub.delete()


def webhook_subscription_rotate_secret(
    *, tenant: Tenant, actor: Actor, subscription: WebhookSubscription
) -> WebhookSubscription:
    """Replace the secret at once: attempts from now on are signed with the new one."""
    with tenant_context(tenant):
        _require_admin(tenant, actor)
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        sub.secret = _secret_new()
        sub.save(update_fields=["secret", "updated_at"])
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_SECRET_ROTATED,
            subject=sub,
            actor=actor,
            payload={"url": sub.url},
        )
    return sub


def webhook_redeliver(
    *, tenant: Tenant, actor: Actor, delivery: WebhookDelivery
) -> WebhookDelivery:
    """Send a finished delivery again, now, as one more attempt (same body and delivery id,
    fresh timestamp and signature). A failed redelivery is not retried automatically."""
    with tenant_context(tenant):
        _require_admin(tenant, actor)
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
        if found.status in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING):
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


# --- worker side: fan-out, attempts, auto-disable --------------------------------------------


def webhook_deliveries_create_for_event(*, tenant: Tenant, event: Event) -> list[WebhookDelivery]:
    """One delivery per active subscription whose filter matches, each with its first
    attempt queued. Idempotent: (subscription, event) is unique, so running it again for
    the same event creates and queues nothing new."""
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


def _request_headers(delivery: WebhookDelivery, secret: str) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-AutoCRM-Event": delivery.event_type,
        "X-AutoCRM-Delivery": str(delivery.pk),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, delivery.request_body),
    }


def webhook_delivery_attempt(
    *, tenant: Tenant, actor: Actor, delivery_id: int, attempt: int, manual: bool = False
) -> WebhookDelivery | None:
    """Make attempt number ``attempt`` of a delivery and record it.

    Idempotent: the delivery row is locked for the attempt and a job whose attempt number is
    not the next one (a duplicate, or one overtaken by a redelivery) does nothing. On
    failure the next attempt is scheduled with backoff; after MAX_ATTEMPTS the delivery is
    abandoned, and if nothing reached the subscription since this delivery's first attempt
    (about 24 hours of failures) the subscription is disabled."""
    with tenant_context(tenant):
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(tenant=tenant, pk=delivery_id)
            .first()
        )
        if (
            delivery is None
            or delivery.attempt_count != attempt - 1
            or delivery.status not in (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
        ):
            return None
        subscription = WebhookSubscription.objects.get(tenant=tenant, pk=delivery.subscription_id)
        now = timezone.now()
        if not subscription.active:
            delivery.status = DeliveryStatus.ABANDONED
            delivery.next_attempt_at = None
            delivery.error = "The webhook was disabled before this attempt."
            delivery.save(update_fields=["status", "next_attempt_at", "error", "updated_at"])
            return delivery

        headers = _request_headers(delivery, subscription.secret)
        result = transport.post(
            subscription.url, body=delivery.request_body.encode(), headers=headers
        )
        WebhookDeliveryAttempt.objects.create(
            tenant=tenant,
            delivery=delivery,
            number=attempt,
            manual=manual,
            started_at=now,
            request_headers=headers,
            response_status=result.status,
            response_headers=result.headers,
            response_body=result.body,
            duration_ms=result.duration_ms,
            error=result.error,
            succeeded=result.ok,
        )
        delivery.attempt_count = attempt
        delivery.request_headers = headers
        delivery.response_status = result.status
        delivery.response_headers = result.headers
        delivery.response_body = result.body
        delivery.duration_ms = result.duration_ms
        delivery.error = result.error
        delivery.next_attempt_at = None
        subscriptions = WebhookSubscription.objects.filter(tenant=tenant, pk=subscription.pk)
        if result.ok:
            delivery.status = DeliveryStatus.SUCCEEDED
            subscriptions.update(consecutive_failures=0, failing_since=None)
        else:
            subscriptions.update(
                consecutive_failures=F("consecutive_failures") + 1,
                failing_since=Coalesce(F("failing_since"), now),
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
            first_attempt_at = (
                WebhookDeliveryAttempt.objects.filter(tenant=tenant, delivery=delivery)
                .order_by("number")
                .values_list("started_at", flat=True)
                .first()
            )
            subscription.refresh_from_db(fields=["failing_since"])
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
    return delivery


def _failure_summary(result: transport.SendResult) -> str:
    if result.status is not None:
        return f"HTTP {result.status}" + (f" ({result.error})" if result.error else "")
    return result.error or "no response"


def webhook_subscription_disable(
    *, tenant: Tenant, actor: Actor, subscription: WebhookSubscription, reason: str
) -> WebhookSubscription:
    """Switch a failing subscription off (the delivery job's system actor), record why, append
    ``webhook.disabled`` and email the tenant's owners and admins after commit."""
    with tenant_context(tenant):
        sub = WebhookSubscription.objects.select_for_update().get(tenant=tenant, pk=subscription.pk)
        if not sub.active:
            return sub
        sub.active = False
        sub.disabled_at = timezone.now()
        sub.disabled_reason = reason[:500]
        sub.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
        event_append(
            tenant=tenant,
            type=events.WEBHOOK_DISABLED,
            subject=sub,
            actor=actor,
            payload={
                "url": sub.url,
                "reason": sub.disabled_reason,
                "consecutive_failures": sub.consecutive_failures,
            },
        )
        recipients = sorted(
            Membership.objects.filter(
                tenant=tenant, role__in=ADMIN_ROLES, user__is_active=True
            ).values_list("user__email", flat=True)
        )
        if recipients:
            message = (
                f"The webhook {sub.url} of {tenant.name} on AutoCRM was disabled because "
                f"its deliveries kept failing.\n\nReason: {sub.disabled_reason}\n\n"
                f"Fix the receiver, then re-enable the webhook in the settings "
                f"({settings.SITE_URL}/{tenant.slug}/) or with PATCH /api/v1/webhooks/{sub.pk} "
                f'{{"active": true}}. Failed deliveries can then be redelivered.'
            )
            transaction.on_commit(
                lambda: send_mail(
                    subject=f"[AutoCRM] Webhook disabled: {sub.url}"[:200],
                    message=message,
                    from_email=None,
                    recipient_list=recipients,
                )
            )
    return sub
