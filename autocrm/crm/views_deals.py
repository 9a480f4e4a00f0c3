"""Deal pages of the workspace under ``/<tenant>/agent/``: the board (drag and drop, and
keyboard moves), the table, a deal's page (edit, win/lose, activities, history), the
forecast. Thin: forms parse, selectors read, services write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, staff_required
from autocrm.core.api.pagination import keyset_page
from autocrm.core.models import Event
from autocrm.core.problems import InvalidInput
from autocrm.crm import exports, selectors, selectors_activities, selectors_deals, services
from autocrm.crm.forms_deals import ActivityForm, DealCloseForm, DealFilterForm, DealForm
from autocrm.crm.models import ContactEmail, Deal, Pipeline
from autocrm.crm.segment_views import download
from autocrm.workspace.common import actor_for, assignable_agents, found_or_404

PAGE_SIZE = 50
CHOICE_LIMIT = 500


def apply_form_errors(form: Any, exc: ValidationError) -> None:
    """A service's field errors onto the form's fields of the same name (``*_id`` without
    the suffix), the rest onto the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.message_dict.items():
        target = {"stage_id": "stage", "pipeline_id": "stage", "contact_id": "contact_email"}.get(
            field, field.removesuffix("_id")
        )
        form.add_error(target if target in form.fields else None, errors)


def _stage_choices(pipelines: list[Pipeline]) -> list[tuple[str, list[tuple[int, str]]]]:
    return [
        (p.name, [(s.pk, f"{s.name} ({s.probability}%)") for s in p.stages.all()])
        for p in pipelines
    ]


def _company_choices(request: TenantRequest) -> list[tuple[int, str]]:
    rows = selectors.company_list(tenant=request.tenant, actor=actor_for(request))
    return [(c.pk, c.name) for c in rows.order_by("name", "id")[:CHOICE_LIMIT]]


def _template_choices(request: TenantRequest) -> list[tuple[int, str]]:
    rows = selectors_activities.activity_template_list(
        tenant=request.tenant, actor=actor_for(request)
    )
    return [(t.pk, t.name) for t in rows[:200]]


def activity_form(request: TenantRequest, **initial: Any) -> ActivityForm:
    return ActivityForm(
        initial=initial, owners=assignable_agents(request), templates=_template_choices(request)
    )


def _deal_form(request: TenantRequest, pipelines: list[Pipeline], data: Any = None) -> DealForm:
    return DealForm(
        data,
        stages=_stage_choices(pipelines),
        owners=assignable_agents(request),
        companies=_company_choices(request),
        initial={"currency": request.tenant.settings.get("currency") or "USD"},
    )


def _pipeline_from(request: TenantRequest, pipelines: list[Pipeline]) -> Pipeline | None:
    wanted = request.GET.get("pipeline", "")
    for p in pipelines:
        if str(p.pk) == wanted:
            return p
    return pipelines[0] if pipelines else None


@staff_required
def deal_board(request: TenantRequest) -> HttpResponse:
    """The board of a pipeline (``?view=table``: every lead and deal as a table)."""
    actor = actor_for(request)
    pipelines = list(selectors_deals.pipeline_list(tenant=request.tenant, actor=actor))
    pipeline = _pipeline_from(request, pipelines)
    form, filters = _filters(request, pipeline)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    view = "table" if request.GET.get("view") == "table" else "board"
    context: dict[str, Any] = {
        "pipelines": pipelines,
        "pipeline": pipeline,
        "form": form,
        "view": view,
        "query": request.GET.copy(),
        "can_edit": actor.role != "light_agent",
        "is_admin": actor.is_admin,
        "new_form": _deal_form(request, pipelines),
    }
    if view == "table":
        rows = selectors_deals.deal_list(tenant=request.tenant, actor=actor, filters=filters)
        ordering = selectors_deals.DEAL_ORDERINGS[data.get("sort") or "-created_at"]
        try:
            page = keyset_page(
                rows, ordering=ordering, cursor=data.get("cursor") or None, limit=PAGE_SIZE
            )
            context.update(rows=list(page.items), next_cursor=page.next_cursor)
        except InvalidInput:
            context.update(rows=[], next_cursor=None, error="This page link is out of date.")
    elif pipeline is not None:
        context["columns"] = selectors_deals.deal_board(
            tenant=request.tenant, actor=actor, pipeline=pipeline, filters=filters
        )
    return render(request, "workspace/crm/deals.html", context)


