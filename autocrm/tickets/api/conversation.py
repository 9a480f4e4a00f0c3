"""A ticket's conversation: its audit timeline, messages and attachments."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from autocrm.core.api import Cursor, Limit, keyset_response, page_of, problems, tenant_and_actor
from autocrm.core.downloads import sandboxed_file_response
from autocrm.core.problems import NotFound
from autocrm.tickets import attachments, selectors, services
from autocrm.tickets.api.common import domain_errors
from autocrm.tickets.schemas import AttachmentOut, EventOut, MessageIn, MessageOut

router = Router(tags=["tickets"])

UploadFile = File(..., description="The file.")
MessageIdForm = Form(None, description="Attach to this message of the ticket.")


@router.get(
    "/tickets/{ticket_id}/events",
    response=page_of(EventOut),
    summary="Audit timeline of a ticket",
    description="Who changed what from → to, and when; newest first.",
)
def tickets_events(
    request: HttpRequest, ticket_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read", customers=True)
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    return keyset_response(
        selectors.ticket_timeline(tenant=tenant, actor=actor, ticket=ticket),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )


# --- messages and attachments ---------------------------------------------------------------


@router.get(
    "/tickets/{ticket_id}/messages",
    response=page_of(MessageOut),
    summary="The conversation",
    description="Oldest first; public replies and internal notes (notes only for staff).",
)
def messages_list(
    request: HttpRequest, ticket_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read", customers=True)
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    return keyset_response(
        selectors.message_list(tenant=tenant, actor=actor, ticket=ticket),
        ordering=("created_at", "id"),
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut},
    summary="Reply or add an internal note",
    description="`public: false` adds an internal note (light agents: notes only). "
    "`as_requester` records the requester's own reply, which re-opens a solved ticket: "
    "for API keys with write scope (integrations), not for signed-in staff (403).",
    openapi_extra=problems(409),
)
def messages_create(request: HttpRequest, ticket_id: int, payload: MessageIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write", customers=True)
    with domain_errors():
        message = services.ticket_message_add(
            tenant=tenant, actor=actor, ticket_id=ticket_id, **payload.model_dump()
        )
    return Status(201, message)


@router.get(
    "/tickets/{ticket_id}/attachments",
    response=page_of(AttachmentOut),
    summary="A ticket's attachments",
)
def attachments_list(
    request: HttpRequest, ticket_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read", customers=True)
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    return keyset_response(
        selectors.attachment_list(tenant=tenant, actor=actor, ticket=ticket),
        ordering=("created_at", "id"),
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "/tickets/{ticket_id}/attachments",
    response={201: AttachmentOut},
    summary="Upload an attachment",
    description="multipart/form-data with `file` (and optionally `message_id`). The "
    "content type is sniffed from the bytes; the size limit is "
    "ATTACHMENT_MAX_BYTES.",
    openapi_extra=problems(409),
)
def attachments_create(
    request: HttpRequest,
    ticket_id: int,
    file: UploadedFile = UploadFile,
    message_id: int | None = MessageIdForm,
) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write", customers=True)
    with domain_errors():
        attachment = attachments.attachment_create(
            tenant=tenant,
            actor=actor,
            ticket_id=ticket_id,
            upload=file,
            filename=file.name or "attachment",
            size=file.size or 0,
            message_id=message_id,
        )
    return Status(201, attachment)


@router.get(
    "/attachments/{attachment_id}/download",
    summary="Download an attachment",
    description="Always as a download (`Content-Disposition: attachment`), never rendered inline.",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, with its sniffed content type.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def attachments_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    tenant, actor = tenant_and_actor(request, "read", customers=True)
    attachment = selectors.attachment_get(tenant=tenant, actor=actor, attachment_id=attachment_id)
    try:
        stored = attachments.attachment_open(attachment)
    except FileNotFoundError as exc:
        raise NotFound("The file of this attachment is not stored.", type_="not-found") from exc
    return sandboxed_file_response(
        stored,
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


# --- configuration: tags, custom fields, views, macros --------------------------------------
