"""Worker jobs of the core app: event dispatch and the undispatched-event sweeper."""

from __future__ import annotations

import datetime as dt

import structlog
from django.db import IntegrityError, transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from autocrm.core.events import handlers_for
from autocrm.core.models import Event, EventHandling, Tenant
from autocrm.core.tenancy import system_context, tenant_context

logger = structlog.get_logger(__name__)


@app.task(name="core.events_dispatch", queue="events", retry=10, pass_context=False)
def events_dispatch(*, tenant_id: int, event_id: int) -> None:
    """Run every handler of one event once. A failing handler raises, so the job retries;
    handlers that already succeeded are skipped on the retry."""
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        event = Event.objects.filter(pk=event_id).first()
        if event is None:  # rolled back or deleted: nothing to do
            return
        done = set(EventHandling.objects.filter(event=event).values_list("handler", flat=True))
        failures: list[str] = []
        for reg in handlers_for(event.type):
            if reg.name in done:
                continue
            try:
                with transaction.atomic():
                    EventHandling.objects.create(tenant=tenant, event=event, handler=reg.name)
                    reg.func(event)
            except IntegrityError:
                continue  # another worker handled it concurrently
            except Exception:
                logger.exception("event.handler_failed", handler=reg.name, event_id=event.pk)
                failures.append(reg.name)
        if failures:
            raise RuntimeError(f"event {event.pk}: handlers failed: {', '.join(failures)}")
        Event.objects.filter(pk=event.pk).update(dispatched_at=timezone.now())


@app.periodic(cron="*/5 * * * *", periodic_id="events_sweep")
@app.task(name="core.events_sweep", queue="events", queueing_lock="events_sweep",
          pass_context=False)
def events_sweep(timestamp: int) -> int:
    """Re-queue events whose dispatch job was lost (for example a deleted failed job)."""
    cutoff = timezone.now() - dt.timedelta(minutes=30)
    with system_context("events_sweep: requeue undispatched events") as db:
        stale = list(
            Event.objects.using(db)
            .filter(dispatched_at__isnull=True, created_at__lt=cutoff)
            .values_list("tenant_id", "pk")[:1000]
        )
    for tenant_id, event_id in stale:
        events_dispatch.configure(lock=f"event-{event_id}").defer(
            tenant_id=tenant_id, event_id=event_id)
    return len(stale)