def _filters(
    request: TenantRequest, pipeline: Pipeline | None
) -> tuple[DealFilterForm, selectors_deals.DealFilters]:
    """The table's (and its export's) filters from the query string; bad values are ignored."""
    form = DealFilterForm(request.GET or None, owners=assignable_agents(request))
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors_deals.DealFilters(
        q=data.get("q") or "",
        owner=data.get("owner") or "",
        kind=data.get("kind") or "",
        status=data.get("status") or "",
        pipeline_id=pipeline.pk if pipeline and request.GET.get("pipeline") else None,
    )
    return form, filters


@staff_required
def deal_export(request: TenantRequest) -> HttpResponse:
    """The leads and deals table as it is filtered, as a CSV or XLSX file."""
    actor = actor_for(request)
    pipelines = list(selectors_deals.pipeline_list(tenant=request.tenant, actor=actor))
    filters = _filters(request, _pipeline_from(request, pipelines))[1]
    rows = selectors_deals.deal_list(tenant=request.tenant, actor=actor, filters=filters)
    try:
        export = exports.deals_export(rows)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
        return redirect(f"{reverse('workspace:crm_deals', args=[request.tenant.slug])}?view=table")
    return download(export, request.GET.get("format", "csv"))


@staff_required
@require_POST
def deal_create(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    pipelines = list(selectors_deals.pipeline_list(tenant=request.tenant, actor=actor))
    form = _deal_form(request, pipelines, request.POST)
    if form.is_valid():
        values = form.values()
        email = form.cleaned_data.get("contact_email")
        if email:
            row = ContactEmail.objects.filter(tenant=request.tenant, email=email.lower()).first()
            if row is None:
                form.add_error("contact_email", "No contact has this address.")
            values["contact_id"] = row.contact_id if row else None
        if form.is_valid():
            try:
                deal = services.deal_create(tenant=request.tenant, actor=actor, **values)
            except ValidationError as exc:
                apply_form_errors(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("workspace:crm_deal", request.tenant.slug, deal.pk)
    return render(request, "workspace/crm/deal_new.html", {"new_form": form}, status=400)


@staff_required
@require_POST
def pipeline_default_create(request: TenantRequest) -> HttpResponse:
    """The board's empty state: create the usual sales pipeline in one click (admins)."""
    try:
        services.pipeline_create(tenant=request.tenant, actor=actor_for(request), name="Sales")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("workspace:crm_deals", request.tenant.slug)


def _deal(request: TenantRequest, deal_id: int) -> Deal:
    return found_or_404(
        selectors_deals.deal_get(tenant=request.tenant, actor=actor_for(request), deal_id=deal_id),
        "No such deal.",
    )


@staff_required
@require_POST
def deal_move(request: TenantRequest, deal_id: int) -> HttpResponse:
    """The board's drop (mouse or keyboard): JSON in, the moved card's new place out."""
    deal = _deal(request, deal_id)
    stage = request.POST.get("stage_id", "")
    before = request.POST.get("before_id", "")
    if not stage.isdigit() or (before and not before.isdigit()):
        return JsonResponse({"error": "Choose a stage."}, status=400)
    try:
        moved = services.deal_move(
            tenant=request.tenant,
            actor=actor_for(request),
            deal=deal,
            stage_id=int(stage),
            before_id=int(before) if before else None,
        )
    except ValidationError as exc:
        return JsonResponse({"error": "; ".join(exc.messages)}, status=400)
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc)}, status=403)
    return JsonResponse(
        {
            "id": moved.pk,
            "stage_id": moved.stage_id,
            "position": moved.position,
            "score": moved.score,
        }
    )


def _history(request: TenantRequest, deal: Deal) -> list[Event]:
    return list(
        Event.objects.filter(
            tenant=request.tenant, subject_type="crm.deal", subject_id=str(deal.pk)
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:50]
    )


