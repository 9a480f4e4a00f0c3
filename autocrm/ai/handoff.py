"""The help-centre assistant's hand-off to a person: a ticket with the conversation.

A signed-in customer's hand-off is a ticket at once: their address is their account's,
confirmed when they signed up. A visitor only types an address, and anyone can type anyone's.
Filed at once, that ticket would sit in the workspace as a request *from that contact* (their
history and CRM record beside it, the agent's answer mailed to them) and our acknowledgement
would go to a stranger's inbox. So, as help desks do for unauthenticated web requests, the
visitor's conversation waits (:class:`PendingHandoff`) and the one mail sent is a link to that
address: following it (and pressing the button, so mail scanners that open links do not)
files the ticket. Until then agents see nothing and no contact is created; unconfirmed
requests are deleted after ``CONFIRM_HOURS`` (by an hourly worker job, and in the tenant
whenever a visitor makes a new one), each with an ``ai.chatbot.handoff_expired`` event.

The confirmation mail holds nothing the visitor wrote (no name, no transcript): it cannot
carry anyone's spam, and how many go to one address is rate-limited by the views.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import formataddr, parseaddr

import structlog
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from autocrm.ai.chatbot import CHATBOT_ACTOR, conversation_subject, transcript_text
from autocrm.ai.events import (
    CHATBOT_CONVERSATION,
    CHATBOT_HANDED_OFF,
    CHATBOT_HANDOFF_EXPIRED,
    CHATBOT_HANDOFF_REQUESTED,
)
from autocrm.ai.models import PendingHandoff
from autocrm.core.actors import Actor
from autocrm.core.events import EventDraft, event_append, event_append_many
from autocrm.core.models import Tenant
from autocrm.core.tenancy import system_context, tenant_context
from autocrm.portal.branding import Branding
from autocrm.portal.customers import help_url
from autocrm.tickets import services as tickets
from autocrm.tickets.models import Channel, Ticket

CONFIRM_HOURS = 48
_SALT = "autocrm.ai.handoff"
EXPIRE_ACTOR = Actor.system("ai_handoff_expire")
logger = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Handoff:
    """What a hand-off did: a ticket (signed-in customer) or a confirmation mailed to
    ``confirm_to`` (visitor)."""

    ticket: Ticket | None = None
    confirm_to: str = ""


def _signer(tenant: Tenant) -> signing.TimestampSigner:
    # Per tenant: a link made for one help centre opens nothing in another.
    return signing.TimestampSigner(salt=f"{_SALT}:{tenant.pk}")


def confirm_token(tenant: Tenant, handoff: PendingHandoff) -> str:
    return _signer(tenant).sign(str(handoff.pk))


def confirm_url(tenant: Tenant, handoff: PendingHandoff) -> str:
    path = reverse("portal:assistant_confirm", args=[tenant.slug, confirm_token(tenant, handoff)])
    return help_url(tenant, path)


def _ticket_from(
    *,
    tenant: Tenant,
    actor: Actor,
    transcript: list[dict[str, str]],
    requester_email: str = "",
    requester_name: str = "",
) -> Ticket:
    questions = [t["text"] for t in transcript if t.get("role") == "user" and t.get("text")]
    return tickets.ticket_create(
        tenant=tenant,
        actor=actor,
        subject=questions[-1][:120],
        body="Conversation with the help-centre assistant:\n\n" + transcript_text(transcript),
        body_format="text",
        channel=Channel.CHAT,
        requester_email=requester_email or None,
        requester_name=requester_name,
    )


def _handed_off(
    *, tenant: Tenant, actor: Actor, conversation: str, ticket: Ticket, turns: int
) -> None:
    event_append(
        tenant=tenant,
        type=CHATBOT_HANDED_OFF,
        subject=(CHATBOT_CONVERSATION, conversation),
        actor=actor,
        payload={"ticket_id": ticket.pk, "number": ticket.number, "turns": turns},
    )


def chatbot_handoff(
    *,
    tenant: Tenant,
    actor: Actor,
    transcript: list[dict[str, str]],
    conversation_key: str,
    email: str = "",
    name: str = "",
) -> Handoff:
    """A signed-in customer's conversation becomes a ticket; a visitor's waits for the
    address they gave to be confirmed (a link mailed there by the worker)."""
    if not any(t.get("role") == "user" and t.get("text") for t in transcript):
        raise ValidationError({"transcript": "Ask the assistant something first."})
    conversation = conversation_subject(conversation_key)[1]
    if actor.role == "customer":
        with transaction.atomic():
            ticket = _ticket_from(tenant=tenant, actor=actor, transcript=transcript)
            _handed_off(
                tenant=tenant,
                actor=actor,
                conversation=conversation,
                ticket=ticket,
                turns=len(transcript),
            )
        return Handoff(ticket=ticket)
    email = email.strip()
    if not email:
        raise ValidationError({"email": "Your email address, so we can answer you."})
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": "Enter a valid email address."}) from exc
    from autocrm.ai.tasks import handoff_confirmation_send

    now = timezone.now()
    with transaction.atomic():
        handoffs_expire(tenant=tenant, actor=EXPIRE_ACTOR, now=now)
        pending = PendingHandoff.objects.create(
            tenant=tenant,
            email=email,
            name=name.strip()[:200],
            transcript=transcript,
            conversation=conversation,
            created_at=now,
        )
        event_append(
            tenant=tenant,
            type=CHATBOT_HANDOFF_REQUESTED,
            subject=(CHATBOT_CONVERSATION, conversation),
            actor=actor,
            payload={"handoff_id": pending.pk, "turns": len(transcript)},
        )
        # A job row in the same transaction: the mail goes out if and only if this commits.
        handoff_confirmation_send.defer(tenant_id=tenant.pk, handoff_id=pending.pk)
    return Handoff(confirm_to=email)


def handoffs_expire(*, tenant: Tenant, actor: Actor, now: dt.datetime | None = None) -> int:
    """Delete ``tenant``'s requests nobody confirmed within ``CONFIRM_HOURS`` (a stranger's
    conversation and an address are not kept), one ``ai.chatbot.handoff_expired`` event
    each; returns how many. Their links already open nothing (``handoff_pending``)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=CONFIRM_HOURS)
    with transaction.atomic():
        expired = list(
            PendingHandoff.objects.select_for_update(skip_locked=True)
            .filter(tenant=tenant, created_at__lt=cutoff, confirmed_at__isnull=True)
            .values_list("pk", "conversation", "created_at")
        )
        if not expired:
            return 0
        PendingHandoff.objects.filter(pk__in=[pk for pk, _, _ in expired]).delete()
        event_append_many(
            tenant=tenant,
            actor=actor,
            drafts=[
                EventDraft(
                    type=CHATBOT_HANDOFF_EXPIRED,
                    subject=(CHATBOT_CONVERSATION, conversation),
                    payload={"handoff_id": pk, "requested_at": created.isoformat()},
                )
                for pk, conversation, created in expired
            ],
        )
    logger.info("ai.handoff.expired", count=len(expired), hours=CONFIRM_HOURS)
    return len(expired)


