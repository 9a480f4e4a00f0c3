"""Routing settings pages: teams, agents' routing profiles and availability, business hours
(SLA policies, triggers and automations: ``routing_rule_views``). Thin: forms -> routing
services/selectors; owners and admins change, agents only read and set their availability."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from autocrm.accounts.access import (
    TenantRequest,
    admin_required,
    signed_in_user,
    tenant_member_required,
)
from autocrm.core.actors import STAFF
from autocrm.inboxes import selectors as inbox_selectors
from autocrm.routing import selectors, services
from autocrm.routing.models import AgentProfile, Availability, BusinessHours, Team
from autocrm.tickets.models import Channel
from autocrm.workspace.common import actor_for as _actor
from autocrm.workspace.common import found_or_404, staff_members
from autocrm.workspace.routing_forms import (
    AgentForm,
    BusinessHoursForm,
    TeamForm,
    add_routing_errors,
)
from autocrm.workspace.settings_pages import delete_through_service, form_page, saved_redirect

staff_required = tenant_member_required(roles=STAFF)


def redirect_to(request: TenantRequest, name: str) -> HttpResponse:
    return redirect(f"workspace:{name}", tenant_slug=request.tenant.slug)


# --- teams ----------------------------------------------------------------------------------


def _team_choices(request: TenantRequest, team: Team | None = None) -> dict[str, Any]:
    """The choices of the team form (a team cannot hand over to itself)."""
    actor = _actor(request)
    hours = [
        (h.pk, h.name) for h in selectors.business_hours_list(tenant=request.tenant, actor=actor)
    ]
    teams = [
        (t.pk, t.name)
        for t in selectors.team_list(tenant=request.tenant, actor=actor)
        if team is None or t.pk != team.pk
    ]
    return {"hours": hours, "teams": teams, "agents": staff_members(request)}


def _agents(request: TenantRequest) -> list[dict[str, Any]]:
    """Every staff member with their routing profile (offline, no limits when they have
    none yet): two queries."""
    actor = _actor(request)
    profiles = {p.user_id: p for p in selectors.agent_list(tenant=request.tenant, actor=actor)}
    rows = []
    for user_id, name in staff_members(request):
        profile = profiles.get(user_id)
        rows.append({
            "user_id": user_id, "name": name,
            "availability": Availability(profile.availability if profile else "offline"),
            "skills": profile.skills if profile else [],
            "capacity": profile.capacity if profile else 0,
            "channel_capacity": sorted((profile.channel_capacity or {}).items()) if profile else [],
        })  # fmt: skip
    return rows


@staff_required
def settings_teams(request: TenantRequest) -> HttpResponse:
    actor = _actor(request)
    form = TeamForm(request.POST or None, **_team_choices(request))
    if request.method == "POST" and not actor.is_admin:
        raise PermissionDenied("Only owners and admins can create teams.")
    saved = saved_redirect(
        request, form,
        lambda: services.team_create(
            tenant=request.tenant, actor=actor, member_ids=form.cleaned_data["members"],
            **form.changes(),
        ),
        done=lambda: f"Team {form.cleaned_data['name']} created.",
        to="workspace:settings_teams", errors=add_routing_errors,
    )  # fmt: skip
    if saved:
        return saved
    teams = list(
        selectors.team_list(tenant=request.tenant, actor=actor).select_related(
            "lead", "business_hours", "handover_team"
        )
    )
    members = selectors.team_member_ids(
        tenant=request.tenant, actor=actor, team_ids=[t.pk for t in teams]
    )
    names = dict(staff_members(request))
    for team in teams:
        team.member_names = [names.get(uid, f"#{uid}") for uid in members[team.pk]]  # type: ignore[attr-defined]
    me = selectors.agent_get(tenant=request.tenant, actor=actor, user_id=signed_in_user(request).pk)
    return form_page(request, "workspace/settings/routing_teams.html", {
        "form": form, "teams": teams, "can_admin": actor.is_admin, "agents": _agents(request),
        "my_availability": me.availability if me else Availability.OFFLINE,
        "availabilities": Availability.choices,
    }, form)  # fmt: skip


def _team(request: TenantRequest, team_id: int) -> Team:
    return found_or_404(
        selectors.team_get(tenant=request.tenant, actor=_actor(request), team_id=team_id),
        "No such team.",
    )


@admin_required
def team_edit(request: TenantRequest, team_id: int) -> HttpResponse:
    actor = _actor(request)
    team = _team(request, team_id)
    member_ids = selectors.team_member_ids(tenant=request.tenant, actor=actor, team_ids=[team.pk])
    current = TeamForm.initial_from(team, member_ids[team.pk])
    form = TeamForm.for_edit(request.POST or None, current, "team", **_team_choices(request, team))
    saved = saved_redirect(
        request, form,
        lambda: services.team_update(
            tenant=request.tenant, actor=actor, team=team, changes=form.changes(),
            member_ids=form.cleaned_data["members"],
        ),
        done=lambda: f"Team {form.cleaned_data['name']} saved.",
        to="workspace:settings_teams", errors=add_routing_errors,
    )  # fmt: skip
    if saved:
        return saved
    inboxes = inbox_selectors.inbox_list(tenant=request.tenant, actor=actor).filter(
        default_team=team
    )
    return form_page(
        request,
        "workspace/settings/routing_team_edit.html",
        {"form": form, "team": team, "inboxes": inboxes},
        form,
    )


@admin_required
@require_POST
def team_delete(request: TenantRequest, team_id: int) -> HttpResponse:
    team = _team(request, team_id)
    return delete_through_service(
        request,
        lambda: services.team_delete(tenant=request.tenant, actor=_actor(request), team=team),
        done=f"Team {team.name} deleted.",
        to="workspace:settings_teams",
    )


# --- agents ---------------------------------------------------------------------------------


@admin_required
def agent_edit(request: TenantRequest, user_id: int) -> HttpResponse:
    actor = _actor(request)
    name = dict(staff_members(request)).get(user_id)
    if name is None:
        raise Http404("No such staff member.")
    profile = selectors.agent_get(tenant=request.tenant, actor=actor, user_id=user_id)
    profile = profile or AgentProfile(tenant=request.tenant, user_id=user_id)  # defaults
    form = AgentForm.for_edit(request.POST or None, AgentForm.initial_from(profile), "agent")
    saved = saved_redirect(
        request, form,
        lambda: services.agent_profile_update(
            tenant=request.tenant, actor=actor, user_id=user_id,
            changes={**form.changes(), "availability": form.cleaned_data["availability"]},
        ),
        done=lambda: f"{name}'s routing saved.",
        to="workspace:settings_teams", errors=add_routing_errors,
    )  # fmt: skip
    if saved:
        return saved
    return form_page(
        request,
        "workspace/settings/routing_agent_edit.html",
        {"form": form, "agent_name": name, "channels": Channel.choices},
        form,
    )


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
    return redirect_to(request, "settings_teams")


# --- business hours -------------------------------------------------------------------------


@admin_required
def settings_business_hours(request: TenantRequest) -> HttpResponse:
    actor = _actor(request)
    form = BusinessHoursForm(request.POST or None)
    saved = saved_redirect(
        request,
        form,
        lambda: services.business_hours_create(tenant=request.tenant, actor=actor, **form.values()),
        done=lambda: f"Business hours {form.cleaned_data['name']} saved.",
        to="workspace:settings_business_hours",
        errors=add_routing_errors,
    )
    if saved:
        return saved
    rows = selectors.business_hours_list(tenant=request.tenant, actor=actor).order_by("name")
    teams = selectors.team_list(tenant=request.tenant, actor=actor).select_related(
        "business_hours", "handover_team"
    )
    return form_page(
        request,
        "workspace/settings/routing_hours.html",
        {"form": form, "calendars": rows, "coverage": teams},
        form,
    )


def _hours(request: TenantRequest, hours_id: int) -> BusinessHours:
    return found_or_404(
        selectors.business_hours_get(
            tenant=request.tenant, actor=_actor(request), hours_id=hours_id
        ),
        "No such business hours.",
    )


@admin_required
def business_hours_edit(request: TenantRequest, business_hours_id: int) -> HttpResponse:
    hours = _hours(request, business_hours_id)
    form = BusinessHoursForm.for_edit(
        request.POST or None, BusinessHoursForm.initial_from(hours), "calendar"
    )
    saved = saved_redirect(
        request,
        form,
        lambda: services.business_hours_update(
            tenant=request.tenant, actor=_actor(request), hours=hours, changes=form.values()
        ),
        done=lambda: f"Business hours {form.cleaned_data['name']} saved.",
        to="workspace:settings_business_hours",
        errors=add_routing_errors,
    )
    if saved:
        return saved
    return form_page(
        request, "workspace/settings/routing_hours_edit.html", {"form": form, "hours": hours}, form
    )


@admin_required
@require_POST
def business_hours_delete(request: TenantRequest, business_hours_id: int) -> HttpResponse:
    hours = _hours(request, business_hours_id)
    return delete_through_service(
        request,
        lambda: services.business_hours_delete(
            tenant=request.tenant, actor=_actor(request), hours=hours
        ),
        done=f"Business hours {hours.name} deleted.",
        to="workspace:settings_business_hours",
    )
