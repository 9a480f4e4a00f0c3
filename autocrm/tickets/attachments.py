"""Attachments: size-limited, content type sniffed from the bytes, checksummed, stored with
Django's storage (local disk by default, S3-compatible by setting)."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import secrets
import tempfile
from collections.abc import Sequence
from functools import partial
from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.storage import Storage
from django.db import transaction

from autocrm.core.actors import Actor
from autocrm.core.events import EventDraft, event_append, event_append_many
from autocrm.core.models import Tenant
from autocrm.tickets import access, events
from autocrm.tickets.models import Attachment, Message, Ticket
from autocrm.tickets.services.changes import ticket_ensure_open, ticket_locked

TEXT_TYPES = {
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".log": "text/plain",
    ".json": "application/json",
    ".md": "text/markdown",
    ".eml": "message/rfc822",
    ".ics": "text/calendar",
}


def sniff_content_type(head: bytes, filename: str) -> str:
    """From the file's first bytes; plain-text formats by extension only when the bytes are
    text. Anything else is application/octet-stream (never trust the client's claim)."""
    kind = filetype.guess(head)
    if kind is not None:
        return str(kind.mime)
    ext = os.path.splitext(filename)[1].lower()
    if ext in TEXT_TYPES:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError:
            # The head may cut a multi-byte character: accept if only the tail is broken.
            try:
                head[:-3].decode("utf-8")
            except UnicodeDecodeError:
                return "application/octet-stream"
        return TEXT_TYPES[ext]
    return "application/octet-stream"


def _safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).strip().replace("\x00", "")
    return (base or "attachment")[:255]


@transaction.atomic
def attachment_create(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    upload: IO[bytes],
    filename: str,
    size: int,
    message_id: int | None = None,
    pending: bool = False,
) -> Attachment:
    """``pending``: a file for a message not sent yet (see ``attachments_claim``); staff see
    it, customers don't until a public message claims it."""
    access.require_write(actor)
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise ValidationError({"file": f"The file is {size} bytes; the limit is {limit}."})
    if size == 0:
        raise ValidationError({"file": "The file is empty."})
    ticket = ticket_locked(tenant=tenant, actor=actor, ticket_id=ticket_id)
    ticket_ensure_open(ticket)
    if actor.role == "customer" and message_id is not None:
        raise ValidationError({"message_id": "Customers attach files to the ticket."})
    message = None
    if message_id is not None:
        message = Message.objects.filter(tenant=tenant, ticket=ticket, pk=message_id).first()
        if message is None:
            raise ValidationError({"message_id": "No such message on this ticket."})
    if actor.role == "light_agent" and (
        message is None or message.public or message.author_user_id != actor.user_id
    ):
        # Light agents add internal notes only; a file on the ticket or on a public reply
        # would reach the customer.
        raise PermissionDenied("Light agents can attach files to their own internal notes only.")
    # One pass over the upload: the checksum, and a private copy the commit stores (the
    # upload itself is gone by then: Django closes it when the request ends).
    digest = hashlib.sha256()
    copy = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    upload.seek(0)
    head = upload.read(8192)
    for chunk in itertools.chain([head], iter(lambda: upload.read(1024 * 1024), b"")):
        digest.update(chunk)
        copy.write(chunk)
    attachment = _row(
        tenant, actor, ticket, message, filename, head, size, digest.hexdigest(), pending
    )
    attachment.save()
    event_append(
        tenant=tenant,
        type=events.ATTACHMENT_CREATED,
        subject=attachment,
        actor=actor,
        payload=_created_payload(ticket, attachment),
    )
    # Stored once the row is committed: a transaction that rolls back later (the request's,
    # or a caller's) leaves no file behind, since its on-commit callbacks are dropped (and
    # the copy with them).
    transaction.on_commit(partial(_store, attachment.file.storage, str(attachment.file.name), copy))
    return attachment


