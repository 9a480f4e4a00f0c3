"""The one inbound pipeline: raw MIME in, a ticket or a message on one out, exactly once.

Every entry point (the raw upload of ``POST /inboxes/{id}/raw``, and any poller or
provider webhook) calls :func:`email_import`. In one transaction it parses, dedupes by
Message-ID per inbox (a content hash when the mail has none), refuses robots, threads,
creates the ticket or message through the tickets services, stores the attachments and the
raw .eml, records Cc'd contacts as collaborators and appends the events: a failure anywhere
leaves nothing behind, and a second import of the same mail returns the first result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant, as_stored
from autocrm.crm.models import Contact
from autocrm.crm.services import contact_get_or_create
from autocrm.inboxes import detection, events
from autocrm.inboxes.attachments import zip_bomb_reason
from autocrm.inboxes.models import InboundEmail, InboundOutcome, Inbox, OutboundEmail
from autocrm.inboxes.outbound import outbound_bounced
from autocrm.inboxes.parsing import ParsedAttachment, ParsedEmail, parse_email
from autocrm.inboxes.quoting import new_text
from autocrm.inboxes.threads import Thread, thread_find
from autocrm.tickets.attachments import attachments_add
from autocrm.tickets.models import Channel, Message, Ticket
from autocrm.tickets.services import ticket_create, ticket_message_add
from autocrm.tickets.services.email import ticket_collaborator_add

# The job every import acts as (its events say system:email_import).
IMPORT = Actor.system("email_import")
NO_SUBJECT = "(no subject)"
NO_TEXT = "(This email has no text.)"
ATTACHMENT_URL = "/api/v1/attachments/{id}/download"


@dataclass(frozen=True)
class ImportResult:
    ticket_id: int | None
    message_id: int | None
    created_ticket: bool
    duplicate: bool  # this mail was imported before: nothing changed now
    outcome: str
    reason: str


def _dedupe_key(parsed: ParsedEmail, raw: bytes) -> str:
    source = parsed.message_id.encode() if parsed.message_id else raw
    return hashlib.sha256(source).hexdigest()


def _is_ours(tenant: Tenant, message_id: str) -> bool:
    # Every Message-ID we generate starts so (autocrm.inboxes.outbound, .notifications):
    # other mail needs no lookup.
    if not message_id.startswith("<autocrm."):
        return False
    return OutboundEmail.objects.filter(tenant=tenant, rfc_message_id=message_id).exists()


# The first statement of an import claims the mail: the inbound row is inserted at once
# (outcome, ticket and message filled in by the last statement), so a second import of the
# same mail, concurrent or later, meets the unique key before it has done anything and needs
# nothing undone. The same round trip counts the sender's mail to this inbox in the last
# hour (up to the limit only; the claimed row is not in the statement's snapshot) and reads
# the contact whose primary address sent it. Prepared once per connection
# (autocrm.core.sql).
_CLAIM_SQL = """
WITH claim AS (
    INSERT INTO inboxes_inboundemail (
        tenant_id, inbox_id, dedupe_key, rfc_message_id, sender, subject, outcome, reason,
        raw, size, text_full, html_full, received_at, no_auto_reply
    ) VALUES (
        %(tenant)s::bigint, %(inbox)s::bigint, %(key)s::text, %(rfc_message_id)s::text,
        %(sender)s::text, %(subject)s::text, %(outcome)s::text, ''::text, %(raw)s::text,
        %(size)s::integer, %(text_full)s::text, %(html_full)s::text, %(now)s::timestamptz,
        %(no_auto_reply)s::text
    )
    ON CONFLICT (tenant_id, inbox_id, dedupe_key) DO NOTHING
    RETURNING id
)
SELECT
    (SELECT id FROM claim),
    (SELECT count(*) FROM (
        SELECT 1 FROM inboxes_inboundemail
        WHERE tenant_id = %(tenant)s::bigint AND inbox_id = %(inbox)s::bigint
          AND sender = %(sender)s::text AND received_at >= %(since)s::timestamptz
          AND reason <> %(rate_limited)s::text
        LIMIT %(limit)s::integer) AS recent),
    contact.id, contact.company_id, contact.email, contact.name, contact.locale
FROM (SELECT 1) AS one
LEFT JOIN crm_contact AS contact
    ON contact.tenant_id = %(tenant)s::bigint AND contact.email = %(sender)s::text
