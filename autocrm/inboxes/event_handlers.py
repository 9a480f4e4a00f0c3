"""Mail the worker sends because of ticket events (run by core.events_dispatch in the
worker, in the event's tenant context and transaction): an agent's public reply on an
email ticket, the "ticket received" acknowledgement of a new ticket, and the "ticket
solved" notification."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.inboxes.models import OutboundKind
from autocrm.inboxes.notifications import ACKNOWLEDGED_CHANNELS, notification_queue
from autocrm.inboxes.outbound import outbound_queue
from autocrm.tickets.events import MESSAGE_CREATED, TICKET_CREATED, TICKET_UPDATED
from autocrm.tickets.models import Message, Status

QUEUE = Actor.system("email_queue")
NOTIFY = Actor.system("email_notify")


@event_handler("email_outbound", types=[MESSAGE_CREATED])
def email_outbound(event: Event) -> None:
    if not event.payload.get("public") or event.payload.get("from_requester"):
        return
    tenant = Tenant.objects.get(pk=event.tenant_id)
    message = Message.objects.filter(tenant=tenant, pk=event.subject_id).first()
    if message is not None:
        outbound_queue(tenant=tenant, actor=QUEUE, message=message)


@event_handler("email_ticket_received", types=[TICKET_CREATED])
def email_ticket_received(event: Event) -> None:
    """Acknowledge a new ticket the customer opened (not one logged already solved)."""
    payload = event.payload
    if payload.get("channel") not in ACKNOWLEDGED_CHANNELS:
        return
    if payload.get("status") in {Status.SOLVED, Status.CLOSED}:
        return
    tenant = Tenant.objects.get(pk=event.tenant_id)
    notification_queue(
        tenant=tenant,
        actor=NOTIFY,
        ticket_id=int(event.subject_id),
        kind=OutboundKind.TICKET_RECEIVED,
        event_id=event.pk,
    )


@event_handler("email_ticket_solved", types=[TICKET_UPDATED])
def email_ticket_solved(event: Event) -> None:
    status = event.payload.get("changes", {}).get("status", {})
    if status.get("to") != Status.SOLVED:
        return
    tenant = Tenant.objects.get(pk=event.tenant_id)
    notification_queue(
        tenant=tenant,
        actor=NOTIFY,
        ticket_id=int(event.subject_id),
        kind=OutboundKind.TICKET_SOLVED,
        event_id=event.pk,
    )