def attachments_add(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket: Ticket,
    message: Message,
    files: Sequence[tuple[str, bytes]],
) -> list[Attachment]:
    """Files (name, bytes) that arrived with ``message``, e.g. an inbound email's: what
    ``attachment_create`` does per file, with one insert and one event append for them
    all. The caller holds ``ticket`` (created or locked in its transaction, which this
    joins without a savepoint of its own: everything is checked before the first write)."""
    access.require_write(actor)
    ticket_ensure_open(ticket)
    limit = settings.ATTACHMENT_MAX_BYTES
    for filename, data in files:
        if not data or len(data) > limit:
            raise ValidationError({"file": f"{filename}: 1 to {limit} bytes, not {len(data)}."})
    rows = [
        _row(
            tenant,
            actor,
            ticket,
            message,
            filename,
            data[:8192],
            len(data),
            hashlib.sha256(data).hexdigest(),
            pending=False,
        )
        for filename, data in files
    ]
    if not rows:
        return []
    with transaction.atomic(savepoint=False):
        Attachment.objects.bulk_create(rows)
        drafts = [
            EventDraft(
                type=events.ATTACHMENT_CREATED, subject=row, payload=_created_payload(ticket, row)
            )
            for row in rows
        ]
        event_append_many(tenant=tenant, actor=actor, drafts=drafts)
        for row, (_, data) in zip(rows, files, strict=True):
            store = partial(_store, row.file.storage, str(row.file.name), io.BytesIO(data))
            transaction.on_commit(store)
    return rows


def _row(
    tenant: Tenant,
    actor: Actor,
    ticket: Ticket,
    message: Message | None,
    filename: str,
    head: bytes,
    size: int,
    sha256: str,
    pending: bool,
) -> Attachment:
    """The unsaved row of one file (``head``: its first bytes, for the content type)."""
    name = _safe_filename(filename)
    row = Attachment(
        tenant=tenant,
        ticket=ticket,
        message=message,
        filename=name,
        content_type=sniff_content_type(head, name),
        size=size,
        sha256=sha256,
        uploaded_by=actor.user,
        pending=pending and message is None,
    )
    row.file.name = _storage_name(row, sha256)
    return row


def _created_payload(ticket: Ticket, row: Attachment) -> dict[str, object]:
    return {
        "ticket_id": ticket.pk,
        "number": ticket.number,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
    }


# Uploads up to this size are copied in memory until the commit stores them; larger ones
# in a temporary file.
SPOOL_IN_MEMORY_BYTES = 1024 * 1024


def _storage_name(attachment: Attachment, sha256: str) -> str:
    """``attachments/<year>/<month>/<tenant>/<checksum+random>-<filename>``: unique, so the
    storage keeps the name the row holds, and within the column's length."""
    field = attachment.file.field
    directory = os.path.dirname(field.generate_filename(attachment, "f"))
    key = f"{directory}/{attachment.tenant_id}/{sha256[:12]}{secrets.token_hex(4)}-"
    stem, ext = os.path.splitext(attachment.file.storage.get_valid_name(attachment.filename))
    ext = ext if len(ext) <= 10 else ""
    room = (field.max_length or 100) - len(key) - len(ext)
    return key + (stem[:room] or "file") + ext


def _store(storage: Storage, name: str, copy: IO[bytes]) -> None:
    try:
        copy.seek(0)
        stored = storage.save(name, File(copy), max_length=len(name))
    finally:
        copy.close()
    if stored != name:  # the random part makes a clash all but impossible; never serve another
        storage.delete(stored)
        raise RuntimeError(f"Attachment storage renamed {name} to {stored}.")


def attachment_open(attachment: Attachment) -> IO[bytes]:
    """The stored file; FileNotFoundError when it is not stored (yet, or any more)."""
    storage = attachment.file.storage
    if not attachment.file.name or not storage.exists(attachment.file.name):
        raise FileNotFoundError(attachment.file.name)
    return storage.open(attachment.file.name, "rb")


def attachments_claim(
    *, tenant: Tenant, actor: Actor, ticket_id: int, message_id: int, attachment_ids: set[int]
) -> int:
    """Attach files uploaded ahead of a message (images pasted into the composer) to that
    message, so they share its visibility (an internal note's images stay internal). Only
    the actor's own files of this ticket that no message holds yet; returns how many."""
    access.require_write(actor)
    if not attachment_ids or actor.user_id is None:
        return 0
    return Attachment.objects.filter(
        tenant=tenant,
        ticket_id=ticket_id,
        message__isnull=True,
        uploaded_by_id=actor.user_id,
        pk__in=attachment_ids,
    ).update(message_id=message_id, pending=False)
