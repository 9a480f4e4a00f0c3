"""Sending an agent's public reply (and a customer notification) by email, exactly once,
from the worker.

``outbound_queue`` runs in the ``message.created`` handler (worker, event's transaction):
it records an ``OutboundEmail`` (state queued, our Message-ID fixed now so the customer's
reply threads back) and defers the send job in the same transaction.

``outbound_send`` is that job. Claim, send, record, each its own step:

1. claim: in a transaction, a row still queued or deferred becomes ``sending`` (a row in
   any other state means another job has it or it is done: nothing happens);
2. send over SMTP (Django's email backend), outside any transaction;
3. record: ``sent``; or ``deferred`` with the next attempt scheduled with backoff (the
   server was down or answered 4xx: nothing was delivered); or ``failed`` (5xx, or too
   many attempts).

A job retried after step 3 finds the row sent and stops; a worker killed between 1 and 3
leaves the row ``sending``: nobody can know whether the server took the mail, so the sweep
marks it failed with that reason instead of risking a second copy to the customer.

Notifications ("ticket received", "ticket solved", the satisfaction survey:
autocrm.inboxes.notifications) are rows of another ``kind`` without a message and go through
the same claim, send and record.
"""

from __future__ import annotations

import datetime as dt
import html
import secrets
import smtplib
import socket
from collections.abc import Callable, Iterable

import requests
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.jobs import JobDeferrer
from procrastinate.manager import JobManager

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.inboxes import events
from autocrm.inboxes.models import (
    AddressBounce,
    DeliveryState,
    InboundEmail,
    Inbox,
    OutboundEmail,
    OutboundKind,
)
from autocrm.inboxes.notification_templates import (
    AGENT_REPLIED,
    Rendered,
    notification_context,
    template_render,
    template_resolve,
)
from autocrm.tickets.attachments import attachment_open
from autocrm.tickets.models import Attachment, Collaborator, Message, Ticket
from autocrm.tickets.services.email import message_delivery_state_set

MAX_ATTEMPTS = 6
BACKOFF = (60, 300, 900, 3600, 4 * 3600)  # seconds before attempts 2..6
MAX_REFERENCES = 20
SEND_TIMEOUT = 30  # seconds per SMTP connection
_transactional_jobs = JobManager(connector=DjangoConnector(alias=DEFAULT_DB_ALIAS))


# Notification kinds whose body another app writes, registered from its AppConfig.ready():
# the satisfaction survey carries single-use links that only autocrm.portal can sign (and
# re-signs for each attempt: the link in the mail that goes out is the one that works).
# Called while the send job claims the row, in its transaction, before any SMTP traffic.
MailBodyBuilder = Callable[[Tenant, Ticket], Rendered]
_BODIES: dict[str, MailBodyBuilder] = {}


def mail_body_register(kind: str, builder: MailBodyBuilder) -> None:
    _BODIES[kind] = builder


def backoff(attempt: int) -> dt.timedelta:
    """The wait after failed attempt ``attempt`` (1-based)."""
    return dt.timedelta(seconds=BACKOFF[min(attempt, len(BACKOFF)) - 1])


def ticket_inbox(*, tenant: Tenant, ticket: Ticket) -> Inbox | None:
    """The inbox a ticket's mail came through (its latest), or the one it was created in."""
    row = (
        InboundEmail.objects.filter(tenant=tenant, ticket=ticket, inbox__isnull=False)
        .exclude(outcome="ignored")
        .order_by("-received_at", "-pk")
        .select_related("inbox")
        .first()
    )
    if row is not None:
        return row.inbox
    inbox_id = (ticket.metadata or {}).get("inbox_id")
    if isinstance(inbox_id, int):
        return Inbox.objects.filter(tenant=tenant, pk=inbox_id).first()
    return None


def sender_domain(address: str) -> str:
    return address.rpartition("@")[2] or "autocrm.local"


def defer_send(outbound: OutboundEmail, *, at: dt.datetime | None = None) -> None:
    """In the caller's transaction (Django's connection), like the events outbox."""
    from autocrm.inboxes.tasks import email_send

    job = email_send.configure(schedule_at=at).job
    JobDeferrer(job_manager=_transactional_jobs, job=job).defer(
        tenant_id=outbound.tenant_id, outbound_id=outbound.pk
    )


