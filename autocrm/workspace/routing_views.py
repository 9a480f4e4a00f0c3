"""Routing settings pages: teams and availability, business hours, SLA policies, triggers
and automations (with a dry-run preview). Thin: forms -> routing services/selectors."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from autocrm.accounts import selectors as account_selectors
from autocrm.accounts.access import (
    TenantRequest,
    admin_required,
    signed_in_user,
    tenant_member_required,
)
from autocrm.core.actors import STAFF
from autocrm.routing import selectors, services
from autocrm.routing.models import Availability
from autocrm.workspace.common import actor_for as _actor
from autocrm.workspace.routing_forms import BusinessHoursForm, RuleForm, SlaPolicyForm, TeamForm

staff_required = tenant_member_required(roles=STAFF)


def _add_errors(form: Form, exc: ValidationError) -> None:
    """A service's ValidationError as form errors (unknown keys become non-field errors)."""
    for key, errors in exc.message_dict.items() if hasattr(exc, "error_dict") else []:
        form.add_error(key if key in form.fields else None, errors)
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)


def _redirect(request: TenantRequest, name: str) -> HttpResponse:
    return redirect(f"workspace:{name}", tenant_slug=request.tenant.slug)


def _team_form(request: TenantRequest, data: Any = None) -> TeamForm:
    actor = _actor(request)
    hours = [
        (h.pk, h.name) for h in selectors.business_hours_list(tenant=request.tenant, actor=actor)
    ]
    teams = [(t.pk, t.name) for t in selectors.team_list(tenant=request.tenant, actor=actor)]
    agents = [
        (m.user_id, m.user.display_name)
        for m in account_selectors.membership_list(tenant=request.tenant, actor=actor)
        if m.role in STAFF
    ]
    return TeamForm(data, hours=hours, teams=teams, agents=agents)


@staff_required
def settings_teams(request: TenantRequest) -> HttpResponse:
    actor = _actor(request)
    form = _team_form(request, request.POST or None)
    if request.method == "POST":
        if not actor.is_admin:
            raise PermissionDenied("Only owners and admins can create teams.")
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.team_create(
                    tenant=request.tenant, actor=actor, name=data["name"],
                    assignment_method=data["assignment_method"],
                    business_hours_id=data["business_hours"],
                    handover_team_id=data["handover_team"], member_ids=data["members"],
                )  # fmt: skip
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Team {data['name']} created.")
                return _redirect(request, "settings_teams")
    teams = list(
        selectors.team_list(tenant=request.tenant, actor=actor).select_related(
            "lead", "business_hours", "handover_team"
        )
    )
    members = selectors.team_member_ids(
        tenant=request.tenant, actor=actor, team_ids=[t.pk for t in teams]
    )
    names: dict[int, str] = dict(cast(forms.ChoiceField, form.fields["members"]).choices)  # type: ignore[arg-type]
    for team in teams:
        team.member_names = [names.get(uid, f"#{uid}") for uid in members[team.pk]]  # type: ignore[attr-defined]
    me = selectors.agent_get(tenant=request.tenant, actor=actor, user_id=signed_in_user(request).pk)
    return render(request, "workspace/settings/routing_teams.html", {
        "form": form, "teams": teams, "can_admin": actor.is_admin,
        "my_availability": me.availability if me else Availability.OFFLINE,
        "availabilities": Availability.choices,
    }, status=400 if form.errors else 200)  # fmt: skip


@admin_required
@require_POST
def team_delete(request: TenantRequest, team_id: int) -> HttpResponse:
    actor = _actor(request)
    team = selectors.team_get(tenant=request.tenant, actor=actor, team_id=team_id)
    if team is None:
        raise Http404("No such team.")
    services.team_delete(tenant=request.tenant, actor=actor, team=team)
    messages.success(request, f"Team {team.name} deleted.")
    return _redirect(request, "settings_teams")


@staff_required
@require_POST
def availability_set(request: TenantRequest) -> HttpResponse:
    """The manual toggle: the signed-in agent's own availability."""
    value = request.POST.get("availability", "")
    try:
        services.agent_availability_set(
            tenant=request.tenant,
            actor=_actor(request),
            user_id=signed_in_user(request).pk,
            availability=value,
        )
    except ValidationError:
        messages.error(request, "Choose online, away or offline.")
    else:
        messages.success(request, f"You are {Availability(value).label.lower()}.")
    return _redirect(request, "settings_teams")


