"""The tenant's ticket configuration: tags, custom fields, saved views, macros."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from autocrm.core.actors import Actor
from autocrm.core.api import Cursor, Limit, get_or_404, keyset_response, page_of, tenant_and_actor
from autocrm.core.models import Tenant
from autocrm.tickets import config_selectors, config_services
from autocrm.tickets.api.listing import ticket_list_response
from autocrm.tickets.models import CustomField, Macro, TicketView
from autocrm.tickets.query import parse_query
from autocrm.tickets.schemas import (
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldUpdateIn,
    MacroIn,
    MacroOut,
    MacroUpdateIn,
    TagIn,
    TagOut,
    TicketListItemOut,
    ViewIn,
    ViewOut,
    ViewUpdateIn,
)

router = Router(tags=["tickets"])


@router.get("/tags", response=page_of(TagOut), tags=["configuration"], summary="List tags")
def tags_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = config_selectors.tag_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("name", "id"), cursor=cursor, limit=limit)


@router.post("/tags", response={201: TagOut}, tags=["configuration"], summary="Create a tag")
def tags_create(request: HttpRequest, payload: TagIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
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
    tenant, actor = tenant_and_actor(request, "admin")
    tag = get_or_404(config_selectors.tag_get(tenant=tenant, actor=actor, tag_id=tag_id), "tag")
    config_services.tag_delete(tenant=tenant, actor=actor, tag=tag)
    return Status(204, None)


@router.get(
    "/custom-fields",
    response=page_of(CustomFieldOut),
    tags=["configuration"],
    summary="List custom fields",
)
def custom_fields_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = config_selectors.custom_field_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("position", "id"), cursor=cursor, limit=limit)


@router.post(
    "/custom-fields",
    response={201: CustomFieldOut},
    tags=["configuration"],
    summary="Define a custom field",
)
def custom_fields_create(request: HttpRequest, payload: CustomFieldIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    return Status(
        201, config_services.custom_field_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


def _custom_field(tenant: Tenant, actor: Actor, field_id: int) -> CustomField:
    found = config_selectors.custom_field_get(tenant=tenant, actor=actor, field_id=field_id)
    return get_or_404(found, "custom field")


@router.patch(
    "/custom-fields/{custom_field_id}",
    response=CustomFieldOut,
    tags=["configuration"],
    summary="Change a custom field",
)
def custom_fields_update(
    request: HttpRequest, custom_field_id: int, payload: CustomFieldUpdateIn
) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return config_services.custom_field_update(
        tenant=tenant,
        actor=actor,
        field=_custom_field(tenant, actor, custom_field_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/custom-fields/{custom_field_id}",
    response={204: None},
    tags=["configuration"],
    summary="Delete a custom field",
)
def custom_fields_delete(request: HttpRequest, custom_field_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    config_services.custom_field_delete(
        tenant=tenant, actor=actor, field=_custom_field(tenant, actor, custom_field_id)
    )
    return Status(204, None)


@router.get(
    "/views",
    response=page_of(ViewOut),
    tags=["views"],
    summary="List saved views",
    description="Shared views and the caller's own.",
)
def views_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = config_selectors.ticket_view_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("position", "id"), cursor=cursor, limit=limit)


@router.post("/views", response={201: ViewOut}, tags=["views"], summary="Save a view")
def views_create(request: HttpRequest, payload: ViewIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    return Status(
        201, config_services.ticket_view_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


def _view(tenant: Tenant, actor: Actor, view_id: int) -> TicketView:
    found = config_selectors.ticket_view_get(tenant=tenant, actor=actor, view_id=view_id)
    return get_or_404(found, "view")


@router.patch("/views/{ticket_view_id}", response=ViewOut, tags=["views"], summary="Change a view")
def views_update(request: HttpRequest, ticket_view_id: int, payload: ViewUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
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
    tenant, actor = tenant_and_actor(request, "write")
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
) -> HttpResponse:
    tenant, actor = tenant_and_actor(request, "read")
    view = _view(tenant, actor, ticket_view_id)
    filters = parse_query(view.query)
    filters.sort = filters.sort or view.sort
    return ticket_list_response(
        tenant=tenant, actor=actor, filters=filters, cursor=cursor, limit=limit
    )


@router.get(
    "/macros",
    response=page_of(MacroOut),
    tags=["macros"],
    summary="List macros",
    description="Active shared macros and the caller's own.",
)
def macros_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = config_selectors.macro_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("name", "id"), cursor=cursor, limit=limit)


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
    tenant, actor = tenant_and_actor(request, "write")
    data = payload.model_dump()
    return Status(201, config_services.macro_create(tenant=tenant, actor=actor, **data))


def _macro(tenant: Tenant, actor: Actor, macro_id: int) -> Macro:
    return get_or_404(
        config_selectors.macro_get(tenant=tenant, actor=actor, macro_id=macro_id), "macro"
    )


@router.patch("/macros/{macro_id}", response=MacroOut, tags=["macros"], summary="Change a macro")
def macros_update(request: HttpRequest, macro_id: int, payload: MacroUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
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
    tenant, actor = tenant_and_actor(request, "write")
    config_services.macro_delete(tenant=tenant, actor=actor, macro=_macro(tenant, actor, macro_id))
    return Status(204, None)
