"""Segment pages (saved filters and static lists of contacts) and the export downloads of
every CRM list, under ``/<tenant>/agent/``. Thin: selectors read, services write."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.core.api.pagination import keyset_page
from autocrm.core.problems import InvalidInput
from autocrm.crm import exports, selectors
from autocrm.crm.forms import ContactFilterForm, split_words
from autocrm.crm.models import Segment
from autocrm.crm.services import segments as segment_services
from autocrm.workspace.common import actor_for, assignable_agents

PAGE_SIZE = 50


def _segment(request: TenantRequest, segment_id: int) -> Segment:
    found = selectors.segment_get(
        tenant=request.tenant, actor=actor_for(request), segment_id=segment_id
    )
    if found is None:
        raise Http404("No such segment.")
    return found


def _contact_filters(request: TenantRequest) -> tuple[selectors.ContactFilters, dict[str, Any]]:
    """The contacts list's filters from the query (or posted) parameters, and as JSON."""
    form = ContactFilterForm(request.GET or request.POST, owners=assignable_agents(request))
    data = form.cleaned_data if form.is_valid() else {}
    filters = selectors.ContactFilters(
        q=data.get("q") or "",
        owner=data.get("owner") or "",
        tags=[t.lower() for t in split_words(data.get("tag") or "")],
        company_id=data.get("company"),
    )
    saved: dict[str, Any] = {
        "q": filters.q,
        "owner": filters.owner,
        "tags": filters.tags,
        "company_id": filters.company_id,
    }
    return filters, {k: v for k, v in saved.items() if v not in ("", None, [])}


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@staff_required
def segment_list(request: TenantRequest) -> HttpResponse:
    """Every segment, and the form for a new static list (a saved filter is made from the
    contacts list's "Save as segment")."""
    actor = actor_for(request)
    if request.method == "POST":
        kind = request.POST.get("kind", "static")
        filters = _contact_filters(request)[1] if kind == Segment.Kind.FILTER else {}
        try:
            segment = segment_services.segment_create(
                tenant=request.tenant,
                actor=actor,
                name=request.POST.get("name", ""),
                kind=kind,
                filters=filters,
            )
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return redirect("workspace:crm_segments", tenant_slug=request.tenant.slug)
        messages.success(request, f"Segment {segment.name} saved.")
        return redirect("workspace:crm_segment", request.tenant.slug, segment.pk)
    segments = selectors.segment_list(tenant=request.tenant, actor=actor).order_by("name", "id")
    return render(
        request,
        "workspace/crm/segments.html",
        {"segments": segments, "can_edit": actor.role != "light_agent"},
    )


@staff_required
def segment_page(request: TenantRequest, segment_id: int) -> HttpResponse:
    actor = actor_for(request)
    segment = _segment(request, segment_id)
    contacts = selectors.segment_contacts(tenant=request.tenant, actor=actor, segment=segment)
    error = ""
    try:
        page = keyset_page(
            contacts,
            ordering=selectors.CONTACT_ORDERINGS["name"],
            cursor=request.GET.get("cursor") or None,
            limit=PAGE_SIZE,
        )
    except InvalidInput:
        page, error = None, "This page link is out of date; start again from the first page."
    context = {
        "segment": segment,
        "filter_labels": [
            f"{key}: {', '.join(value) if isinstance(value, list) else value}"
            for key, value in segment.filters.items()
        ],
        "rows": list(page.items) if page else [],
        "next_cursor": page.next_cursor if page else None,
        "error": error,
        "query": request.GET.copy(),
        "can_edit": actor.role != "light_agent",
    }
    return render(request, "workspace/crm/segment.html", context)


@staff_required
@require_POST
def segment_edit(request: TenantRequest, segment_id: int) -> HttpResponse:
    """Rename, delete, or add/remove one contact (``action``)."""
    actor = actor_for(request)
    segment = _segment(request, segment_id)
    action = request.POST.get("action", "")
    back = request.POST.get("next", "")
    try:
        if action == "rename":
            segment_services.segment_update(
                tenant=request.tenant,
                actor=actor,
                segment=segment,
                changes={"name": request.POST.get("name", "")},
            )
        elif action == "delete":
            segment_services.segment_delete(tenant=request.tenant, actor=actor, segment=segment)
            messages.success(request, f"Segment {segment.name} deleted.")
            return redirect("workspace:crm_segments", tenant_slug=request.tenant.slug)
        elif action in ("add", "remove"):
            contact_id = request.POST.get("contact_id", "")
            if not contact_id.isdigit():
                raise ValidationError("Choose a contact.")
            change = (
                segment_services.segment_members_add
                if action == "add"
                else segment_services.segment_members_remove
            )
            change(
                tenant=request.tenant, actor=actor, segment=segment, contact_ids=[int(contact_id)]
            )
            verb = "added to" if action == "add" else "removed from"
            messages.success(request, f"Contact {verb} {segment.name}.")
        else:
            raise ValidationError("Unknown action.")
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    if back.startswith(f"/{request.tenant.slug}/agent/"):
        return redirect(back)
    return redirect("workspace:crm_segment", request.tenant.slug, segment.pk)


def download(export: exports.Export, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        return HttpResponse("Choose csv or xlsx.", status=400, content_type="text/plain")
    response = FileResponse(
        exports.write_file(export, fmt),
        as_attachment=True,
        filename=exports.file_name(export, fmt),
        content_type=exports.CONTENT_TYPES[fmt],
    )
    # The view decorators are typed for HttpResponse; Django serves a FileResponse alike.
    return cast(HttpResponse, response)


def _too_big(request: TenantRequest, exc: ValidationError, to: str) -> HttpResponse:
    messages.error(request, _error_text(exc))
    return redirect(to, tenant_slug=request.tenant.slug)


@staff_required
def contacts_export(request: TenantRequest) -> HttpResponse:
    """The contacts list as it is filtered, as a file."""
    filters = _contact_filters(request)[0]
    rows = selectors.contact_list(tenant=request.tenant, actor=actor_for(request), filters=filters)
    try:
        export = exports.contacts_export(rows)
    except ValidationError as exc:
        return _too_big(request, exc, "workspace:crm_contacts")
    return download(export, request.GET.get("format", "csv"))


@staff_required
def companies_export(request: TenantRequest) -> HttpResponse:
    filters = selectors.CompanyFilters(
        q=request.GET.get("q", "")[:200],
        owner=request.GET.get("owner", "")[:20],
        tags=[t.lower() for t in split_words(request.GET.get("tag", "")[:200])],
    )
    rows = selectors.company_list(tenant=request.tenant, actor=actor_for(request), filters=filters)
    try:
        export = exports.companies_export(rows)
    except ValidationError as exc:
        return _too_big(request, exc, "workspace:crm_companies")
    return download(export, request.GET.get("format", "csv"))


@staff_required
def segment_export(request: TenantRequest, segment_id: int) -> HttpResponse:
    segment = _segment(request, segment_id)
    rows = selectors.segment_contacts(
        tenant=request.tenant, actor=actor_for(request), segment=segment
    )
    try:
        export = exports.contacts_export(rows, name=segment.name)
    except ValidationError as exc:
        return _too_big(request, exc, "workspace:crm_segments")
    return download(export, request.GET.get("format", "csv"))
