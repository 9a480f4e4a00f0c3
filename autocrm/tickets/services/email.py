"""What the email channel records on tickets: collaborators (Cc'd contacts) and the
delivery state of an emailed reply (a message's email headers are stored with it:
``ticket_create``, ``ticket_message_add``)."""

from __future__ import annotations

from django.db import transaction

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm.models import Contact
from autocrm.tickets import access, events
from autocrm.tickets.models import Collaborator, Message, Ticket

DELIVERY_STATES = frozenset({"", "queued", "sending", "sent", "deferred", "failed", "bounced"})


@transaction.atomic
def ticket_collaborator_add(
    *, tenant: Tenant, actor: Actor, ticket: Ticket, contact: Contact
) -> bool:
    """Copy ``contact`` on the ticket; False when it already was (or is the requester)."""
    access.require_write(actor)
    if contact.pk == ticket.requester_id:
        return False
    _, created = Collaborator.objects.get_or_create(tenant=tenant, ticket=ticket, contact=contact)
    if created:
        event_append(
            tenant=tenant,
            type=events.COLLABORATOR_ADDED,
            subject=ticket,
            actor=actor,
            payload={"number": ticket.number, "contact_id": contact.pk, "email": contact.email},
        )
    return created


def message_delivery_state_set(
    *, tenant: Tenant, actor: Actor, message_id: int, state: str
) -> None:
    """Mirror the outbound email's state on the message (the caller's service appends the
    ``email.*`` event of the change)."""
    access.require_write(actor)
    if state not in DELIVERY_STATES:
        raise ValueError(f"unknown delivery state {state!r}")
    Message.objects.filter(tenant=tenant, pk=message_id).update(delivery_state=state)
