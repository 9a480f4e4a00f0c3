"""Customer notification mails: "ticket received" (the automatic acknowledgement of a new
ticket from email, the help centre, a web form or the API), "ticket solved", and the
satisfaction survey of a solved ticket (queued by autocrm.portal, which writes its body).

Both are queued by event handlers in the worker (autocrm.inboxes.event_handlers), in the
event's transaction, as an ``OutboundEmail`` of their kind without a message; the send job
is the agent reply's (autocrm.inboxes.outbound): claimed, sent, recorded, retried with
backoff, never twice. Each row carries the key ``<kind>:<ticket>:<event>`` under a unique
constraint, so the same event handled again (a retried dispatch, a duplicated job) finds
its row and queues nothing.

An automatic answer is the classic way two robots mail each other forever, so the
acknowledgement goes only to a person (RFC 3834): not when the ticket's first mail came
from a mailing list, with a null return path or from a no-reply address (decided at import:
``InboundEmail.no_auto_reply``), not to a no-reply or hard-bounced address, not to our own
address, and at most ``NOTIFICATION_RECEIVED_PER_ADDRESS_PER_HOUR`` times an hour to one
address. Auto-submitted mail and bulk mail never become tickets in the first place
(autocrm.inboxes.detection). The mails themselves say ``Auto-Submitted`` so other robots
leave them alone. A notification held back for one of those reasons appends
``email.notification_suppressed`` with the reason, so the silence is visible.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.inboxes import detection, events
from autocrm.inboxes.models import (
    AddressBounce,
    DeliveryState,
    InboundEmail,
    InboundOutcome,
    Inbox,
    OutboundEmail,
    OutboundKind,
)
from autocrm.inboxes.outbound import defer_send, sender_domain, ticket_inbox
from autocrm.tickets.models import Channel, Status, Ticket

# Channels whose new tickets are acknowledged: the customer wrote and waits. A chat is
# answered live; SMS and phone tickets have no mail to answer; internal ones no customer.
ACKNOWLEDGED_CHANNELS = frozenset({Channel.EMAIL, Channel.WEB, Channel.PORTAL, Channel.API})
# The tenant settings (TENANT_SETTING_DEFAULTS) that switch each notification on.
SETTING = {
    OutboundKind.TICKET_RECEIVED: "email_ticket_received",
    OutboundKind.TICKET_SOLVED: "email_ticket_solved",
    OutboundKind.CSAT_SURVEY: "csat_enabled",
}
# Kinds that only make sense while the ticket is still solved when the worker gets there.
AFTER_SOLVE = frozenset({OutboundKind.TICKET_SOLVED, OutboundKind.CSAT_SURVEY})
# Held back for these reasons with an event; the others (switched off, no inbox, no
# address) are the tenant's configuration, not something to report per ticket.
LOOP = "loop"
BOUNCED_ADDRESS = "bounced_address"
RATE_LIMITED = "rate_limited"


def notification_inbox(*, tenant: Tenant, ticket: Ticket) -> Inbox | None:
    """The inbox a notification leaves from: the one the ticket's mail came through; for a
    ticket from elsewhere, the inbox of the ticket's team, else the workspace's first."""
    inbox = ticket_inbox(tenant=tenant, ticket=ticket)
    if inbox is not None:
        return inbox
    inboxes = Inbox.objects.filter(tenant=tenant).order_by("pk")
    if ticket.team_id is not None:
        by_team = inboxes.filter(default_team_id=ticket.team_id).first()
        if by_team is not None:
            return by_team
    return inboxes.first()


def _held_back(tenant: Tenant, ticket: Ticket, inbox: Inbox, kind: str, address: str) -> str:
    """Why this notification must not go to ``address`` ("" when it may)."""
    if address in inbox.addresses:
        return LOOP
    if detection.is_no_reply_address(address):
        return detection.NO_REPLY_ADDRESS
    if AddressBounce.objects.filter(tenant=tenant, email=address).exists():
        return BOUNCED_ADDRESS
    if kind != OutboundKind.TICKET_RECEIVED:
        return ""
    if ticket.channel == Channel.EMAIL:
        first = (
            InboundEmail.objects.filter(
                tenant=tenant, ticket=ticket, outcome=InboundOutcome.CREATED
            )
            .values_list("no_auto_reply", flat=True)
            .first()
        )
        if first:
            return first
    since = timezone.now() - dt.timedelta(hours=1)
    recent = OutboundEmail.objects.filter(
        tenant=tenant, kind=kind, created_at__gte=since, recipients__contains=[address]
    ).count()
    if recent >= settings.NOTIFICATION_RECEIVED_PER_ADDRESS_PER_HOUR:
        return RATE_LIMITED
    return ""


def notification_queue(
    *, tenant: Tenant, actor: Actor, ticket_id: int, kind: str, event_id: int
) -> OutboundEmail | None:
    """Queue the ``kind`` notification of ticket ``ticket_id`` that event ``event_id``
    calls for (in the caller's transaction, with its send job); None when it was queued
    already, is switched off, has no inbox or address to use, or is held back (then with
    an ``email.notification_suppressed`` event saying why)."""
    key = f"{kind}:{ticket_id}:{event_id}"
    if OutboundEmail.objects.filter(tenant=tenant, idempotency_key=key).exists():
        return None
    if not tenant.setting(SETTING[OutboundKind(kind)]):
        return None
    ticket = Ticket.objects.select_related("requester").filter(tenant=tenant, pk=ticket_id).first()
    if ticket is None or ticket.merged_into_id is not None:
        return None
    if kind in AFTER_SOLVE and ticket.status != Status.SOLVED:
        return None  # reopened before the worker got here: the news is stale
    address = (ticket.requester.email or "").strip().lower()
    inbox = notification_inbox(tenant=tenant, ticket=ticket)
    if inbox is None or not address:
        return None
    reason = _held_back(tenant, ticket, inbox, kind, address)
    if reason:
        event_append(
            tenant=tenant,
            type=events.EMAIL_NOTIFICATION_SUPPRESSED,
            subject=ticket,
            actor=actor,
            payload={"kind": kind, "ticket_id": ticket.pk, "to": address, "reason": reason},
        )
        return None
    rfc_id = (
        f"<autocrm.{tenant.pk}.{kind}.{ticket.pk}.{secrets.token_hex(6)}"
        f"@{sender_domain(inbox.address)}>"
    )
    try:
        with transaction.atomic():  # a concurrent twin meets the unique key, not a 2nd mail
            outbound = OutboundEmail.objects.create(
                tenant=tenant,
                inbox=inbox,
                kind=kind,
                ticket=ticket,
                idempotency_key=key,
                rfc_message_id=rfc_id,
                recipients=[address],
                state=DeliveryState.QUEUED,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return None
    event_append(
        tenant=tenant,
        type=events.EMAIL_QUEUED,
        subject=outbound,
        actor=actor,
        payload={
            "kind": kind,
            "message_id": None,
            "ticket_id": ticket.pk,
            "to": [address],
            "cc": [],
        },
    )
    defer_send(outbound)
    return outbound
