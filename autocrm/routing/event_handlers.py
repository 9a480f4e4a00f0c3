"""How routing reacts to ticket events (run by core.events_dispatch in the worker, each
handler in its own transaction and at most once per event):

1. ``routing.triggers``: the triggers the event matches act on the ticket;
2. ``routing.sla``: SLA timers start, pause, resume or are met;
3. ``routing.assign``: a ticket of an auto-assigning team without an assignee gets one;
4. ``routing.sla_alerts``: an SLA warning or breach notifies the assignee (in-app, by their
   preference for the SLA kind), and a breach runs the policy's escalation actions.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from autocrm.core.actors import Actor
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.notifications.inapp import notify
from autocrm.notifications.models import InAppKind
from autocrm.routing import events
from autocrm.routing.models import RuleKind, SlaTimer
from autocrm.routing.services.actions import actions_run
from autocrm.routing.services.assignment import ticket_auto_assign
from autocrm.routing.services.sla import sla_apply, sla_reply, sla_status_changed
from autocrm.routing.services.triggers import triggers_run
from autocrm.tickets import events as ticket_events
from autocrm.tickets.models import Ticket

TICKET_EVENTS = [
    ticket_events.TICKET_CREATED,
    ticket_events.TICKET_UPDATED,
    ticket_events.MESSAGE_CREATED,
]
SLA_FIELDS = {"priority", "type", "tags", "team_id", "organization_id", "custom_fields", "metadata"}


def _ticket_id(event: Event) -> int:
    if event.type == ticket_events.MESSAGE_CREATED:
        return int(event.payload["ticket_id"])
    return int(event.subject_id)


def _tenant(event: Event) -> Tenant:
    return Tenant.objects.get(pk=event.tenant_id)


@event_handler("routing.triggers", types=TICKET_EVENTS)
def triggers_on_ticket_event(event: Event) -> None:
    triggers_run(tenant=_tenant(event), event=event, ticket_id=_ticket_id(event))


@event_handler("routing.sla", types=TICKET_EVENTS)
def sla_on_ticket_event(event: Event) -> None:
    tenant = _tenant(event)
    ticket = (
        Ticket.objects.select_related("requester", "team__business_hours")
        .filter(tenant=tenant, pk=_ticket_id(event))
        .first()
    )
    if ticket is None:
        return
    at = event.created_at
    if event.type == ticket_events.TICKET_CREATED:
        sla_apply(tenant=tenant, ticket=ticket, at=at)
    elif event.type == ticket_events.MESSAGE_CREATED:
        if event.payload.get("public"):
            by_agent = not event.payload.get("from_requester")
            sla_reply(tenant=tenant, ticket=ticket, by_agent=by_agent, at=at)
    else:
        changes = event.payload.get("changes") or {}
        if "status" in changes:
            sla_status_changed(
                tenant=tenant, ticket=ticket, before=changes["status"]["from"], at=at
            )
        if SLA_FIELDS & set(changes):
            sla_apply(tenant=tenant, ticket=ticket, at=at)


@event_handler("routing.assign", types=[ticket_events.TICKET_CREATED, ticket_events.TICKET_UPDATED])
def assign_on_ticket_event(event: Event) -> None:
    if event.type == ticket_events.TICKET_UPDATED:
        changes = event.payload.get("changes") or {}
        reopened = "status" in changes and changes["status"]["to"] in ("new", "open")
        if not ({"team_id", "assignee_id"} & set(changes) or reopened):
            return
    ticket_auto_assign(tenant=_tenant(event), ticket_id=_ticket_id(event))


@event_handler("routing.sla_alerts", types=[events.SLA_WARNING, events.SLA_BREACHED])
def sla_alerts(event: Event) -> None:
    tenant = _tenant(event)
    timer = (
        SlaTimer.objects.filter(tenant=tenant, pk=event.payload.get("timer_id"))
        .select_related("policy")
        .first()
    )
    if timer is None:
        return
    ticket = (
        Ticket.objects.select_related("requester", "assignee").filter(pk=timer.ticket_id).first()
    )
    if ticket is None:
        return
    actor = Actor.system("sla")
    with transaction.atomic():
        if ticket.assignee_id is not None:
            verb = "is due soon" if event.type == events.SLA_WARNING else "was breached"
            notify(
                tenant=tenant,
                user=ticket.assignee_id,
                kind=InAppKind.SLA_WARNING,
                subject=f"#{ticket.number}: {timer.get_metric_display()} {verb}",
                url=reverse("workspace:agent_ticket", args=[tenant.slug, ticket.number]),
                actor=actor,
            )
        policy = timer.policy
        if (
            event.type == events.SLA_BREACHED
            and policy
            and policy.escalation
            and not ticket.is_closed
        ):
            actions_run(
                tenant=tenant,
                actor=Actor.system(f"sla:{policy.pk}"),
                ticket=ticket,
                actions=policy.escalation,
                kind=RuleKind.SLA,
                rule_id=policy.pk,
                rule_name=policy.name,
                event_id=event.pk,
            )
