"""Reads of the core app: audit timeline, worker liveness."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from autocrm.core.models import Event, Tenant


def worker_last_heartbeat_age() -> float | None:
    """Seconds since the freshest procrastinate worker heartbeat (None: no worker)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXTRACT(EPOCH FROM (now() - max(last_heartbeat))) FROM procrastinate_workers"
        )
        row = cursor.fetchone()
    return float(row[0]) if row and row[0] is not None else None


def audit_timeline(
    *, tenant: Tenant, subject_type: str | None = None, subject_id: str | int | None = None
) -> QuerySet[Event]:
    """Events of the tenant, newest first, optionally for one subject."""
    events = Event.objects.filter(tenant=tenant).select_related("actor")
    if subject_type is not None:
        events = events.filter(subject_type=subject_type)
    if subject_id is not None:
        events = events.filter(subject_id=str(subject_id))
    return events.order_by("-created_at", "-id")
