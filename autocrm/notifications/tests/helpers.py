"""Scene builders shared by the webhook tests."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.events import event_append
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications.models import WebhookDelivery


def make_event(
    tenant: Tenant, type: str = "ticket.created", payload: dict[str, Any] | None = None
) -> Event:
    with tenant_context(tenant):
        return event_append(
            tenant=tenant,
            type=type,
            subject=("tickets.ticket", 42),
            actor=SYSTEM,
            payload=payload or {"subject": "Printer on fire"},
        )


def deliveries(tenant: Tenant, **filters: Any) -> list[WebhookDelivery]:
    with tenant_context(tenant):
        return list(WebhookDelivery.objects.filter(tenant=tenant, **filters).order_by("pk"))


def deliver_jobs(delivery_id: int | None = None) -> list[tuple[dict[str, Any], Any]]:
    """(args, scheduled_at) of queued webhook attempt jobs, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT args, scheduled_at FROM procrastinate_jobs WHERE task_name = "
            "'notifications.webhook_deliver' ORDER BY id"
        )
        rows = cursor.fetchall()
    # Django's connection hands jsonb back as text.
    jobs = [(json.loads(args) if isinstance(args, str) else args, at) for args, at in rows]
    return [
        (args, at) for args, at in jobs if delivery_id is None or args["delivery_id"] == delivery_id
    ]