"""
# The claimed row's outcome: decided, the last statement says what became of the mail.
_FINISH_SQL = """
UPDATE inboxes_inboundemail
SET outcome = %(outcome)s::text, reason = %(reason)s::text, ticket_id = %(ticket)s::bigint,
    message_id = %(message)s::bigint, html_full = coalesce(%(html_full)s::text, html_full)
WHERE tenant_id = %(tenant)s::bigint AND id = %(id)s::bigint
RETURNING id
"""


def _result(row: InboundEmail, *, duplicate: bool) -> ImportResult:
    return ImportResult(
        ticket_id=row.ticket_id,
        message_id=row.message_id,
        created_ticket=row.outcome == InboundOutcome.CREATED,
        duplicate=duplicate,
        outcome=row.outcome,
        reason=row.reason,
    )


def email_import(*, tenant: Tenant, inbox: Inbox, raw: bytes, via: str = "raw") -> ImportResult:
    """Import one raw message into ``inbox``. Raises :class:`InvalidEmail` (parsing) or
    ValidationError for mail that cannot be imported.

    Runs in the caller's transaction (every poller and webhook opens one per mail with
    ``tenant_context``) without a savepoint of its own: a failure dooms that transaction, so
    it leaves nothing behind. A caller with other work in its transaction (the API request)
    wraps the call in ``transaction.atomic()``.

    Two imports of the same mail at once (a poller and a retried pipe) both insert the
    inbound row first; the second insert waits for the first import to commit, then finds
    its twin: the first result is returned, nothing is written twice."""
    if len(raw) > settings.INBOUND_EMAIL_MAX_BYTES:
        raise ValidationError(
            {
                "body": f"The message is {len(raw)} bytes; the limit is "
                f"{settings.INBOUND_EMAIL_MAX_BYTES}."
            }
        )
    parsed = parse_email(raw)
    key = _dedupe_key(parsed, raw)
    with transaction.atomic(savepoint=False):
        return _import(tenant, inbox, raw, parsed, key, via)


def _import(
    tenant: Tenant, inbox: Inbox, raw: bytes, parsed: ParsedEmail, key: str, via: str
) -> ImportResult:
    row, recent, known = _claim(tenant, inbox, raw, parsed, key)
    if row.pk is None:  # imported before (or by a concurrent import that committed first)
        return _result(
            InboundEmail.objects.get(tenant=tenant, dedupe_key=key, inbox=inbox), duplicate=True
        )
    limit = settings.INBOUND_EMAIL_PER_SENDER_PER_HOUR
    reason = _refusal(tenant, inbox, parsed, over_limit=recent >= limit)
    if reason is not None:
        return _ignore(tenant, row, parsed, reason, via)
    thread = thread_find(tenant=tenant, inbox=inbox, parsed=parsed)
    contact = _sender_contact(tenant, inbox, parsed, known)
    if contact is None:
        return _ignore(tenant, row, parsed, "unknown_sender", via)
    ticket, message, created = _write(tenant, inbox, parsed, key, thread, contact)
    html = _attach(tenant, ticket, message, parsed.attachments, row.html_full)
    _collaborators(tenant, inbox, ticket, parsed)
    row.ticket, row.message = ticket, message
    outcome = InboundOutcome.CREATED if created else InboundOutcome.THREADED
    _finish(row, outcome, thread.rule, html=html)
    event_append(
        tenant=tenant,
        type=events.EMAIL_RECEIVED,
        subject=row,
        actor=IMPORT,
        payload={
            "inbox_id": inbox.pk,
            "ticket_id": ticket.pk,
            "number": ticket.number,
            "message_id": message.pk,
            "created_ticket": created,
            "rule": thread.rule,
            "from": parsed.sender_email,
            "rfc_message_id": parsed.message_id,
            "via": via,
        },
    )
    return _result(row, duplicate=False)


def _claim(
    tenant: Tenant, inbox: Inbox, raw: bytes, parsed: ParsedEmail, key: str
) -> tuple[InboundEmail, int, Contact | None]:
    """Insert the inbound row (``row.pk`` stays None when the mail is here already); also
    how much mail its sender sent this inbox in the last hour, and the sender's contact
    when it is a contact's primary address with its language known (else None: the
    contact service looks further)."""
    now = timezone.now()
    row = InboundEmail(
        tenant=tenant,
        inbox=inbox,
        dedupe_key=key,
        rfc_message_id=parsed.message_id[:998],
        sender=parsed.sender_email[:254],
        subject=parsed.subject[:500],
        outcome=InboundOutcome.IGNORED,
        size=len(raw),
        text_full=parsed.text,
        html_full=parsed.html,
        received_at=now,
        no_auto_reply=detection.no_auto_reply_reason(parsed),
    )
    row.raw.name = f"email/{now:%Y/%m}/{tenant.pk}/{key[:16]}{secrets.token_hex(4)}.eml"
    found = sql.fetch_one(
        _CLAIM_SQL,
        {
            "tenant": tenant.pk,
            "inbox": inbox.pk,
            "key": key,
            "rfc_message_id": row.rfc_message_id,
            "sender": row.sender,
            "subject": row.subject,
            "outcome": row.outcome,
            "raw": row.raw.name,
            "size": row.size,
            "text_full": row.text_full,
            "html_full": row.html_full,
            "now": now,
            "no_auto_reply": row.no_auto_reply,
            "since": now - dt.timedelta(hours=1),
            "rate_limited": detection.RATE_LIMITED,
            "limit": settings.INBOUND_EMAIL_PER_SENDER_PER_HOUR,
        },
    )
    assert found is not None
    row_id, recent, contact_id, company_id, email, name, locale = found
    if row_id is None:
        return row, recent, None
    row.pk = row_id
    row._state.adding = False
    # The .eml is written when the row commits (a rolled-back import leaves no file).
    transaction.on_commit(partial(default_storage.save, row.raw.name, ContentFile(raw)))
    contact = None
    if contact_id is not None and (locale or not parsed.language):
        contact = as_stored(
            Contact(
                id=contact_id,
                tenant=tenant,
                company_id=company_id,
                email=email,
                name=name,
                locale=locale,
            )
        )
    return row, recent, contact


def _finish(row: InboundEmail, outcome: str, reason: str, *, html: str | None = None) -> None:
    """What became of the claimed mail (``html``: its HTML when attachments changed it)."""
    row.outcome, row.reason = outcome, reason
    sql.fetch_one(
        _FINISH_SQL,
        {
            "tenant": row.tenant_id,
            "id": row.pk,
            "outcome": outcome,
            "reason": reason,
            "ticket": row.ticket_id,
            "message": row.message_id,
            "html_full": None if html is None or html == row.html_full else html,
        },
    )
    if html is not None:
        row.html_full = html


def _refusal(tenant: Tenant, inbox: Inbox, parsed: ParsedEmail, *, over_limit: bool) -> str | None:
    """Why this mail touches no ticket, or None. ``over_limit``: its sender sent more mail
    this hour than a person writes (a robot that sets no auto-reply header, answering our
    replies in a loop); its mail is still stored."""
    if not inbox.inbound_enabled:
        return "inbound_disabled"
    reason = detection.ignore_reason(
        parsed,
        own_addresses=inbox.addresses,
        is_ours=lambda message_id: _is_ours(tenant, message_id),
    )
    if reason is None and over_limit:
        reason = detection.RATE_LIMITED
    return reason


def _ignore(
    tenant: Tenant, row: InboundEmail, parsed: ParsedEmail, reason: str, via: str
) -> ImportResult:
    _finish(row, InboundOutcome.IGNORED, reason)
    assert parsed.message is not None
    if reason == detection.BOUNCE:
        outbound_bounced(
            tenant=tenant,
            actor=IMPORT,
            message_ids=detection.bounced_message_ids(parsed.message),
            status=detection.bounce_status(parsed.message),
            recipients=detection.bounced_recipients(parsed.message),
        )
    event_append(
        tenant=tenant,
        type=events.EMAIL_IGNORED,
        subject=row,
        actor=IMPORT,
        payload={
            "inbox_id": row.inbox_id,
            "reason": reason,
            "from": parsed.sender_email,
            "subject": parsed.subject[:200],
            "via": via,
        },
    )
    return _result(row, duplicate=False)


def _sender_contact(
    tenant: Tenant, inbox: Inbox, parsed: ParsedEmail, known: Contact | None
) -> Contact | None:
    if known is not None:  # read with the claim: nothing to create or learn
        return known
    if not inbox.create_contacts:
        return Contact.objects.filter(tenant=tenant, email=parsed.sender_email).first()
    try:
        contact, _ = contact_get_or_create(
            tenant=tenant,
            actor=IMPORT,
            email=parsed.sender_email,
            name=parsed.sender_name,
            locale=parsed.language,
        )
    except ValidationError as exc:
        raise ValidationError({"body": "The sender address is not valid."}) from exc
    return contact


def _write(
    tenant: Tenant,
    inbox: Inbox,
    parsed: ParsedEmail,
    key: str,
    thread: Thread,
    contact: Contact,
) -> tuple[Ticket, Message, bool]:
    body = new_text(parsed.text) or NO_TEXT
    channel_message_id = f"email:{inbox.pk}:{key}"
    if thread.ticket is not None:
        message = ticket_message_add(
            tenant=tenant,
            actor=IMPORT,
            ticket_id=thread.ticket.pk,
            body=body,
            body_format="text",
            channel=Channel.EMAIL,
            channel_message_id=channel_message_id,
            channel_message_new=True,  # the claim (the inbound row's unique key) made sure
            as_requester=True,
            author_contact=contact,
            email_message_id=parsed.message_id,
            email_in_reply_to=" ".join(parsed.in_reply_to),
            email_references=" ".join(parsed.references),
        )
        return thread.ticket, message, False
    metadata: dict[str, object] = {"inbox_id": inbox.pk}
    if thread.follow_up_of is not None:
        metadata["follow_up_of"] = thread.follow_up_of.number
    ticket = ticket_create(
        tenant=tenant,
        actor=IMPORT,
        subject=(parsed.subject or NO_SUBJECT)[:500],
        body=body,
        body_format="text",
        requester_email=contact.email,
        requester_name=contact.name,
        channel=Channel.EMAIL,
        team_id=inbox.default_team_id,
        metadata=metadata,
        channel_message_id=channel_message_id,
        email_message_id=parsed.message_id,
        email_in_reply_to=" ".join(parsed.in_reply_to),
        email_references=" ".join(parsed.references),
    )
    assert ticket.first_message_id is not None
    # The pipeline goes on with the message's id only (attachments, the inbound row).
    message = as_stored(Message(id=ticket.first_message_id, tenant=tenant, ticket=ticket))
    return ticket, message, True


def _attach(
    tenant: Tenant,
    ticket: Ticket,
    message: Message,
    attachments: list[ParsedAttachment],
    html: str,
) -> str:
    """Store the attachments on the message; inline images' ``cid:`` links in the HTML
    point to the stored files. One over the size limit, or an archive that looks like a zip
    bomb, is dropped with an internal note saying so (the raw .eml still holds it)."""
    dropped: list[str] = []
    kept: list[ParsedAttachment] = []
    for item in attachments:
        if len(item.data) > settings.ATTACHMENT_MAX_BYTES:
            dropped.append(
                f"{item.filename} ({len(item.data)} bytes) over the size limit of "
                f"{settings.ATTACHMENT_MAX_BYTES} bytes"
            )
            continue
        bomb = zip_bomb_reason(item.data)
        if bomb is not None:
            dropped.append(f"{item.filename} (looks like a zip bomb: {bomb})")
            continue
        kept.append(item)
    stored = attachments_add(
        tenant=tenant,
        actor=IMPORT,
        ticket=ticket,
        message=message,
        files=[(item.filename, item.data) for item in kept],
    )
    for item, row in zip(kept, stored, strict=True):
        if item.content_id and html:
            html = re.sub(
                r"cid:" + re.escape(item.content_id),
                ATTACHMENT_URL.format(id=row.pk),
                html,
                flags=re.IGNORECASE,
            )
    if dropped:
        ticket_message_add(
            tenant=tenant,
            actor=IMPORT,
            ticket_id=ticket.pk,
            public=False,
            body_format="text",
            body="Attachments not stored: " + "; ".join(dropped) + ". The original email "
            "keeps them.",
            channel=Channel.INTERNAL,
        )
    return html


def _collaborators(tenant: Tenant, inbox: Inbox, ticket: Ticket, parsed: ParsedEmail) -> None:
    """Cc'd people (and other To recipients) join the ticket: they receive its replies."""
    own = inbox.addresses
    for name, address in parsed.to + parsed.cc:
        local, _, domain = address.partition("@")
        if address in own or f"{local.partition('+')[0]}@{domain}" in own:
            continue
        if address == parsed.sender_email:
            continue
        try:
            if inbox.create_contacts:
                contact, _ = contact_get_or_create(
                    tenant=tenant, actor=IMPORT, email=address, name=name
                )
            else:
                found = Contact.objects.filter(tenant=tenant, email=address).first()
                if found is None:
                    continue
                contact = found
        except ValidationError:
            continue  # an address the contact rules refuse is not worth losing the mail
        ticket_collaborator_add(tenant=tenant, actor=IMPORT, ticket=ticket, contact=contact)