@staff_required
def deal_page(request: TenantRequest, deal_id: int) -> HttpResponse:
    actor = actor_for(request)
    deal = _deal(request, deal_id)
    pipelines = list(selectors_deals.pipeline_list(tenant=request.tenant, actor=actor))
    initial = {
        "title": deal.title,
        "kind": deal.kind,
        "stage": deal.stage_id,
        "amount": deal.amount,
        "currency": deal.currency,
        "expected_close_date": deal.expected_close_date,
        "owner": deal.owner_id,
        "contact_email": deal.contact.email if deal.contact else "",
        "company": deal.company_id,
    }
    form = _deal_form(request, pipelines)
    form.initial = initial
    status = 200
    if request.method == "POST":
        form = _deal_form(request, pipelines, request.POST)
        if form.is_valid():
            changes = form.values()
            email = form.cleaned_data.get("contact_email")
            changes["contact_id"] = None
            if email:
                row = ContactEmail.objects.filter(
                    tenant=request.tenant, email=email.lower()
                ).first()
                if row is None:
                    form.add_error("contact_email", "No contact has this address.")
                else:
                    changes["contact_id"] = row.contact_id
            if form.is_valid():
                try:
                    services.deal_update(
                        tenant=request.tenant, actor=actor, deal=deal, changes=changes
                    )
                except ValidationError as exc:
                    apply_form_errors(form, exc)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc))
                else:
                    return redirect("workspace:crm_deal", request.tenant.slug, deal.pk)
        status = 400
    activities = selectors_activities.activity_list(
        tenant=request.tenant,
        actor=actor,
        filters=selectors_activities.ActivityFilters(deal_id=deal.pk),
    ).order_by("done_at", "due_at", "-created_at")[:100]
    context = {
        "deal": deal,
        "form": form,
        "edit_open": status == 400,
        "history": _history(request, deal),
        "activities": list(activities),
        "activity_form": activity_form(
            request, deal=deal.pk, contact=deal.contact_id, next=request.path
        ),
        "can_edit": actor.role != "light_agent",
    }
    return render(request, "workspace/crm/deal.html", context, status=status)


@staff_required
@require_POST
def deal_close(request: TenantRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    form = DealCloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose won, lost or reopen.")
    else:
        try:
            services.deal_close(
                tenant=request.tenant,
                actor=actor_for(request),
                deal=deal,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data.get("reason") or "",
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"Marked {form.cleaned_data['status']}.")
    return redirect("workspace:crm_deal", request.tenant.slug, deal.pk)


@staff_required
@require_POST
def deal_convert(request: TenantRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    try:
        services.deal_convert(tenant=request.tenant, actor=actor_for(request), deal=deal)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, "The lead is a deal now.")
    return redirect("workspace:crm_deal", request.tenant.slug, deal.pk)


@staff_required
def forecast_page(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    pipelines = list(selectors_deals.pipeline_list(tenant=request.tenant, actor=actor))
    wanted = request.GET.get("pipeline", "")
    pipeline_id = int(wanted) if wanted.isdigit() and len(wanted) < 18 else None
    try:
        start = (
            dt.date.fromisoformat(request.GET.get("start", "") + "-01")
            if request.GET.get("start")
            else timezone.localdate()
        )
    except ValueError:
        start = timezone.localdate()
    owner = request.GET.get("owner", "")
    result = selectors_deals.forecast(
        tenant=request.tenant,
        actor=actor,
        start=start,
        months=6,
        pipeline_id=pipeline_id,
        owner=owner if owner in ("me", "none") or owner.isdigit() else "",
    )
    # One row per (owner, currency), one cell per month: the shape a sales manager reads.
    grid: dict[tuple[str, str], dict[dt.date, Any]] = {}
    for row in result.rows:
        grid.setdefault((row.owner_name, row.currency), {})[row.month] = row
    table = [
        {"owner": owner_name, "currency": currency, "cells": [cells.get(m) for m in result.months]}
        for (owner_name, currency), cells in sorted(grid.items())
    ]
    context = {
        "pipelines": pipelines,
        "pipeline_id": pipeline_id,
        "months": result.months,
        "table": table,
        "totals": sorted(result.totals.items()),
        "start": start,
        "owners": assignable_agents(request),
        "owner": owner,
    }
    return render(request, "workspace/crm/forecast.html", context)
