"""The realtime push: every ticket event goes out on the bus once its handler commits (run by
core.events_dispatch in the worker, inside the event's tenant context; ADR 0008). These
handlers run first of an event's handlers: an agent's open page is waiting for them."""

from __future__ import annotations

from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.notifications import events as notification_events
from autocrm.notifications.inapp import unread_count
from autocrm.realtime import bus, messages
from autocrm.tickets.models import Ticket


@event_handler("realtime", types=sorted(messages.TICKET_TYPES), first=True)
def realtime_push(event: Event) -> None:
    ticket_id = messages.ticket_id_of(event)
    row = (
        Ticket.objects.filter(tenant_id=event.tenant_id, pk=ticket_id)
        .values_list("team_id", "assignee_id")
        .first()
        if ticket_id is not None
        else None
    )
    team, assignee = row or (None, None)
    name = event.actor.display_name if event.actor_id and event.actor else event.actor_label
    bus.publish(messages.bus_message(event, team_id=team, assignee_id=assignee, actor_name=name))


@event_handler(
    "realtime_notifications", types=[notification_events.NOTIFICATION_CREATED], first=True
)
def realtime_notification_push(event: Event) -> None:
    payload = event.payload
    if not payload.get("in_app"):
        return  # wanted by e-mail only
    user_id = int(payload["user_id"])
    tenant = Tenant.objects.get(pk=event.tenant_id)
    bus.publish(
        messages.notification_message(
            tenant_id=event.tenant_id,
            event_id=event.pk,
            user_id=user_id,
            notification={
                "id": int(event.subject_id),
                "kind": payload.get("kind"),
                "subject": payload.get("subject"),
                "url": payload.get("url"),
            },
            unread=unread_count(tenant=tenant, user_id=user_id),
        )
    )