def outbound_queue(*, tenant: Tenant, actor: Actor, message: Message) -> OutboundEmail | None:
    """Queue the email of a public agent reply on a ticket that has an inbox; None when the
    message is not one to email (a note, the customer's own message, no inbox, no one to
    send to) or is queued already."""
    if not message.public or message.author_contact_id is not None:
        return None
    if OutboundEmail.objects.filter(tenant=tenant, message=message).exists():
        return None
    ticket = Ticket.objects.select_related("requester").get(tenant=tenant, pk=message.ticket_id)
    inbox = ticket_inbox(tenant=tenant, ticket=ticket)
    if inbox is None:
        return None
    own = inbox.addresses
    to = [ticket.requester.email] if ticket.requester.email not in own else []
    cc = [
        email
        for email in Collaborator.objects.filter(tenant=tenant, ticket=ticket)
        .order_by("pk")
        .values_list("contact__email", flat=True)
        if email not in own and email not in to
    ]
    if not to and not cc:
        return None
    rfc_id = (
        f"<autocrm.{tenant.pk}.{message.pk}.{secrets.token_hex(6)}@{sender_domain(inbox.address)}>"
    )
    outbound = OutboundEmail.objects.create(
        tenant=tenant,
        inbox=inbox,
        kind=OutboundKind.REPLY,
        ticket=ticket,
        message=message,
        rfc_message_id=rfc_id,
        recipients=to or cc[:1],
        cc=cc if to else cc[1:],
        state=DeliveryState.QUEUED,
        next_attempt_at=timezone.now(),
    )
    Message.objects.filter(tenant=tenant, pk=message.pk).update(email_message_id=rfc_id)
    message_delivery_state_set(
        tenant=tenant, actor=actor, message_id=message.pk, state=DeliveryState.QUEUED
    )
    event_append(
        tenant=tenant,
        type=events.EMAIL_QUEUED,
        subject=outbound,
        actor=actor,
        payload={
            "kind": OutboundKind.REPLY,
            "message_id": message.pk,
            "ticket_id": ticket.pk,
            "to": to,
            "cc": cc,
        },
    )
    defer_send(outbound)
    return outbound


def _thread_headers(
    tenant: Tenant, ticket_id: int, *, before: dt.datetime, exclude: int | None
) -> tuple[str, str]:
    """In-Reply-To: the latest email of the ticket before ``before`` (not the message
    ``exclude`` itself); References: its references plus its id (the newest
    MAX_REFERENCES)."""
    earlier = Message.objects.filter(tenant=tenant, ticket_id=ticket_id, created_at__lte=before)
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude)
    parent = earlier.exclude(email_message_id="").order_by("-created_at", "-pk").first()
    if parent is None:
        return "", ""
    refs = [*parent.email_references.split(), parent.email_message_id]
    return parent.email_message_id, " ".join(dict.fromkeys(refs[-MAX_REFERENCES:]))


def _subject(ticket: Ticket, subject: str) -> str:
    """The rendered subject, always carrying the ticket's [#number] token so a reply whose
    client drops the threading headers still finds the ticket."""
    subject = " ".join(subject.split())
    if subject.lower().startswith("re: re:"):  # the ticket's own subject was a reply's
        subject = subject[4:]
    token = f"[#{ticket.number}]"
    return subject if token in subject else f"{subject} {token}"


def _attachments(tenant: Tenant, message: Message) -> Iterable[tuple[str, bytes, str]]:
    for attachment in Attachment.objects.filter(tenant=tenant, message=message).order_by("pk"):
        try:
            with attachment_open(attachment) as handle:
                yield attachment.filename, handle.read(), attachment.content_type
        except FileNotFoundError:
            continue  # not stored (yet): the reply goes without it rather than never


