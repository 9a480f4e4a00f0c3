"""Agent replies on email tickets become outbound mail (run by core.events_dispatch in the
worker, in the event's tenant context and transaction)."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.inboxes.outbound import outbound_queue
from autocrm.tickets.events import MESSAGE_CREATED
from autocrm.tickets.models import Message

QUEUE = Actor.system("email_queue")


@event_handler("email_outbound", types=[MESSAGE_CREATED])
def email_outbound(event: Event) -> None:
    if not event.payload.get("public") or event.payload.get("from_requester"):
        return
    tenant = Tenant.objects.get(pk=event.tenant_id)
    message = Message.objects.filter(tenant=tenant, pk=event.subject_id).first()
    if message is not None:
        outbound_queue(tenant=tenant, actor=QUEUE, message=message)
