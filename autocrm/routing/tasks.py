"""Worker jobs of the routing app: the SLA sweep, time-based automations, and the e-mails
and webhook calls of rule actions. Each carries its tenant id and is safe to run again."""

from __future__ import annotations

import json
from typing import Any

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import connections
from django.utils import timezone
from procrastinate.contrib.django import app

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import Automation
from autocrm.tickets.models import Priority, Ticket

logger = structlog.get_logger(__name__)


@app.task(name="routing.rule_email_send", queue="email", pass_context=False)
def rule_email_send(*, tenant_id: int, to: str, subject: str, body: str) -> None:
    """One e-mail of a rule's "email" action, sent by the worker (retried by its queue)."""
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


@app.task(name="routing.rule_webhook_call", queue="webhooks", pass_context=False)
def rule_webhook_call(*, tenant_id: int, url: str, ticket_id: int, rule: str, kind: str) -> None:
    """POST the ticket to a rule's webhook URL (the same SSRF-safe transport as webhook
    subscriptions); a failure is logged and raised so the job is retried."""
    from autocrm.notifications.transport import post

    tenant = Tenant.objects.get(pk=tenant_id)
    with tenant_context(tenant):
        ticket = Ticket.objects.filter(pk=ticket_id).first()
        if ticket is None:
            return
        body = {
            "rule": rule,
            "kind": kind,
            "sent_at": timezone.now().isoformat(),
            "ticket": {
                "id": ticket.pk,
                "number": ticket.number,
                "subject": ticket.subject,
                "status": ticket.status,
                "priority": Priority(ticket.priority).label,
                "team_id": ticket.team_id,
                "assignee_id": ticket.assignee_id,
                "tags": list(ticket.tags),
            },
        }
    result = post(url, body=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    if not result.ok:
        raise RuntimeError(f"webhook {url}: {result.error or result.status}")


# Warnings and breaches of every tenant in one statement each: the timers' flags, their
# events and the jobs that dispatch them (procrastinate's own defer function, as in
# core.events.event_append) commit together, so a sweep that dies changes nothing and the
# next one does the work; one that ran never repeats it (the flags are set). The partial
# indexes routing_timer_warn / routing_timer_due make it cost what is due, not what is open.
# One job dispatches up to SWEEP_BATCH events of a tenant (sla_events_dispatch): a job row
# per event (and procrastinate's status-event row and NOTIFY for each) was half the time of
# a sweep that found 15,000 timers due (ADR 0028; bench suite "routing": sla_sweep_100k_s).
SWEEP_BATCH = 100
_SWEEP_SQL = """
WITH due AS (
    UPDATE routing_slatimer SET {flag} = %(now)s
    WHERE state = 'running' AND {flag} IS NULL AND {at} <= %(now)s
    RETURNING id, tenant_id, ticket_id, metric, due_at, policy_id
), event AS (
    INSERT INTO core_event
        (tenant_id, type, subject_type, subject_id, actor_id, actor_label, payload, created_at)
    SELECT tenant_id, %(type)s, 'tickets.ticket', ticket_id::text, NULL, 'system:sla_sweep',
           jsonb_build_object('timer_id', id, 'metric', metric, 'due_at', due_at,
                              'policy_id', policy_id),
           %(now)s
    FROM due
    RETURNING id, tenant_id
), batch AS (
    SELECT tenant_id, jsonb_agg(id ORDER BY id) AS ids
    FROM (SELECT tenant_id, id,
                 (row_number() OVER (PARTITION BY tenant_id ORDER BY id) - 1) / %(batch)s AS n
          FROM event) numbered
    GROUP BY tenant_id, n
)
SELECT (SELECT count(*) FROM event),
       (SELECT procrastinate_defer_jobs_v1(array_agg(ROW(
            %(queue)s::text, %(task)s::text, %(priority)s::integer, NULL, NULL,
            jsonb_build_object('tenant_id', batch.tenant_id, 'event_ids', batch.ids), NULL
        )::procrastinate_job_to_defer_v1)) FROM batch HAVING count(*) > 0)
"""
SWEEPS = (
    ("warned_at", "warn_at", "sla.warning"),
    ("breached_at", "due_at", "sla.breached"),
)


@app.task(name="routing.sla_events_dispatch", queue="events", pass_context=False)
def sla_events_dispatch(*, tenant_id: int, event_ids: list[int]) -> None:
    """Dispatch the events of one sweep batch one after the other (core.events_dispatch,
    which skips what is done). An event whose handlers fail gets a dispatch job of its own,
    with core's retries, so one failure neither holds up nor repeats the others. Should the
    worker die mid-batch, core.events_sweep re-queues the undispatched events."""
    from autocrm.core.tasks import events_dispatch

    for event_id in event_ids:
        try:
            events_dispatch(tenant_id=tenant_id, event_id=event_id)
        except Exception:
            logger.exception("sla_events_dispatch.failed", event_id=event_id)
            events_dispatch.defer(tenant_id=tenant_id, event_id=event_id)


def sla_sweep_run(now: Any = None) -> dict[str, int]:
    """Flag due warnings and breaches across tenants and append their events; returns the
    counts by event type."""
    from autocrm.core.tenancy import system_context

    now = now or timezone.now()
    counts = {}
    for flag, at, type_ in SWEEPS:
        sql = _SWEEP_SQL.format(flag=flag, at=at)
        params = {
            "now": now,
            "type": type_,
            "batch": SWEEP_BATCH,
            "queue": sla_events_dispatch.queue,
            "task": sla_events_dispatch.name,
            "priority": sla_events_dispatch.priority,
        }
        with (
            system_context("sla_sweep: flag SLA warnings and breaches") as db,
            connections[db].cursor() as cursor,
        ):
            cursor.execute(sql, params)
            row = cursor.fetchone()
        counts[type_] = int(row[0]) if row else 0
    if any(counts.values()):
        logger.info("sla_sweep.done", **{k.replace(".", "_"): v for k, v in counts.items()})
    return counts


@app.periodic(cron="* * * * *", periodic_id="sla_sweep")
@app.task(name="routing.sla_sweep", queue="events", queueing_lock="sla_sweep", pass_context=False)
def sla_sweep(timestamp: int) -> dict[str, int]:
    """Every minute: SLA warnings and breaches that came due."""
    return sla_sweep_run()


@app.periodic(cron="*/10 * * * *", periodic_id="automations_run")
@app.task(
    name="routing.automations_run",
    queue="maintenance",
    queueing_lock="automations_run",
    pass_context=False,
)
def automations_run(timestamp: int) -> int:
    """Every ten minutes: each tenant's time-based automations over its open tickets."""
    from autocrm.core.tenancy import system_context
    from autocrm.routing.services.triggers import automations_run as run_for_tenant

    with system_context("automations_run: tenants with active automations") as db:
        tenant_ids = list(
            Automation.objects.using(db)
            .filter(active=True)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    fired = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids):
        with tenant_context(tenant):
            fired += run_for_tenant(tenant=tenant)
    return fired


@app.periodic(cron="* * * * *", periodic_id="reroute_offline")
@app.task(
    name="routing.reroute_offline",
    queue="maintenance",
    queueing_lock="reroute_offline",
    pass_context=False,
)
def reroute_offline(timestamp: int) -> int:
    """Every minute: tickets of agents offline past their team's grace time go back to the
    team's assignment (services.reroute)."""
    from autocrm.core.tenancy import system_context
    from autocrm.routing.models import Team
    from autocrm.routing.services.reroute import reroute_offline_run

    with system_context("reroute_offline: tenants with a re-route grace time") as db:
        tenant_ids = list(
            Team.objects.using(db)
            .filter(offline_grace_minutes__isnull=False)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    return sum(reroute_offline_run(tenant=t) for t in Tenant.objects.filter(pk__in=tenant_ids))


@app.periodic(cron="* * * * *", periodic_id="presence_expire")
@app.task(
    name="routing.presence_expire",
    queue="maintenance",
    queueing_lock="presence_expire",
    pass_context=False,
)
def presence_expire(timestamp: int) -> int:
    """Every minute: online agents whose workspace has been closed for a few minutes go
    offline (services.presence)."""
    from autocrm.core.tenancy import system_context
    from autocrm.routing.models import AgentProfile, Availability
    from autocrm.routing.services.presence import PRESENCE_TIMEOUT
    from autocrm.routing.services.presence import presence_expire as expire

    cutoff = timezone.now() - PRESENCE_TIMEOUT
    with system_context("presence_expire: tenants with agents gone quiet") as db:
        tenant_ids = list(
            AgentProfile.objects.using(db)
            .filter(availability=Availability.ONLINE, last_seen_at__lt=cutoff)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    total = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids):
        with tenant_context(tenant):
            total += expire(tenant=tenant)
    return total