def outbound_build(*, tenant: Tenant, outbound: OutboundEmail) -> EmailMultiAlternatives:
    """The mail of one row: an agent's reply wrapped in the "agent replied" template, or a
    notification rendered from its own template, in the requester's language."""
    message = outbound.message
    ticket = Ticket.objects.select_related("requester", "assignee").get(
        tenant=tenant, pk=outbound.ticket_id
    )
    inbox = outbound.inbox
    if message is not None:
        kind, reply_text, reply_html = AGENT_REPLIED, message.body_text, message.body_html
        before, exclude = message.created_at, message.pk
    else:
        kind, reply_text, reply_html = outbound.kind, "", None
        before, exclude = outbound.created_at, None
    in_reply_to, references = _thread_headers(tenant, ticket.pk, before=before, exclude=exclude)
    local, _, domain = inbox.address.partition("@")
    if kind in _BODIES:
        rendered = _BODIES[kind](tenant, ticket)
    else:
        rendered = template_render(
            template_resolve(tenant=tenant, kind=kind, locale=ticket.requester.locale),
            notification_context(tenant=tenant, ticket=ticket, reply=reply_text),
            reply_html=reply_html,
        )
    text, body_html = rendered.text, rendered.html
    if inbox.signature:
        text = f"{text}\n\n-- \n{inbox.signature}"
        signature_html = "<br>".join(html.escape(line) for line in inbox.signature.splitlines())
        body_html = f'{body_html}<div class="signature">-- <br>{signature_html}</div>'
    headers = {
        "Message-ID": outbound.rfc_message_id,
        # Replies land on this ticket even if the client drops In-Reply-To.
        "Reply-To": f"{local}+{ticket.number}@{domain}",
        "X-AutoCRM-Ticket": str(ticket.number),
    }
    if message is None:
        # RFC 3834: an automatic mail says so, and Exchange is asked not to answer it with
        # an out-of-office, so two robots never answer each other.
        headers["Auto-Submitted"] = (
            "auto-replied" if kind == OutboundKind.TICKET_RECEIVED else "auto-generated"
        )
        headers["X-Auto-Response-Suppress"] = "All"
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
        headers["References"] = references
    mail = EmailMultiAlternatives(
        subject=_subject(ticket, rendered.subject),
        body=text,
        from_email=f'"{inbox.name}" <{inbox.address}>',
        to=list(outbound.recipients),
        cc=list(outbound.cc),
        headers=headers,
    )
    mail.attach_alternative(body_html, "text/html")
    if message is not None:
        for filename, data, content_type in _attachments(tenant, message):
            mail.attach(filename, data, content_type)
    return mail


def _claim(tenant: Tenant, outbound_id: int) -> tuple[OutboundEmail, EmailMultiAlternatives] | None:
    """Take the row (queued or deferred -> sending) and build its mail from the ticket, in
    one tenant transaction that commits before any SMTP traffic."""
    with tenant_context(tenant):
        outbound = (
            # The row alone: a notification's message is the nullable side of a join.
            OutboundEmail.objects.select_for_update(of=("self",))
            .select_related("message", "inbox")
            .filter(tenant=tenant, pk=outbound_id)
            .first()
        )
        if outbound is None or outbound.state not in {
            DeliveryState.QUEUED,
            DeliveryState.DEFERRED,
        }:
            return None
        outbound.state = DeliveryState.SENDING
        outbound.attempts += 1
        outbound.claimed_at = timezone.now()
        outbound.save(update_fields=["state", "attempts", "claimed_at"])
        return outbound, outbound_build(tenant=tenant, outbound=outbound)


def _transient(exc: Exception) -> bool:
    """Whether nothing was delivered and trying later may work: the SMTP server was
    unreachable or answered 4xx (a 5xx is a refusal for good); a provider's API was
    unreachable, rate-limited or failed with 5xx (its 4xx is our mail it refuses)."""
    if isinstance(exc, AnymailRecipientsRefused):
        return False
    if isinstance(exc, AnymailAPIError):  # an email service provider's HTTP API
        if isinstance(exc.__cause__, requests.exceptions.ReadTimeout):
            # The request went out and no answer came: it may have been sent. Like a worker
            # killed mid-send, failed rather than risk a second copy.
            return False
        status = getattr(exc, "status_code", None)
        return status is None or status == 429 or status >= 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code < 500
    return isinstance(
        exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError, socket.timeout)
    )


