"""Worker jobs of the core app: event dispatch and the undispatched-event sweeper."""

from __future__ import annotations

import datetime as dt

import structlog
from django.conf import settings
from django.db import IntegrityError, connections, transaction
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.job_context import JobContext

from autocrm.core.events import handlers_for
from autocrm.core.models import Event, EventHandling, Tenant
from autocrm.core.tenancy import system_context, tenant_context

logger = structlog.get_logger(__name__)

# 10 attempts, 2 s, 4 s ... 1024 s apart (about 34 minutes in all): a handler that fails
# because something is briefly down gets its retries spread out instead of burnt at once.
DISPATCH_RETRY = RetryStrategy(max_attempts=10, exponential_wait=2)
# An event still undispatched after this long, with no job left to dispatch it, is re-queued.
SWEEP_AFTER = dt.timedelta(minutes=30)
SWEEP_BATCH = 1000


class HandlersFailed(RuntimeError):
    """Some handlers of an event failed (the others ran); a retry runs only those."""


def _dispatch(tenant: Tenant, event_id: int) -> None:
    """Run every handler of one event once; raise HandlersFailed when one failed."""
    with structlog.contextvars.bound_contextvars(event_id=event_id):
        with tenant_context(tenant):
            event = Event.objects.filter(pk=event_id).first()
            if event is None:  # deleted since; a rolled-back event never gets a job
                logger.warning("event.missing")
                return
            if event.dispatched_at is not None:
                return  # a redelivery after everything succeeded
            done = set(EventHandling.objects.filter(event=event).values_list("handler", flat=True))
        failures: list[str] = []
        for reg in handlers_for(event.type):
            if reg.name in done:
                continue
            try:
                with tenant_context(tenant):
                    try:
                        with transaction.atomic():
                            EventHandling.objects.create(
                                tenant=tenant, event=event, handler=reg.name
                            )
                    except IntegrityError:
                        continue  # another delivery handled it meanwhile
                    reg.func(event)
            except Exception:
                logger.exception("event.handler_failed", handler=reg.name, event_type=event.type)
                failures.append(reg.name)
        if failures:
            raise HandlersFailed(f"event {event_id}: handlers failed: {', '.join(failures)}")
        with tenant_context(tenant):
            Event.objects.filter(pk=event_id).update(dispatched_at=timezone.now())


@app.task(name="core.events_dispatch", queue="events", retry=DISPATCH_RETRY, pass_context=False)
def events_dispatch(*, tenant_id: int, event_id: int) -> None:
    """Run every handler of one event once.

    Each handler runs in its own transaction together with its ``EventHandling`` marker, so a
    handler's work and the record that it was done commit together. When a handler fails the
    others still run; then the job raises and is retried, and the retry skips every handler
    whose marker committed. Two deliveries of the same event at once are serialised by the
    marker's unique constraint: the second waits for the first and then skips."""
    _dispatch(Tenant.objects.get(pk=tenant_id), event_id)


@app.task(
    name="core.events_dispatch_batch", queue="events", retry=DISPATCH_RETRY, pass_context=False
)
def events_dispatch_batch(*, tenant_id: int, event_ids: list[int]) -> None:
    """``events_dispatch`` for each of many events appended together (``event_append_many``,
    e.g. a contact import's chunk), in order. An event whose handlers fail does not stop the
    others; the job raises at the end and its retry skips every event already dispatched."""
    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        pending = set(
            Event.objects.filter(pk__in=event_ids, dispatched_at=None).values_list("pk", flat=True)
        )
    failed: list[int] = []
    for event_id in event_ids:
        if event_id not in pending:
            continue
        try:
            _dispatch(tenant, event_id)
        except HandlersFailed:
            failed.append(event_id)
    if failed:
        raise HandlersFailed(f"{len(failed)} of {len(event_ids)} events failed, first {failed[0]}")


# Undispatched events older than the cutoff that no job will dispatch any more: none queued,
# running or waiting for a retry. A job that failed for good is left for an operator to
# retry (it stays in procrastinate_jobs as "failed"); deleting it lets the sweeper take over.
_ORPHANED_EVENTS = """
SELECT e.tenant_id, e.id FROM core_event e
WHERE e.dispatched_at IS NULL AND e.created_at < %s
  AND NOT EXISTS (
      SELECT 1 FROM procrastinate_jobs j
      WHERE j.status IN ('todo', 'doing', 'failed')
        AND ((j.task_name = 'core.events_dispatch' AND j.args->>'event_id' = e.id::text)
             OR (j.task_name = 'core.events_dispatch_batch'
                 AND j.args->'event_ids' @> to_jsonb(e.id))))
ORDER BY e.created_at
LIMIT %s
"""


@app.periodic(cron="*/5 * * * *", periodic_id="events_sweep")
@app.task(
    name="core.events_sweep", queue="events", queueing_lock="events_sweep", pass_context=False
)
def events_sweep(timestamp: int) -> int:
    """Re-queue events whose dispatch job was lost (for example a deleted failed job)."""
    with system_context("events_sweep: requeue undispatched events") as db:
        cursor = connections[db].cursor()
        with cursor:
            cursor.execute(_ORPHANED_EVENTS, [timezone.now() - SWEEP_AFTER, SWEEP_BATCH])
            orphaned = cursor.fetchall()
    requeued = 0
    for tenant_id, event_id in orphaned:
        try:
            events_dispatch.configure(queueing_lock=f"event-{event_id}").defer(
                tenant_id=tenant_id, event_id=event_id
            )
        except AlreadyEnqueued:
            continue
        requeued += 1
    if requeued:
        logger.warning("events_sweep.requeued", count=requeued)
    return requeued


@app.periodic(cron="17 3 * * *", periodic_id="jobs_cleanup")
@app.task(
    name="core.jobs_cleanup", queue="maintenance", queueing_lock="jobs_cleanup", pass_context=True
)
async def jobs_cleanup(context: JobContext, timestamp: int) -> None:
    """Delete finished jobs older than JOB_RETENTION_DAYS, daily, so procrastinate_jobs does
    not grow forever. Failed jobs are kept: an operator retries or deletes them (and the event
    sweeper leaves events with a failed job to the operator)."""
    await context.app.job_manager.delete_old_jobs(
        nb_hours=settings.JOB_RETENTION_DAYS * 24,
        include_failed=False,
        include_cancelled=True,
        include_aborted=True,
    )


@app.periodic(cron="23 * * * *", periodic_id="idempotency_purge")
@app.task(
    name="core.idempotency_purge",
    queue="maintenance",
    queueing_lock="idempotency_purge",
    pass_context=False,
)
def idempotency_purge(timestamp: int) -> int:
    """Hourly: forget Idempotency-Key records older than their 24 h lifetime, in every tenant
    (tenants that stop sending POSTs never trigger the per-tenant cleanup)."""
    from autocrm.core.idempotency import idempotency_purge_expired

    return idempotency_purge_expired()