def handoffs_expire_all(*, now: dt.datetime | None = None) -> int:
    """``handoffs_expire`` in every tenant that has a request past its time (the worker's
    hourly sweep: a help centre nobody asks again would otherwise keep them forever)."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=CONFIRM_HOURS)
    with system_context("ai_handoff_expire: find unconfirmed hand-offs past their time") as db:
        tenant_ids = list(
            PendingHandoff.objects.using(db)
            .filter(created_at__lt=cutoff, confirmed_at__isnull=True)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    deleted = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids).order_by("pk"):
        with tenant_context(tenant):
            deleted += handoffs_expire(tenant=tenant, actor=EXPIRE_ACTOR, now=now)
    return deleted


def handoff_pending(*, tenant: Tenant, token: str) -> PendingHandoff:
    """The waiting hand-off a confirmation link names, or ValidationError (altered, expired,
    another help centre's)."""
    expired = ValidationError(
        "This confirmation link is invalid or has expired. Ask the assistant again to send "
        "your question to our team."
    )
    try:
        pk = int(_signer(tenant).unsign(token, max_age=dt.timedelta(hours=CONFIRM_HOURS)))
    except (signing.BadSignature, ValueError):
        raise expired from None
    pending = PendingHandoff.objects.filter(tenant=tenant, pk=pk).first()
    too_old = timezone.now() - dt.timedelta(hours=CONFIRM_HOURS)
    if pending is None or (pending.confirmed_at is None and pending.created_at < too_old):
        raise expired
    return pending


def handoff_confirm(*, tenant: Tenant, token: str) -> Ticket:
    """The visitor followed the link: the conversation becomes a ticket from that address
    (once; confirming again shows the same ticket)."""
    with transaction.atomic():
        pending = handoff_pending(tenant=tenant, token=token)
        pending = PendingHandoff.objects.select_for_update().get(pk=pending.pk)
        if pending.confirmed_at is not None:
            if pending.ticket is None:  # confirmed, and the ticket deleted since
                raise ValidationError("This request was sent to our team already.")
            return pending.ticket
        ticket = _ticket_from(
            tenant=tenant,
            actor=CHATBOT_ACTOR,
            transcript=pending.transcript,
            requester_email=pending.email,
            requester_name=pending.name,
        )
        pending.ticket, pending.confirmed_at = ticket, timezone.now()
        pending.save(update_fields=["ticket", "confirmed_at"])
        _handed_off(
            tenant=tenant,
            actor=CHATBOT_ACTOR,
            conversation=pending.conversation,
            ticket=ticket,
            turns=len(pending.transcript),
        )
    return ticket


def confirmation_mail(tenant: Tenant, handoff: PendingHandoff) -> tuple[str, str, str]:
    """(subject, body, from) of the confirmation: the help centre's name and a link, and
    nothing the visitor typed."""
    brand = Branding(tenant).name
    subject = f"[{brand}] Confirm your request to our support team"
    body = (
        f"Hello,\n\nsomeone asked the assistant in {brand}'s help centre to pass a "
        "conversation to our support team and gave this address for the answer.\n\n"
        f"If that was you, confirm within {CONFIRM_HOURS} hours and we will send it on:\n\n"
        f"{confirm_url(tenant, handoff)}\n\n"
        "If it was not you, ignore this message: nothing is sent to our team and we will "
        f"not write to you again about it.\n\n{brand}\n"
    )
    sender = formataddr((brand, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))
    return subject, body, sender
