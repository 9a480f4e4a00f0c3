"""Tickets: list and search, create, read, change, delete, bulk, tags, merge, split, macros."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from autocrm.core.api import Cursor, Limit, page_of, problems, tenant_and_actor
from autocrm.core.problems import InvalidInput
from autocrm.tickets import selectors, services
from autocrm.tickets.api.common import (
    domain_errors,
    etag,
    if_match_version,
)
from autocrm.tickets.api.listing import ticket_list_response
from autocrm.tickets.query import (
    FILTER_KEYS,
    QuerySyntaxError,
    TicketFilters,
    filter_apply,
    parse_query,
)
from autocrm.tickets.schemas import (
    BulkUpdateIn,
    BulkUpdateOut,
    MergeIn,
    SplitIn,
    TagsChangeIn,
    TicketCreateIn,
    TicketListFilters,
    TicketListItemOut,
    TicketOut,
    TicketUpdateIn,
)

router = Router(tags=["tickets"])


def _filters(params: TicketListFilters) -> TicketFilters:
    """``q`` parsed as search syntax, then each filter parameter added as its typed value."""
    try:
        filters = parse_query(params.q)
    except QuerySyntaxError as exc:
        raise InvalidInput.for_field("query.q", str(exc)) from exc
    for name in (*FILTER_KEYS, "sort"):
        value = getattr(params, name)
        if not value:
            continue
        try:
            filter_apply(filters, name, value)
        except QuerySyntaxError as exc:
            raise InvalidInput.for_field(f"query.{name}", str(exc)) from exc
    return filters


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
    params: Query[TicketListFilters],
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> HttpResponse:
    tenant, actor = tenant_and_actor(request, "read", customers=True)
    filters = _filters(params)
    return ticket_list_response(
        tenant=tenant, actor=actor, filters=filters, cursor=cursor, limit=limit
    )


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
    tenant, actor = tenant_and_actor(request, "write", customers=True)
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
    tenant, actor = tenant_and_actor(request, "write")
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
    tenant, actor = tenant_and_actor(request, "read", customers=True)
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
    tenant, actor = tenant_and_actor(request, "write", customers=True)
    changes = payload.model_dump(exclude_unset=True)
    with domain_errors():
        services.ticket_update(
            tenant=tenant,
            actor=actor,
            ticket_id=ticket_id,
            changes=changes,
            if_version=if_match_version(request),
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
    tenant, actor = tenant_and_actor(request, "admin")
    services.ticket_delete(tenant=tenant, actor=actor, ticket_id=ticket_id)
    return Status(204, None)


@router.post(
    "/tickets/{ticket_id}/tags",
    response=TicketOut,
    summary="Add or remove tags",
    openapi_extra=problems(409),
)
def tickets_tags(request: HttpRequest, ticket_id: int, payload: TagsChangeIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    with domain_errors():
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
    tenant, actor = tenant_and_actor(request, "write")
    with domain_errors():
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
    tenant, actor = tenant_and_actor(request, "write")
    with domain_errors():
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
    tenant, actor = tenant_and_actor(request, "write")
    with domain_errors():
        services.macro_apply(tenant=tenant, actor=actor, ticket_id=ticket_id, macro_id=macro_id)
    return selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id)
