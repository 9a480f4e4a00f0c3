"""Segments, exports and contact-import status in the API (thin: parse -> service/selector)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from autocrm.core.api import (
    Cursor,
    Limit,
    PatchSchema,
    RequestSchema,
    get_or_404,
    keyset_response,
    page_of,
    tenant_and_actor,
)
from autocrm.core.problems import BadRequest
from autocrm.crm import exports, selectors
from autocrm.crm.models import ContactImport, Segment
from autocrm.crm.schemas import CompanyListFilters, ContactListFilters, ContactOut, Id
from autocrm.crm.services import imports as import_services
from autocrm.crm.services import segments as segment_services

router = Router(tags=["segments"])
ExportFormat = Literal["csv", "xlsx"]


class SegmentFiltersIn(Schema):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=200)
    company_id: Id | None = None
    owner: str = Field(default="", max_length=20, description="A user id, `me` or `none`.")
    tags: list[str] = Field(default_factory=list, max_length=20)
    consent_email: bool | None = None


class SegmentOut(Schema):
    id: int
    name: str
    kind: Literal["filter", "static"]
    filters: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class SegmentIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "VIP customers", "kind": "filter", "filters": {"tags": ["vip"]}},
                {"name": "Webinar guests", "kind": "static", "contact_ids": [1, 2]},
            ]
        },
    )

    name: str = Field(max_length=120)
    kind: Literal["filter", "static"]
    filters: SegmentFiltersIn | None = None
    contact_ids: list[Id] = Field(default_factory=list, max_length=10_000)


class SegmentUpdateIn(PatchSchema):
    name: str | None = Field(default=None, max_length=120)
    filters: SegmentFiltersIn | None = None


class SegmentMembersIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"contact_ids": [1]}]}
    )

    contact_ids: list[Id] = Field(min_length=1, max_length=10_000)


class SegmentMembersOut(Schema):
    changed: int


class ExportParams(Schema):
    format: ExportFormat = "csv"


class RowErrorOut(Schema):
    row: int
    column: str
    message: str


class ContactImportOut(Schema):
    id: int
    file_name: str
    file_format: str
    status: str
    dedupe: str
    total_rows: int
    processed_rows: int
    created_count: int
    updated_count: int
    skipped_count: int
    error_count: int
    errors: list[RowErrorOut]
    failure: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    undone_at: dt.datetime | None


def _segment(request: HttpRequest, segment_id: int) -> Segment:
    tenant, actor = tenant_and_actor(request, "read")
    return get_or_404(
        selectors.segment_get(tenant=tenant, actor=actor, segment_id=segment_id), "segment"
    )


def _filters_dict(filters: SegmentFiltersIn | None) -> dict[str, Any]:
    if filters is None:
        return {}
    return {k: v for k, v in filters.model_dump().items() if v not in ("", None, [])}


def file_response(export: exports.Export, fmt: str) -> FileResponse:
    if fmt not in exports.FORMATS:
        raise BadRequest("format is csv or xlsx.")
    return FileResponse(
        exports.write_file(export, fmt),
        as_attachment=True,
        filename=exports.file_name(export, fmt),
        content_type=exports.CONTENT_TYPES[fmt],
    )


@router.get("/segments", response=page_of(SegmentOut), summary="List segments")
def segments_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.segment_list(tenant=tenant, actor=actor)
    ordering = selectors.SEGMENT_ORDERINGS["name"]
    return keyset_response(rows, ordering=ordering, cursor=cursor, limit=limit)


@router.post("/segments", response={201: SegmentOut}, summary="Create a segment")
def segments_create(request: HttpRequest, payload: SegmentIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    segment = segment_services.segment_create(
        tenant=tenant,
        actor=actor,
        name=payload.name,
        kind=payload.kind,
        filters=_filters_dict(payload.filters),
        contact_ids=payload.contact_ids,
    )
    return Status(201, segment)


@router.get("/segments/{segment_id}", response=SegmentOut, summary="Get a segment")
def segments_get(request: HttpRequest, segment_id: int) -> Any:
    return _segment(request, segment_id)


@router.patch("/segments/{segment_id}", response=SegmentOut, summary="Rename or refilter")
def segments_update(request: HttpRequest, segment_id: int, payload: SegmentUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    changes = payload.model_dump(exclude_unset=True)
    if "filters" in changes:
        changes["filters"] = _filters_dict(payload.filters)
    return segment_services.segment_update(
        tenant=tenant, actor=actor, segment=_segment(request, segment_id), changes=changes
    )


@router.delete("/segments/{segment_id}", response={204: None}, summary="Delete a segment")
def segments_delete(request: HttpRequest, segment_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "write")
    segment_services.segment_delete(
        tenant=tenant, actor=actor, segment=_segment(request, segment_id)
    )
    return Status(204, None)


@router.get(
    "/segments/{segment_id}/contacts",
    response=page_of(ContactOut),
    summary="The contacts in a segment now",
)
def segments_contacts(
    request: HttpRequest, segment_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.segment_contacts(
        tenant=tenant, actor=actor, segment=_segment(request, segment_id)
    ).prefetch_related("emails", "phones", "memberships__company")
    ordering = selectors.CONTACT_ORDERINGS["name"]
    return keyset_response(rows, ordering=ordering, cursor=cursor, limit=limit)


@router.post(
    "/segments/{segment_id}/members",
    response=SegmentMembersOut,
    summary="Add contacts to a static segment",
)
def segments_members_add(
    request: HttpRequest, segment_id: int, payload: SegmentMembersIn
) -> dict[str, int]:
    tenant, actor = tenant_and_actor(request, "write")
    changed = segment_services.segment_members_add(
        tenant=tenant,
        actor=actor,
        segment=_segment(request, segment_id),
        contact_ids=payload.contact_ids,
    )
    return {"changed": changed}


@router.post(
    "/segments/{segment_id}/members/remove",
    response=SegmentMembersOut,
    summary="Take contacts off a static segment",
)
def segments_members_remove(
    request: HttpRequest, segment_id: int, payload: SegmentMembersIn
) -> dict[str, int]:
    tenant, actor = tenant_and_actor(request, "write")
    changed = segment_services.segment_members_remove(
        tenant=tenant,
        actor=actor,
        segment=_segment(request, segment_id),
        contact_ids=payload.contact_ids,
    )
    return {"changed": changed}


@router.get(
    "/segments/{segment_id}/export",
    response={200: None},
    summary="Export a segment's contacts (CSV or XLSX)",
)
def segments_export(
    request: HttpRequest, segment_id: int, params: Query[ExportParams]
) -> FileResponse:
    tenant, actor = tenant_and_actor(request, "read")
    segment = _segment(request, segment_id)
    rows = selectors.segment_contacts(tenant=tenant, actor=actor, segment=segment)
    return file_response(exports.contacts_export(rows, name=segment.name), params.format)


@router.get(
    "/contacts/export",
    response={200: None},
    tags=["contacts"],
    summary="Export contacts (CSV or XLSX), with the list's filters",
)
def contacts_export(
    request: HttpRequest, params: Query[ContactListFilters], fmt: Query[ExportParams]
) -> FileResponse:
    tenant, actor = tenant_and_actor(request, "read")
    filters = selectors.ContactFilters(
        q=params.q,
        company_id=params.company_id,
        owner=params.owner or "",
        tags=[t.strip().lower() for t in (params.tag or "").split(",") if t.strip()],
    )
    rows = selectors.contact_list(tenant=tenant, actor=actor, filters=filters)
    return file_response(exports.contacts_export(rows), fmt.format)


@router.get(
    "/companies/export",
    response={200: None},
    tags=["companies"],
    summary="Export companies (CSV or XLSX), with the list's filters",
)
def companies_export(
    request: HttpRequest, params: Query[CompanyListFilters], fmt: Query[ExportParams]
) -> FileResponse:
    tenant, actor = tenant_and_actor(request, "read")
    filters = selectors.CompanyFilters(
        q=params.q,
        owner=params.owner or "",
        tags=[t.strip().lower() for t in (params.tag or "").split(",") if t.strip()],
        parent_id=params.parent_id,
    )
    rows = selectors.company_list(tenant=tenant, actor=actor, filters=filters)
    return file_response(exports.companies_export(rows), fmt.format)


@router.get(
    "/contact-imports",
    response=page_of(ContactImportOut),
    tags=["contacts"],
    summary="Contact imports, newest first",
)
def imports_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.contact_import_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)


def _import(request: HttpRequest, import_id: int) -> ContactImport:
    tenant, actor = tenant_and_actor(request, "read")
    return get_or_404(
        selectors.contact_import_get(tenant=tenant, actor=actor, import_id=import_id), "import"
    )


@router.get(
    "/contact-imports/{import_id}",
    response=ContactImportOut,
    tags=["contacts"],
    summary="An import's status, progress and per-row report",
)
def imports_get(request: HttpRequest, import_id: int) -> Any:
    return _import(request, import_id)


@router.post(
    "/contact-imports/{import_id}/undo",
    response=ContactImportOut,
    tags=["contacts"],
    summary="Undo a finished import",
)
def imports_undo(request: HttpRequest, import_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return import_services.contact_import_undo(
        tenant=tenant, actor=actor, contact_import=_import(request, import_id)
    )
