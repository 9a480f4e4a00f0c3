"""A customer's requests: submit one (with the tenant's customer-visible custom fields and
files), reply, mark solved; and the reads of the "my requests" pages.

Everything goes through the tickets services and selectors, whose access rules
(tickets.access) limit customers to their own tickets and the public conversation. What this
module adds is the help centre's stricter rule for files: a short list of document and
image types, checked from the bytes, and every file checked before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm.models import Contact
from autocrm.tickets import access, attachments, selectors, services
from autocrm.tickets.models import Attachment, Channel, CustomField, Message, Status, Ticket
from autocrm.tickets.services.cleaning import custom_field_definitions

MAX_FILES = 5
ALLOWED_TYPES = {
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/pdf": "PDF",
    "text/plain": "text",
    "text/csv": "CSV",
    "text/markdown": "text",
    "message/rfc822": "e-mail",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
    "application/vnd.oasis.opendocument.text": "OpenDocument text",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet",
}
ALLOWED_DESCRIPTION = "images (PNG, JPEG, GIF, WebP), PDF, text, CSV and office documents"
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


def max_file_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def files_check(files: Sequence[UploadedFile]) -> None:
    """Refuse the whole submission if any file is too big, empty or of a type not allowed."""
    if len(files) > MAX_FILES:
        raise ValidationError({"attachments": f"Attach at most {MAX_FILES} files."})
    limit = max_file_bytes()
    for upload in files:
        name = upload.name or "file"
        size = upload.size or 0
        if size > limit:
            raise ValidationError(
                {"attachments": f"“{name}” is {_mb(size)}; files may be at most {_mb(limit)}."}
            )
        if size == 0:
            raise ValidationError({"attachments": f"“{name}” is empty."})
        upload.seek(0)
        head = upload.read(8192)
        upload.seek(0)
        if attachments.sniff_content_type(head, name) not in ALLOWED_TYPES:
            raise ValidationError(
                {"attachments": f"“{name}” is not a file type we accept: {ALLOWED_DESCRIPTION}."}
            )


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _attach(*, tenant: Tenant, actor: Actor, ticket_id: int, files: Sequence[UploadedFile]) -> None:
    for upload in files:
        attachments.attachment_create(
            tenant=tenant,
            actor=actor,
            ticket_id=ticket_id,
            upload=upload,
            filename=upload.name or "attachment",
            size=upload.size or 0,
        )


def customer_fields(tenant: Tenant) -> list[CustomField]:
    """The active custom fields the tenant shows customers, in their order."""
    visible = set(tenant.setting("customer_visible_fields"))
    fields = custom_field_definitions(tenant).values()
    return sorted(
        (f for f in fields if f.active and f.key in visible), key=lambda f: (f.position, f.pk)
    )


def request_submit(
    *,
    tenant: Tenant,
    actor: Actor,
    subject: str,
    body: str,
    custom_fields: dict[str, Any],
    files: Sequence[UploadedFile] = (),
) -> Ticket:
    """A new ticket from the help centre, with its files, all or nothing."""
    files_check(files)
    with transaction.atomic():
        ticket = services.ticket_create(
            tenant=tenant,
            actor=actor,
            subject=subject,
            body=body,
            body_format="text",
            channel=Channel.PORTAL,
            custom_fields=custom_fields,
        )
        _attach(tenant=tenant, actor=actor, ticket_id=ticket.pk, files=files)
    return ticket


def request_reply(
    *, tenant: Tenant, actor: Actor, ticket: Ticket, body: str, files: Sequence[UploadedFile] = ()
) -> Message:
    files_check(files)
    with transaction.atomic():
        message = services.ticket_message_add(
            tenant=tenant, actor=actor, ticket_id=ticket.pk, body=body, body_format="text"
        )
        _attach(tenant=tenant, actor=actor, ticket_id=ticket.pk, files=files)
    return message


def request_mark_solved(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> Ticket:
    return services.ticket_update(
        tenant=tenant, actor=actor, ticket_id=ticket.pk, changes={"status": Status.SOLVED}
    )


# --- reads ------------------------------------------------------------------------------------


def request_list(
    *, tenant: Tenant, actor: Actor, company: bool = False, status: str = "open"
) -> QuerySet[Ticket]:
    """The actor's requests (``company``: everyone's of their company, when the tenant allows
    it; the scope in tickets.access decides), newest activity first."""
    tickets = Ticket.objects.filter(tenant=tenant).filter(
        access.ticket_scope(tenant=tenant, actor=actor)
    )
    if not company:
        tickets = tickets.filter(requester__in=_own_contacts(tenant, actor))
    if status == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif status == "solved":
        tickets = tickets.exclude(status__in=OPEN_STATUSES)
    return tickets.select_related("requester").order_by("-updated_at", "-id")


def _own_contacts(tenant: Tenant, actor: Actor) -> QuerySet[Contact]:
    return Contact.objects.filter(tenant=tenant, user=actor.user).only("pk")


def company_requests_allowed(*, tenant: Tenant, actor: Actor) -> bool:
    return bool(tenant.setting("customers_see_organization_tickets")) and (
        Contact.objects.filter(tenant=tenant, user=actor.user, company__isnull=False).exists()
    )


@dataclass(frozen=True)
class RequestDetail:
    ticket: Ticket
    messages: list[Message]
    attachments: list[Attachment]

    @property
    def is_open(self) -> bool:
        return self.ticket.status in OPEN_STATUSES

    @property
    def can_reply(self) -> bool:
        return self.ticket.status != Status.CLOSED


def request_get(*, tenant: Tenant, actor: Actor, number: int) -> RequestDetail | None:
    """A request with its public conversation and files, if the actor may see it."""
    try:
        ticket = selectors.ticket_get_by_number(tenant=tenant, actor=actor, number=number)
    except Ticket.DoesNotExist:
        return None
    # Staff looking at the customer side see it as the customer would: public only.
    messages = [
        m for m in selectors.message_list(tenant=tenant, actor=actor, ticket=ticket) if m.public
    ]
    files = [
        a
        for a in selectors.attachment_list(tenant=tenant, actor=actor, ticket=ticket)
        if a.message_id is None or a.message_id in {m.pk for m in messages}
    ]
    return RequestDetail(ticket=ticket, messages=messages, attachments=files)


def request_attachment_get(
    *, tenant: Tenant, actor: Actor, attachment_id: int
) -> Attachment | None:
    try:
        attachment = selectors.attachment_get(
            tenant=tenant, actor=actor, attachment_id=attachment_id
        )
    except Attachment.DoesNotExist:
        return None
    if attachment.message is not None and not attachment.message.public:
        return None
    return attachment
