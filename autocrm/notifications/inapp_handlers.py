"""Who is told what about tickets (run by core.events_dispatch in the worker, in the event's
tenant context): the new assignee, the teammates a note mentions (``mentioned_user_ids`` in
the message event's payload), and the assignee when the customer replies."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from autocrm.core.actors import SYSTEM, SYSTEM_LABEL_PREFIX, Actor
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.notifications.inapp import notify
from autocrm.notifications.models import InAppKind
from autocrm.tickets import events as ticket_events
from autocrm.tickets.models import Ticket

HANDLER = "inapp_notifications"


def _ids(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [v for v in dict.fromkeys(value) if isinstance(v, int) and not isinstance(v, bool)]


@event_handler(
    HANDLER,
    types=[
        ticket_events.TICKET_CREATED,
        ticket_events.TICKET_UPDATED,
        ticket_events.MESSAGE_CREATED,
    ],
)
def inapp_from_ticket_events(event: Event) -> None:
    payload = event.payload
    if event.type == ticket_events.MESSAGE_CREATED:
        ticket_id = payload.get("ticket_id")
    else:
        ticket_id = int(event.subject_id)
    if not isinstance(ticket_id, int):
        return
    row = (
        Ticket.objects.filter(tenant_id=event.tenant_id, pk=ticket_id)
        .values_list("number", "subject", "assignee_id")
        .first()
    )
    if row is None:
        return
    number, subject, assignee = row
    tenant = Tenant.objects.get(pk=event.tenant_id)
    # The system job notifies; the event's user is who caused it (never notified of it).
    actor = Actor(user=event.actor, role=SYSTEM, label=f"{SYSTEM_LABEL_PREFIX}{HANDLER}")
    who = event.actor.display_name if event.actor else "Someone"
    url = reverse("workspace:agent_ticket", kwargs={"tenant_slug": tenant.slug, "number": number})
    title = f"#{number} “{subject[:120]}”"

    def tell(user_id: int, kind: str, text: str) -> None:
        notify(tenant=tenant, user=user_id, kind=kind, subject=text, url=url, actor=actor)

    if event.type == ticket_events.TICKET_CREATED and assignee:
        tell(assignee, InAppKind.ASSIGNED, f"{title} was assigned to you")
    elif event.type == ticket_events.TICKET_UPDATED:
        change = (payload.get("changes") or {}).get("assignee_id")
        if isinstance(change, dict) and isinstance(change.get("to"), int):
            tell(change["to"], InAppKind.ASSIGNED, f"{who} assigned {title} to you")
    elif event.type == ticket_events.MESSAGE_CREATED:
        for user_id in _ids(payload.get("mentioned_user_ids")):
            tell(user_id, InAppKind.MENTIONED, f"{who} mentioned you on {title}")
        if payload.get("from_requester") and assignee:
            tell(assignee, InAppKind.CUSTOMER_REPLIED, f"The customer replied on {title}")
