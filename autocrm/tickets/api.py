"""Tickets API: tickets, messages, attachments, audit, bulk/merge/split, tags, custom fields,
views and macros. Thin: parse -> selector/service -> schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile

from autocrm.core.actors import Actor, actor_for_caller
from autocrm.core.api import keyset_page, page_of, problems, require
from autocrm.core.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from autocrm.core.models import Tenant
from autocrm.core.problems import Conflict, InvalidInput, NotFound, PreconditionFailed
from autocrm.tickets import attachments, config_services, selectors, services
from autocrm.tickets.errors import TicketClosedError, VersionConflictError
from autocrm.tickets.models import CustomField, Macro, Tag, TicketView
from autocrm.tickets.query import QuerySyntaxError, TicketFilters, parse_query
from autocrm.tickets.schemas import (
    AttachmentOut,
    BulkUpdateIn,
    BulkUpdateOut,
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldUpdateIn,
    EventOut,
    MacroIn,
    MacroOut,
    MacroUpdateIn,
    MergeIn,
    MessageIn,
    MessageOut,
    SplitIn,
    TagIn,
    TagOut,
    TagsChangeIn,
    TicketCreateIn,
    TicketListItemOut,
    TicketOut,
    TicketUpdateIn,
    ViewIn,
    ViewOut,
    ViewUpdateIn,
)

router = Router(tags=["tickets"])

Cursor = Query(None, description="`next_cursor` of the previous page.")
UploadFile = File(..., description="The file.")
MessageIdForm = Form(None, description="Attach to this message of the ticket.")
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")


def _who(request: HttpRequest, level: str) -> tuple[Tenant, Actor]:
    caller = require(request, level)  # type: ignore[arg-type]
    return caller.tenant, actor_for_caller(caller)


@contextmanager
def _domain_errors() -> Iterator[None]:
    try:
        yield
    except TicketClosedError as exc:
        raise Conflict(str(exc), type_="ticket-closed") from exc
    except VersionConflictError as exc:
        raise PreconditionFailed(str(exc), current_etag=etag(exc.current_version)) from exc


def etag(version: int) -> str:
    return f'"{version}"'


def _if_match(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    value = header.removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(
            "If-Match must be an ETag from GET /tickets/{id}.", type_="precondition-failed"
        )
    return int(value)


# --- tickets --------------------------------------------------------------------------------

LIST_PARAMS = (
    "status",
    "priority",
    "assignee",
    "team",
    "tag",
    "type",
    "channel",
    "requester",
    "sort",
)


def _filters(q: str, params: dict[str, str | None]) -> TicketFilters:
    pieces = []
    for name, value in [("q", q), *params.items()]:
        if not value:
            continue
        piece = value if name == "q" else f"{name}:{value}"
        try:
            parse_query(piece)
        except QuerySyntaxError as exc:
            raise InvalidInput.for_field(f"query.{name}", str(exc)) from exc
        pieces.append(piece if name == "q" else f'{name}:"{value}"' if " " in value else piece)
    return parse_query(" ".join(pieces))


@router.get(
    "/tickets",
    response=page_of(TicketListItemOut),
    summary="List and search tickets",
    description="Filter with parameters and/or `q` in the agent search syntax, e.g. "
    '`status:open priority:high tag:billing "exact phrase" assignee:me`. '
    "Free text searches subjects and messages (typo-tolerant on subjects); "
    "results then carry `highlight`. Keyset-paginated.",
)
def tickets_list(
    request: HttpRequest,
    q: str = "",
    status: str | None = None,
    priority: str | None = None,
    assignee: str | None = None,
    team: str | None = None,
    tag: str | None = None,
    type: str | None = None,
    channel: str | None = None,
    requester: str | None = None,
    sort: str | None = None,
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    tenant, actor = _who(request, "read")
    values = locals()
    filters = _filters(q, {name: values[name] for name in LIST_PARAMS})
    try:
        page = selectors.ticket_list(
            tenant=tenant, actor=actor, filters=filters, cursor=cursor, limit=limit
        )
    except selectors.CursorError as exc:
        raise InvalidInput.for_field("query.cursor", str(exc)) from exc
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/tickets",
    response={201: TicketOut},
    summary="Create a ticket",
    description="The body becomes the requester's first message. The requester "
    "contact is found by email or created.",
)
def tickets_create(
    request: HttpRequest, response: HttpResponse, payload: TicketCreateIn
) -> Status[Any]:
    tenant, actor = _who(request, "write")
    data = payload.model_dump()
    ticket = services.ticket_create(tenant=tenant, actor=actor, **data)
    response["ETag"] = etag(ticket.version)
    response["Location"] = f"/api/v1/tickets/{ticket.pk}"
    # The service's ticket is complete (requester attached; assignee and team load on
    # access only when set), so no second read of the row just written.
    return Status(201, ticket)


# Declared before /tickets/{ticket_id}: the router matches paths in order.
@router.post(
    "/tickets/bulk",
    response=BulkUpdateOut,
    summary="Update many tickets",
    description="The same changes to up to 1000 tickets, all or nothing.",
)
def tickets_bulk(request: HttpRequest, payload: BulkUpdateIn) -> dict[str, Any]:
    tenant, actor = _who(request, "write")
    changes = payload.changes.model_dump(exclude_unset=True)
    tickets = services.tickets_bulk_update(
        tenant=tenant, actor=actor, ticket_ids=payload.ticket_ids, changes=changes
    )
    return {"updated": len(tickets), "items": tickets}


@router.get(
    "/tickets/{ticket_id}",
    response=TicketOut,
    summary="Get a ticket",
    description="The `ETag` header carries the version to send as `If-Match`.",
)
def tickets_get(request: HttpRequest, response: HttpResponse, ticket_id: int) -> Any:
    tenant, actor = _who(request, "read")
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    response["ETag"] = etag(ticket.version)
    return ticket


@router.patch(
    "/tickets/{ticket_id}",
    response=TicketOut,
    summary="Update a ticket",
    description="Send only the fields to change. With `If-Match: <ETag>` the update "
    "is refused with 412 if the ticket changed meanwhile. Closed tickets: 409.",
    openapi_extra=problems(409, 412),
)
def tickets_update(
    request: HttpRequest, response: HttpResponse, ticket_id: int, payload: TicketUpdateIn
) -> Any:
    tenant, actor = _who(request, "write")
    changes = payload.model_dump(exclude_unset=True)
    with _domain_errors():
        services.ticket_update(
            tenant=tenant,
            actor=actor,
            ticket_id=ticket_id,
            changes=changes,
            if_version=_if_match(request),
        )
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    response["ETag"] = etag(ticket.version)
    return ticket


@router.delete(
    "/tickets/{ticket_id}",
    response={204: None},
    summary="Delete a ticket",
    description="With its messages and files. Admin only; the audit log keeps it.",
)
def tickets_delete(request: HttpRequest, ticket_id: int) -> Status[None]:
    tenant, actor = _who(request, "admin")
    services.ticket_delete(tenant=tenant, actor=actor, ticket_id=ticket_id)
    return Status(204, None)


@router.post(
    "/tickets/{ticket_id}/tags",
    response=TicketOut,
    summary="Add or remove tags",
    openapi_extra=problems(409),
)
def tickets_tags(request: HttpRequest, ticket_id: int, payload: TagsChangeIn) -> Any:
    tenant, actor = _who(request, "write")
    with _domain_errors():
        services.ticket_tags_change(
            tenant=tenant, actor=actor, ticket_id=ticket_id, add=payload.add, remove=payload.remove
        )
    return selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)


@router.post(
    "/tickets/{ticket_id}/merge",
    response=TicketOut,
    summary="Merge into another",
    description="Moves this ticket's conversation into `target_id` and closes this "
    "one. Returns the target.",
    openapi_extra=problems(409),
)
def tickets_merge(request: HttpRequest, ticket_id: int, payload: MergeIn) -> Any:
    tenant, actor = _who(request, "write")
    with _domain_errors():
        target = services.ticket_merge(
            tenant=tenant, actor=actor, source_id=ticket_id, target_id=payload.target_id
        )
    return selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=target.pk)


@router.post(
    "/tickets/{ticket_id}/split",
    response={201: TicketOut},
    summary="Split messages into a new ticket",
    openapi_extra=problems(409),
)
def tickets_split(request: HttpRequest, ticket_id: int, payload: SplitIn) -> Status[Any]:
    tenant, actor = _who(request, "write")
    with _domain_errors():
        new = services.ticket_split(
            tenant=tenant,
            actor=actor,
            ticket_id=ticket_id,
            message_ids=payload.message_ids,
            subject=payload.subject,
        )
    return Status(201, selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=new.pk))


@router.post(
    "/tickets/{ticket_id}/macros/{macro_id}",
    response=TicketOut,
    summary="Apply a macro",
    openapi_extra=problems(409),
)
def tickets_apply_macro(request: HttpRequest, ticket_id: int, macro_id: int) -> Any:
    tenant, actor = _who(request, "write")
    with _domain_errors():
        services.macro_apply(tenant=tenant, actor=actor, ticket_id=ticket_id, macro_id=macro_id)
    return selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)


@router.get(
    "/tickets/{ticket_id}/events",
    response=page_of(EventOut),
    summary="Audit timeline of a ticket",
    description="Who changed what from → to, and when; newest first.",
)
def tickets_events(
    request: HttpRequest, ticket_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = _who(request, "read")
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    page = keyset_page(
        selectors.ticket_timeline(tenant=tenant, actor=actor, ticket=ticket),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


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
    tenant, actor = _who(request, "read")
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    page = keyset_page(
        selectors.message_list(tenant=tenant, actor=actor, ticket=ticket),
        ordering=("created_at", "id"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post(
    "/tickets/{ticket_id}/messages",
    response={201: MessageOut},
    summary="Reply or add an internal note",
    description="`public: false` adds an internal note. A requester's reply "
    "(`as_requester`) re-opens a solved ticket.",
    openapi_extra=problems(409),
)
def messages_create(request: HttpRequest, ticket_id: int, payload: MessageIn) -> Status[Any]:
    tenant, actor = _who(request, "write")
    with _domain_errors():
        message = services.ticket_message_add(
            tenant=tenant, actor=actor, ticket_id=ticket_id, **payload.model_dump()
        )
    return Status(201, message)


@router.get(
    "/tickets/{ticket_id}/attachments",
    response=list[AttachmentOut],
    summary="A ticket's attachments",
)
def attachments_list(request: HttpRequest, ticket_id: int) -> Any:
    tenant, actor = _who(request, "read")
    ticket = selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
    return selectors.attachment_list(tenant=tenant, actor=actor, ticket=ticket)


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
    tenant, actor = _who(request, "write")
    with _domain_errors():
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
    tenant, actor = _who(request, "read")
    attachment = attachments.attachment_get(tenant=tenant, actor=actor, attachment_id=attachment_id)
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- configuration: tags, custom fields, views, macros --------------------------------------


def _get_or_404(finder: Callable[[], Any], what: str) -> Any:
    found = finder()
    if found is None:
        raise NotFound(f"No {what} with this id.", type_="not-found")
    return found


@router.get("/tags", response=list[TagOut], tags=["configuration"], summary="List tags")
def tags_list(request: HttpRequest) -> Any:
    tenant, _ = _who(request, "read")
    return selectors.tag_list(tenant=tenant)


@router.post("/tags", response={201: TagOut}, tags=["configuration"], summary="Create a tag")
def tags_create(request: HttpRequest, payload: TagIn) -> Status[Any]:
    tenant, actor = _who(request, "write")
    return Status(
        201, config_services.tag_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


@router.delete(
    "/tags/{tag_id}",
    response={204: None},
    tags=["configuration"],
    summary="Delete a tag definition",
)
def tags_delete(request: HttpRequest, tag_id: int) -> Status[None]:
    tenant, actor = _who(request, "admin")
    tag = _get_or_404(lambda: Tag.objects.filter(tenant=tenant, pk=tag_id).first(), "tag")
    config_services.tag_delete(tenant=tenant, actor=actor, tag=tag)
    return Status(204, None)


@router.get(
    "/custom-fields",
    response=list[CustomFieldOut],
    tags=["configuration"],
    summary="List custom fields",
)
def custom_fields_list(request: HttpRequest) -> Any:
    tenant, _ = _who(request, "read")
    return selectors.custom_field_list(tenant=tenant)


@router.post(
    "/custom-fields",
    response={201: CustomFieldOut},
    tags=["configuration"],
    summary="Define a custom field",
)
def custom_fields_create(request: HttpRequest, payload: CustomFieldIn) -> Status[Any]:
    tenant, actor = _who(request, "admin")
    return Status(
        201, config_services.custom_field_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


def _custom_field(tenant: Tenant, field_id: int) -> CustomField:
    return _get_or_404(
        lambda: CustomField.objects.filter(tenant=tenant, pk=field_id).first(), "custom field"
    )


@router.patch(
    "/custom-fields/{custom_field_id}",
    response=CustomFieldOut,
    tags=["configuration"],
    summary="Change a custom field",
)
def custom_fields_update(
    request: HttpRequest, custom_field_id: int, payload: CustomFieldUpdateIn
) -> Any:
    tenant, actor = _who(request, "admin")
    return config_services.custom_field_update(
        tenant=tenant,
        actor=actor,
        field=_custom_field(tenant, custom_field_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/custom-fields/{custom_field_id}",
    response={204: None},
    tags=["configuration"],
    summary="Delete a custom field",
)
def custom_fields_delete(request: HttpRequest, custom_field_id: int) -> Status[None]:
    tenant, actor = _who(request, "admin")
    config_services.custom_field_delete(
        tenant=tenant, actor=actor, field=_custom_field(tenant, custom_field_id)
    )
    return Status(204, None)


@router.get(
    "/views",
    response=list[ViewOut],
    tags=["views"],
    summary="List saved views",
    description="Shared views and the caller's own.",
)
def views_list(request: HttpRequest) -> Any:
    tenant, actor = _who(request, "read")
    return selectors.ticket_view_list(tenant=tenant, actor=actor)


@router.post("/views", response={201: ViewOut}, tags=["views"], summary="Save a view")
def views_create(request: HttpRequest, payload: ViewIn) -> Status[Any]:
    tenant, actor = _who(request, "write")
    return Status(
        201, config_services.ticket_view_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


def _view(tenant: Tenant, actor: Actor, view_id: int) -> TicketView:
    return _get_or_404(
        lambda: selectors.ticket_view_list(tenant=tenant, actor=actor).filter(pk=view_id).first(),
        "view",
    )


@router.patch("/views/{ticket_view_id}", response=ViewOut, tags=["views"], summary="Change a view")
def views_update(request: HttpRequest, ticket_view_id: int, payload: ViewUpdateIn) -> Any:
    tenant, actor = _who(request, "write")
    return config_services.ticket_view_update(
        tenant=tenant,
        actor=actor,
        view=_view(tenant, actor, ticket_view_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/views/{ticket_view_id}", response={204: None}, tags=["views"], summary="Delete a view"
)
def views_delete(request: HttpRequest, ticket_view_id: int) -> Status[None]:
    tenant, actor = _who(request, "write")
    config_services.ticket_view_delete(
        tenant=tenant, actor=actor, view=_view(tenant, actor, ticket_view_id)
    )
    return Status(204, None)


@router.get(
    "/views/{ticket_view_id}/tickets",
    response=page_of(TicketListItemOut),
    tags=["views"],
    summary="The tickets of a view",
)
def views_tickets(
    request: HttpRequest, ticket_view_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = _who(request, "read")
    view = _view(tenant, actor, ticket_view_id)
    filters = parse_query(view.query)
    filters.sort = filters.sort or view.sort
    try:
        page = selectors.ticket_list(
            tenant=tenant, actor=actor, filters=filters, cursor=cursor, limit=limit
        )
    except selectors.CursorError as exc:
        raise InvalidInput.for_field("query.cursor", str(exc)) from exc
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/macros",
    response=list[MacroOut],
    tags=["macros"],
    summary="List macros",
    description="Active shared macros and the caller's own.",
)
def macros_list(request: HttpRequest) -> Any:
    tenant, actor = _who(request, "read")
    return selectors.macro_list(tenant=tenant, actor=actor)


@router.post(
    "/macros",
    response={201: MacroOut},
    tags=["macros"],
    summary="Create a macro",
    description="Actions are `{field, value}` on status, priority, type, assignee_id, "
    "team_id, tags, tags_add, tags_remove, custom_fields; the reply may use "
    "{{ticket.number}}, {{ticket.subject}}, {{requester.name}}, {{agent.name}} ….",
)
def macros_create(request: HttpRequest, payload: MacroIn) -> Status[Any]:
    tenant, actor = _who(request, "write")
    data = payload.model_dump()
    return Status(201, config_services.macro_create(tenant=tenant, actor=actor, **data))


def _macro(tenant: Tenant, actor: Actor, macro_id: int) -> Macro:
    return _get_or_404(
        lambda: (
            selectors.macro_list(tenant=tenant, actor=actor, include_inactive=True)
            .filter(pk=macro_id)
            .first()
        ),
        "macro",
    )


@router.patch("/macros/{macro_id}", response=MacroOut, tags=["macros"], summary="Change a macro")
def macros_update(request: HttpRequest, macro_id: int, payload: MacroUpdateIn) -> Any:
    tenant, actor = _who(request, "write")
    return config_services.macro_update(
        tenant=tenant,
        actor=actor,
        macro=_macro(tenant, actor, macro_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/macros/{macro_id}", response={204: None}, tags=["macros"], summary="Delete a macro"
)
def macros_delete(request: HttpRequest, macro_id: int) -> Status[None]:
    tenant, actor = _who(request, "write")
    config_services.macro_delete(tenant=tenant, actor=actor, macro=_macro(tenant, actor, macro_id))
    return Status(204, None)