@admin_required
def settings_business_hours(request: TenantRequest) -> HttpResponse:
    actor = _actor(request)
    form = BusinessHoursForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.business_hours_create(
                tenant=request.tenant, actor=actor, name=form.cleaned_data["name"],
                time_zone=form.cleaned_data["time_zone"].strip(), hours=form.hours(),
                holidays=form.holiday_rows(),
            )  # fmt: skip
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"Business hours {form.cleaned_data['name']} saved.")
            return _redirect(request, "settings_business_hours")
    rows = selectors.business_hours_list(tenant=request.tenant, actor=actor).order_by("name")
    return render(
        request,
        "workspace/settings/routing_hours.html",
        {"form": form, "calendars": rows},
        status=400 if form.errors else 200,
    )


@admin_required
def settings_sla(request: TenantRequest) -> HttpResponse:
    actor = _actor(request)
    form = SlaPolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        priority = data.pop("priority")
        conditions = [{"field": "priority", "op": "is", "value": priority}] if priority else []
        try:
            services.sla_policy_create(
                tenant=request.tenant, actor=actor, conditions=conditions, **data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"SLA policy {data['name']} saved.")
            return _redirect(request, "settings_sla")
    policies = selectors.sla_policy_list(tenant=request.tenant, actor=actor).order_by(
        "position", "id"
    )
    return render(
        request,
        "workspace/settings/routing_sla.html",
        {"form": form, "policies": policies},
        status=400 if form.errors else 200,
    )


def _rules_page(request: TenantRequest, form: RuleForm, status: int = 200) -> HttpResponse:
    actor = _actor(request)
    triggers = selectors.trigger_list(tenant=request.tenant, actor=actor)
    automations = selectors.automation_list(tenant=request.tenant, actor=actor)
    return render(
        request,
        "workspace/settings/routing_rules.html",
        {
            "form": form,
            "triggers": triggers.order_by("position", "id"),
            "automations": automations.order_by("position", "id"),
        },
        status=status,
    )


@admin_required
def settings_rules(request: TenantRequest) -> HttpResponse:
    form = RuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        kind, on = data.pop("kind"), data.pop("on")
        try:
            if kind == "trigger":
                services.trigger_create(tenant=request.tenant, actor=_actor(request), on=on, **data)
            else:
                services.automation_create(tenant=request.tenant, actor=_actor(request), **data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, f"{kind.title()} {data['name']} saved.")
            return _redirect(request, "settings_rules")
    return _rules_page(request, form, status=400 if form.errors else 200)


@admin_required
@require_POST
def rule_toggle(request: TenantRequest, kind: str, rule_id: int) -> HttpResponse:
    actor = _actor(request)
    if kind == "trigger":
        trigger = selectors.trigger_get(tenant=request.tenant, actor=actor, trigger_id=rule_id)
        if trigger is None:
            raise Http404("No such trigger.")
        services.trigger_update(
            tenant=request.tenant,
            actor=actor,
            trigger=trigger,
            changes={"active": not trigger.active},
        )
    elif kind == "automation":
        automation = selectors.automation_get(
            tenant=request.tenant, actor=actor, automation_id=rule_id
        )
        if automation is None:
            raise Http404("No such automation.")
        services.automation_update(
            tenant=request.tenant,
            actor=actor,
            automation=automation,
            changes={"active": not automation.active},
        )
    else:
        raise Http404("No such kind of rule.")
    return _redirect(request, "settings_rules")


@admin_required
@require_POST
def rules_preview(request: TenantRequest) -> HttpResponse:
    """htmx: the open tickets the conditions in the form match now (nothing changes)."""
    error, checked = "", 0
    matches: list[Any] = []
    try:
        conditions = json.loads(request.POST.get("conditions") or "[]")
        matches, checked = services.rule_preview(
            tenant=request.tenant, actor=_actor(request), conditions=conditions,
            match=request.POST.get("match", "all"),
        )  # fmt: skip
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except ValueError as exc:
        error = f"Not JSON: {exc}"
    return render(
        request,
        "workspace/settings/_routing_preview.html",
        {"error": error, "matches": matches[:50], "count": len(matches), "checked": checked},
    )
