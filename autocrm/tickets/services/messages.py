"""Replies and internal notes on a ticket."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from autocrm.accounts.models import STAFF_ROLES, Membership
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm.models import Contact
from autocrm.tickets import access, events
from autocrm.tickets.content import mentioned_user_ids, normalize_body
from autocrm.tickets.models import Channel, Message, Status, Ticket
from autocrm.tickets.search import search_vector_after_reply
from autocrm.tickets.services.changes import ticket_ensure_open, ticket_locked
from autocrm.tickets.services.cleaning import clean_choice

# Who may post a message in the requester's name besides customers themselves: API keys
# (read-only keys cannot write at all) and system jobs such as inbound channels.
REQUESTER_VOICES = frozenset({"api", "system"})


@transaction.atomic
def ticket_message_add(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    body: str,
    public: bool = True,
    body_format: str = "auto",
    channel: str | None = None,
    channel_message_id: str = "",
    as_requester: bool = False,
    author_contact: Contact | None = None,
    channel_message_new: bool = False,
    email_message_id: str = "",
    email_in_reply_to: str = "",
    email_references: str = "",
) -> Message:
    """A public reply or internal note. Replies from the requester re-open solved and pending
    tickets; an agent's first public reply sets ``first_response_at``. ``author_contact``
    (with ``as_requester``): another contact speaking on the requester's side, e.g. a
    collaborator replying by email.

    A ``channel_message_id`` seen before returns that message (a retried delivery);
    ``channel_message_new`` says the caller's own claim already made sure it is new (the
    email import's inbound row), so it is not looked up (the unique index on the column
    still refuses a second copy). The ``email_*`` headers of a message that arrived by
    email are stored with it."""
    access.require_write(actor)
    if not body.strip():
        raise ValidationError({"body": "A body is required."})
    if actor.is_customer:
        public, as_requester = True, True
    elif actor.role == "light_agent" and public:
        raise PermissionDenied("Light agents can add internal notes only.")
    elif as_requester and actor.role not in REQUESTER_VOICES:
        # Staff signed in as themselves must not put words in the customer's mouth (it reads
        # as the customer's own and re-opens solved tickets): integrations and inbound
        # channels do that, with a key or as a named job, and the event names them.
        raise PermissionDenied("Only API keys with write scope can post as the requester.")
    if author_contact is not None and not as_requester:
        raise ValidationError({"author_contact": "Only a requester-side message has one."})
    if as_requester and not public:
        raise ValidationError({"public": "A requester's message is always public."})
    if channel_message_id and not channel_message_new:
        duplicate = Message.objects.filter(
            tenant=tenant, channel_message_id=channel_message_id
        ).first()
        if duplicate is not None:
            return duplicate
    ticket = ticket_locked(tenant=tenant, actor=actor, ticket_id=ticket_id)
    ticket_ensure_open(ticket)
    try:
        body_html, body_text = normalize_body(body, body_format)
    except ValueError as exc:
        raise ValidationError({"body_format": str(exc)}) from exc
    channel = clean_choice(
        "channel", channel or (Channel.PORTAL if actor.is_customer else Channel.API), Channel.values
    )
    # @mentions notify (autocrm.notifications, from the event): only in internal notes by
    # staff, and only of staff of this tenant, whatever ids the HTML claims.
    mentioned: list[int] = []
    if not public and not as_requester and (ids := mentioned_user_ids(body_html)):
        mentioned = sorted(
            Membership.objects.filter(
                tenant=tenant, user_id__in=ids, role__in=STAFF_ROLES
            ).values_list("user_id", flat=True)
        )
    now = timezone.now()
    message = Message.objects.create(
        tenant=tenant,
        ticket=ticket,
        public=public,
        body_html=body_html,
        body_text=body_text,
        author_user=None if as_requester else actor.user,
        author_contact=(author_contact or ticket.requester) if as_requester else None,
        channel=channel,
        channel_message_id=channel_message_id,
        email_message_id=email_message_id[:998],
        email_in_reply_to=email_in_reply_to[:998],
        email_references=email_references,
        created_at=now,
    )

    diff: dict[str, dict[str, Any]] = {}
    new_status = ticket.status
    if as_requester and ticket.status in {Status.SOLVED, Status.PENDING}:
        new_status = Status.OPEN
    elif not as_requester and public and ticket.status == Status.NEW:
        new_status = Status.OPEN
    if new_status != ticket.status:
        diff["status"] = {"from": ticket.status, "to": new_status}
    updates: dict[str, Any] = {
        "status": new_status,
        "updated_at": now,
        "version": F("version") + 1,
        "search_vector": search_vector_after_reply(
            tenant=tenant, ticket_id=ticket.pk, message_id=message.pk, text=body_text
        ),
    }
    if new_status != Status.SOLVED and ticket.status == Status.SOLVED:
        updates["solved_at"] = None
    if not as_requester and public and ticket.first_response_at is None:
        updates["first_response_at"] = now
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    event_append(
        tenant=tenant,
        type=events.MESSAGE_CREATED,
        subject=message,
        actor=actor,
        payload={
            "ticket_id": ticket.pk,
            "number": ticket.number,
            "public": public,
            "from_requester": as_requester,
            "channel": channel,
            "mentioned_user_ids": mentioned,
        },
    )
    if diff:
        event_append(
            tenant=tenant,
            type=events.TICKET_UPDATED,
            subject=ticket,
            actor=actor,
            payload={
                "number": ticket.number,
                "changes": diff,
                "reason": "requester replied" if as_requester else "agent replied",
            },
        )
    return message


# --- merge and split ----------------------------------------------------------------------