def outbound_send(*, tenant: Tenant, actor: Actor, outbound_id: int) -> str | None:
    """One send attempt (the job's body). Returns the state it left, None when it did
    nothing (another attempt has the row, or it is done)."""
    claimed = _claim(tenant, outbound_id)
    if claimed is None:
        return None
    outbound, mail = claimed
    error = ""
    try:
        mail.connection = get_connection(fail_silently=False, timeout=SEND_TIMEOUT)
        mail.send(fail_silently=False)
        state = DeliveryState.SENT
    except BadHeaderError as exc:
        state, error = DeliveryState.FAILED, f"invalid header: {exc}"
    except Exception as exc:  # every failure is recorded on the row
        error = f"{type(exc).__name__}: {exc}"[:1000]
        transient = _transient(exc)
        state = (
            DeliveryState.DEFERRED
            if transient and outbound.attempts < MAX_ATTEMPTS
            else DeliveryState.FAILED
        )
    _record(tenant, actor, outbound, state, error)
    return state


def _record(tenant: Tenant, actor: Actor, outbound: OutboundEmail, state: str, error: str) -> None:
    now = timezone.now()
    with tenant_context(tenant):
        outbound.state = state
        outbound.last_error = error
        if state == DeliveryState.SENT:
            outbound.sent_at = now
        outbound.next_attempt_at = (
            now + backoff(outbound.attempts) if state == DeliveryState.DEFERRED else None
        )
        outbound.save(update_fields=["state", "last_error", "sent_at", "next_attempt_at"])
        if outbound.message_id is not None:
            message_delivery_state_set(
                tenant=tenant, actor=actor, message_id=outbound.message_id, state=state
            )
        event_type: str = {
            DeliveryState.SENT: events.EMAIL_SENT,
            DeliveryState.DEFERRED: events.EMAIL_DEFERRED,
            DeliveryState.FAILED: events.EMAIL_FAILED,
            DeliveryState.BOUNCED: events.EMAIL_BOUNCED,
        }[DeliveryState(state)]
        event_append(
            tenant=tenant,
            type=event_type,
            subject=outbound,
            actor=actor,
            payload={
                "kind": outbound.kind,
                "ticket_id": outbound.ticket_id,
                "message_id": outbound.message_id,
                "attempt": outbound.attempts,
                "error": error,
                "next_attempt_at": (
                    outbound.next_attempt_at.isoformat() if outbound.next_attempt_at else None
                ),
            },
        )
        if state == DeliveryState.DEFERRED:
            defer_send(outbound, at=outbound.next_attempt_at)


STALE_CLAIM = dt.timedelta(minutes=10)


def outbound_abandon_stale(*, tenant: Tenant, actor: Actor, outbound_id: int) -> bool:
    """A row left ``sending`` by a worker that died mid-send: failed, never resent (the
    server may have taken it; a second copy is worse than a visible failure)."""
    with tenant_context(tenant):
        outbound = (
            OutboundEmail.objects.select_for_update()
            .filter(
                tenant=tenant,
                pk=outbound_id,
                state=DeliveryState.SENDING,
                claimed_at__lt=timezone.now() - STALE_CLAIM,
            )
            .first()
        )
        if outbound is None:
            return False
    _record(
        tenant,
        actor,
        outbound,
        DeliveryState.FAILED,
        "The worker stopped during the send; it was not retried, so the customer never "
        "gets it twice. Check the mail server's log, or reply again.",
    )
    return True


def outbound_bounced(
    *, tenant: Tenant, actor: Actor, message_ids: list[str], status: str, recipients: list[str]
) -> None:
    """A delivery report (DSN) came back: the reply it names bounced, and each address it
    says failed for good is marked (AddressBounce, with an event naming the contact)."""
    for outbound in OutboundEmail.objects.filter(tenant=tenant, rfc_message_id__in=message_ids):
        _record(tenant, actor, outbound, DeliveryState.BOUNCED, f"bounced: {status}".strip())
    now = timezone.now()
    for address in recipients[:20]:
        mark, created = AddressBounce.objects.get_or_create(
            tenant=tenant,
            email=address,
            defaults={"status": status[:500], "last_bounced_at": now},
        )
        if not created:
            mark.bounces += 1
            mark.status, mark.last_bounced_at = status[:500], now
            mark.save(update_fields=["bounces", "status", "last_bounced_at"])
        contact_id = (
            Contact.objects.filter(tenant=tenant, email=address)
            .values_list("pk", flat=True)
            .first()
        )
        event_append(
            tenant=tenant,
            type=events.ADDRESS_BOUNCED,
            subject=mark,
            actor=actor,
            payload={"email": address, "status": status[:500], "contact_id": contact_id},
        )
