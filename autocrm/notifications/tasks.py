"""Worker jobs of outbound webhooks: one delivery attempt, and the overdue-attempt sweeper."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from procrastinate.contrib.django import app

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context
from autocrm.notifications import services
from autocrm.notifications.models import DeliveryStatus, WebhookDelivery

# A scheduled attempt not done this long after its time lost its job (deleted, or the
# worker died mid-attempt); the sweeper queues it again. Longer than a claim's lease
# (services.delivery.CLAIM_LEASE), so the new job finds a dead worker's claim expired.
OVERDUE_AFTER = dt.timedelta(minutes=15)
# Who the delivery job acts as (e.g. when it disables a failing webhook).
DELIVERY = Actor.system("webhook_deliver")


@app.task(name="notifications.webhook_deliver", queue="webhooks", pass_context=False)
def webhook_deliver(
    *, tenant_id: int, delivery_id: int, attempt: int, manual: bool = False
) -> None:
    """Attempt ``attempt`` of a delivery. Retries are scheduled as new jobs by the service
    (with backoff), not by procrastinate's retry, so every attempt is logged; a duplicate or
    stale job is a no-op."""
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return
    services.webhook_delivery_attempt(
        tenant=tenant, actor=DELIVERY, delivery_id=delivery_id, attempt=attempt, manual=manual
    )


@app.periodic(cron="*/10 * * * *", periodic_id="webhooks_sweep")
@app.task(
    name="notifications.webhooks_sweep",
    queue="webhooks",
    queueing_lock="webhooks_sweep",
    pass_context=False,
)
def webhooks_sweep(timestamp: int) -> int:
    """Queue again the attempts whose job was lost. Harmless when the job still exists:
    the attempt number makes the second job a no-op."""
    cutoff = timezone.now() - OVERDUE_AFTER
    with system_context("webhooks_sweep: requeue overdue webhook deliveries") as db:
        overdue = list(
            WebhookDelivery.objects.using(db)
            .filter(
                status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
                next_attempt_at__lt=cutoff,
            )
            .values_list("tenant_id", "pk", "attempt_count")[:1000]
        )
    for tenant_id, delivery_id, attempt_count in overdue:
        webhook_deliver.defer(
            tenant_id=tenant_id, delivery_id=delivery_id, attempt=attempt_count + 1
        )
    return len(overdue)


@app.task(name="notifications.inapp_email", queue="email", pass_context=False)
def inapp_email(*, tenant_id: int, notification_id: int) -> None:
    """E-mail an in-app notification to a member who asked for its kind by e-mail."""
    from django.conf import settings
    from django.core.mail import send_mail

    from autocrm.core.tenancy import tenant_context
    from autocrm.notifications.models import InAppNotification

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        notification = (
            InAppNotification.objects.filter(pk=notification_id).select_related("user").first()
        )
    if notification is None:
        return
    link = f"{settings.SITE_URL}{notification.url}" if notification.url else settings.SITE_URL
    send_mail(
        subject=f"[{tenant.name}] {notification.subject}",
        message=f"{notification.subject}\n\n{link}\n\n"
        "You get this e-mail because of your notification preferences in the workspace.",
        from_email=None,
        recipient_list=[notification.user.email],
    )
