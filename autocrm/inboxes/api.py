"""Inboxes API: settings (staff read, admins write) and the raw MIME import an MTA pipes
mail into. Thin: parse -> selector or service -> schema."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.http.request import RawPostDataException
from ninja import Router, Status

from autocrm.core.api import keyset_page, page_of, require
from autocrm.core.api.pagination import Cursor, Limit, page_response
from autocrm.core.problems import InvalidInput, NotFound, Problem, UnsupportedMediaType
from autocrm.inboxes import selectors, services
from autocrm.inboxes.imap import imap_test
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.parsing import InvalidEmail
from autocrm.inboxes.schemas import (
    ImapFetchOut,
    ImapTestIn,
    ImapTestOut,
    InboundEmailDetailOut,
    InboundEmailOut,
    InboxIn,
    InboxOut,
    InboxPatchIn,
    RawImportOut,
)
from autocrm.inboxes.tasks import imap_fetch_defer

router = Router(tags=["inboxes"])
RAW_MEDIA_TYPES = {"message/rfc822", "application/octet-stream", "text/plain"}


@router.get("", response=page_of(InboxOut), summary="List inboxes", description="Staff only.")
def inboxes_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    who = require(request, "read")
    page = keyset_page(
        selectors.inbox_list(tenant=who.tenant, actor=who.actor),
        ordering=("name", "id"),
        cursor=cursor,
        limit=limit,
    )
    return page_response(page)


@router.post(
    "",
    response={201: InboxOut},
    summary="Create an inbox",
    description="An address (unique in the workspace) with aliases, default team, signature "
    "and inbound settings. Admin only.",
)
def inboxes_create(request: HttpRequest, payload: InboxIn) -> Any:
    who = require(request, "admin")
    inbox = services.inbox_create(tenant=who.tenant, actor=who.actor, **payload.model_dump())
    return Status(201, inbox)


@router.get("/{inbox_id}", response=InboxOut, summary="Get an inbox", description="Staff only.")
def inboxes_get(request: HttpRequest, inbox_id: int) -> Any:
    who = require(request, "read")
    return selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)


@router.patch(
    "/{inbox_id}",
    response=InboxOut,
    summary="Change an inbox",
    description="Only the fields sent change. Admin only.",
)
def inboxes_update(request: HttpRequest, inbox_id: int, payload: InboxPatchIn) -> Any:
    who = require(request, "admin")
    inbox = selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)
    return services.inbox_update(
        tenant=who.tenant,
        actor=who.actor,
        inbox=inbox,
        changes=payload.model_dump(exclude_unset=True),
    )


@router.post(
    "/{inbox_id}/imap/test",
    response=ImapTestOut,
    summary="Test an inbox's IMAP connection",
    description="Logs in, opens the folder and counts it, with the stored settings or the "
    "values sent (unsaved); nothing is imported. A refusal is `ok: false` with the reason. "
    "Admin only.",
)
def inbox_imap_test(request: HttpRequest, inbox_id: int, payload: ImapTestIn) -> Any:
    who = require(request, "admin")
    inbox = selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)
    overrides = {k.removeprefix("imap_"): v for k, v in payload.model_dump().items()}
    return imap_test(inbox=inbox, **overrides)


@router.post(
    "/{inbox_id}/imap/fetch",
    response={202: ImapFetchOut},
    summary="Fetch an inbox's IMAP mail now",
    description="Queues a fetch for the worker (it runs every minute anyway). Admin only.",
)
def inbox_imap_fetch(request: HttpRequest, inbox_id: int) -> Any:
    who = require(request, "admin")
    inbox = selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)
    if not inbox.imap_enabled:
        raise InvalidInput.for_field("imap_enabled", "This inbox does not fetch by IMAP.")
    return Status(202, {"queued": imap_fetch_defer(tenant_id=who.tenant.pk, inbox_id=inbox.pk)})


@router.get(
    "/{inbox_id}/emails",
    response=page_of(InboundEmailOut),
    summary="List an inbox's received mail",
    description="Newest first, ignored mail (auto-replies, bounces, loops) included with "
    "its reason. Staff only.",
)
def inbox_emails_list(
    request: HttpRequest, inbox_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    who = require(request, "read")
    inbox = selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)
    page = keyset_page(
        selectors.inbound_email_list(tenant=who.tenant, actor=who.actor, inbox=inbox),
        ordering=("-received_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    return page_response(page)


@router.get(
    "/{inbox_id}/emails/{inbound_email_id}",
    response=InboundEmailDetailOut,
    summary="Get a received mail",
    description="With its whole original text and HTML (the ticket message holds the new "
    "text only). Staff only.",
)
def inbox_emails_get(request: HttpRequest, inbox_id: int, inbound_email_id: int) -> Any:
    who = require(request, "read")
    inbox = selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)
    return selectors.inbound_email_get(
        tenant=who.tenant, actor=who.actor, inbox=inbox, inbound_email_id=inbound_email_id
    )


@router.get(
    "/{inbox_id}/emails/{inbound_email_id}/raw",
    summary="Download a received mail as .eml",
    description="The message exactly as it arrived, as a download. Staff only.",
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "The raw message.",
                "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def inbox_emails_raw(request: HttpRequest, inbox_id: int, inbound_email_id: int) -> FileResponse:
    who = require(request, "read")
    inbox = selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)
    row = selectors.inbound_email_get(
        tenant=who.tenant, actor=who.actor, inbox=inbox, inbound_email_id=inbound_email_id
    )
    if not row.raw.name or not default_storage.exists(row.raw.name):
        raise NotFound("The original of this mail is not stored.", type_="not-found")
    response = FileResponse(
        default_storage.open(row.raw.name, "rb"),
        as_attachment=True,
        filename=f"email-{row.pk}.eml",
        content_type="message/rfc822",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _raw_body(request: HttpRequest) -> bytes:
    media_type = (request.content_type or "").lower()
    if media_type not in RAW_MEDIA_TYPES:
        raise UnsupportedMediaType(
            f"Send the email as message/rfc822 (got {media_type or 'no Content-Type'})."
        )
    limit = settings.INBOUND_EMAIL_MAX_BYTES
    try:
        # Read the stream ourselves: request.body refuses anything over the JSON limit.
        raw = request.read(limit + 1)
    except RawPostDataException:
        raw = request.body
    if len(raw) > limit:
        raise Problem(
            f"The message is over {limit} bytes, the limit.",
            status=413,
            type_="body-too-large",
        )
    return raw


@router.post(
    "/{inbox_id}/raw",
    response={200: RawImportOut, 201: RawImportOut},
    summary="Import a raw email",
    description="The whole message (RFC 5322, as an MTA delivers it) is the request body, "
    "`Content-Type: message/rfc822`. 201 when it created a ticket or a message (or was "
    "logged as ignored: auto-reply, bounce, loop); 200 with the same ids when this message "
    "was imported before (deduplicated by Message-ID per inbox, else by content). 422 for "
    "mail that cannot be imported (no sender, header injection), 413 over the size limit. "
    "Write access.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
def inbox_raw_import(request: HttpRequest, inbox_id: int) -> Any:
    who = require(request, "write")
    inbox = selectors.inbox_get(tenant=who.tenant, actor=who.actor, inbox_id=inbox_id)
    raw = _raw_body(request)
    try:
        # A savepoint: a refused mail must undo its own writes, not the request's.
        with transaction.atomic():
            result = email_import(tenant=who.tenant, inbox=inbox, raw=raw, via=who.label)
    except InvalidEmail as exc:
        raise InvalidInput.for_field("body", str(exc)) from exc
    except ValidationError as exc:
        raise InvalidInput.for_field("body", "; ".join(exc.messages)) from exc
    return Status(200 if result.duplicate else 201, result)
