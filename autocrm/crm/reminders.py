"""Activity reminders, sent by the worker: an in-app notification (and, by the member's
preference, on by default for this kind, an e-mail from the worker's e-mail job).

Exactly once: each tenant's due activities are locked (``FOR UPDATE SKIP LOCKED``), marked
``reminded_at`` and notified in one transaction, with one ``activity.reminded`` event each.
A second worker skips the locked rows, and once committed they no longer match; a sweep that
dies mid-way rolls back its marks and its notifications together, so the next sweep sends
them. The partial index ``crm_activity_remind`` makes a sweep cost what is due.
"""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context, tenant_context
from autocrm.crm import events
from autocrm.crm.models import Activity
from autocrm.notifications.inapp import notify
from autocrm.notifications.models import InAppKind

logger = structlog.get_logger(__name__)
ACTOR = Actor.system("activity_reminders")
BATCH = 500


def _due(now: dt.datetime) -> dict[str, object]:
    return {
        "remind_at__lte": now,
        "reminded_at": None,
        "done_at": None,
        "remind_at__isnull": False,
    }


def tenants_with_due_reminders(now: dt.datetime) -> list[int]:
    with system_context("activity_reminders: tenants with due reminders") as db:
        return list(
            Activity.objects.using(db)
            .filter(**_due(now))
            .values_list("tenant_id", flat=True)
            .distinct()
        )


def _subject(activity: Activity) -> str:
    when = timezone.localtime(activity.due_at).strftime("%d %b %H:%M") if activity.due_at else ""
    return f"{activity.get_kind_display()} due {when}: {activity.subject}"


@transaction.atomic
def reminders_send_for_tenant(*, tenant: Tenant, now: dt.datetime) -> int:
    """Remind the owners of this tenant's due activities (at most BATCH a call)."""
    due = list(
        Activity.objects.select_for_update(skip_locked=True)
        .filter(tenant=tenant, **_due(now))
        .order_by("remind_at", "id")[:BATCH]
    )
    if not due:
        return 0
    Activity.objects.filter(pk__in=[a.pk for a in due]).update(reminded_at=now)
    calendar = reverse("workspace:crm_calendar", args=[tenant.slug])
    for activity in due:
        notified = None
        if activity.owner_id is not None:
            notified = notify(
                tenant=tenant,
                user=activity.owner_id,
                kind=InAppKind.ACTIVITY_REMINDER,
                subject=_subject(activity),
                url=f"{calendar}?activity={activity.pk}",
                actor=ACTOR,
            )
        event_append(
            tenant=tenant,
            type=events.ACTIVITY_REMINDED,
            subject=activity,
            actor=ACTOR,
            payload={
                "owner_id": activity.owner_id,
                "remind_at": activity.remind_at.isoformat() if activity.remind_at else None,
                "notification_id": notified.pk if notified is not None else None,
            },
        )
    return len(due)


def reminders_send(now: dt.datetime | None = None) -> int:
    """Every tenant's due reminders; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    for tenant in Tenant.objects.filter(pk__in=tenants_with_due_reminders(now)):
        with tenant_context(tenant):
            while True:
                count = reminders_send_for_tenant(tenant=tenant, now=now)
                sent += count
                if count < BATCH:
                    break
    if sent:
        logger.info("activity_reminders.sent", count=sent)
    return sent
