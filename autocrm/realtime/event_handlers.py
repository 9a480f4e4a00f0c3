"""The realtime push: every ticket event goes out on the bus once its handler commits (run by
core.events_dispatch in the worker, inside the event's tenant context; ADR 0008)."""

from __future__ import annotations

from autocrm.core.events import event_handler
from autocrm.core.models import Event
from autocrm.realtime import bus, messages
from autocrm.tickets.models import Ticket


@event_handler("realtime", types=sorted(messages.TICKET_TYPES))
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
