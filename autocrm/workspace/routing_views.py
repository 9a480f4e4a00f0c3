"""Routing settings pages: teams, agents' routing profiles and availability, business hours
(SLA policies, triggers and automations: ``routing_rule_views``). Thin: forms -> routing
services/selectors; owners and admins change, agents only read and set their availability."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
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
from autocrm.workspace.common import staff_members
from autocrm.workspace.routing_forms import (
    AgentForm,
    BusinessHoursForm,
    TeamForm,
    add_routing_errors,
)
from autocrm.workspace.settings_forms import FingerprintForm, fingerprint

staff_required = tenant_member_required(roles=STAFF)
F = TypeVar("F", bound=FingerprintForm)


def redirect_to(request: TenantRequest, name: str) -> HttpResponse:
    return redirect(f"workspace:{name}", tenant_slug=request.tenant.slug)


def render_form_page(
    request: TenantRequest, template: str, context: dict[str, Any]
) -> HttpResponse:
    form = context.get("form")
    return render(request, template, context, status=400 if form and form.errors else 200)


def save_edit(
    request: TenantRequest,
    form: F,
    *,
    current: dict[str, Any],
    what: str,
    save: Callable[[], Any],
    **form_kwargs: Any,
) -> tuple[F, bool]:
    """The edit pages' POST: refuse a stale form (someone saved meanwhile: the form comes
    back with their values and says so), else save through the service, its refusals
    becoming form errors. Returns the form to show and whether it was saved.
    ``form_kwargs``: what the form's class takes besides data (choices)."""
    if request.method != "POST" or not form.is_valid():
        return form, False
    if form.is_stale(fingerprint(current)):
        return type(form).stale(with_fingerprint(current), what, **form_kwargs), False
    try:
        save()
    except ValidationError as exc:
        add_routing_errors(form, exc)
        return form, False
    return form, True


def with_fingerprint(initial: dict[str, Any]) -> dict[str, Any]:
    return {**initial, "fingerprint": fingerprint(initial)}


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
    if request.method == "POST":
        if not actor.is_admin:
            raise PermissionDenied("Only owners and admins can create teams.")
        if form.is_valid():
            try:
                services.team_create(
                    tenant=request.tenant, actor=actor, member_ids=form.cleaned_data["members"],
                    **form.changes(),
                )  # fmt: skip
            except ValidationError as exc:
                add_routing_errors(form, exc)
            else:
                messages.success(request, f"Team {form.cleaned_data['name']} created.")
                return redirect_to(request, "settings_teams")
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
    return render_form_page(request, "workspace/settings/routing_teams.html", {
        "form": form, "teams": teams, "can_admin": actor.is_admin, "agents": _agents(request),
        "my_availability": me.availability if me else Availability.OFFLINE,
        "availabilities": Availability.choices,
    })  # fmt: skip


def _team(request: TenantRequest, team_id: int) -> Team:
    team = selectors.team_get(tenant=request.tenant, actor=_actor(request), team_id=team_id)
    if team is None:
        raise Http404("No such team.")
    return team


@admin_required
def team_edit(request: TenantRequest, team_id: int) -> HttpResponse:
    actor = _actor(request)
    team = _team(request, team_id)
    member_ids = selectors.team_member_ids(tenant=request.tenant, actor=actor, team_ids=[team.pk])
    current = TeamForm.initial_from(team, member_ids[team.pk])
    initial = with_fingerprint(current)
    choices = _team_choices(request, team)
    form = TeamForm(request.POST or None, initial=initial, **choices)

    def save() -> None:
        services.team_update(
            tenant=request.tenant, actor=actor, team=team, changes=form.changes(),
            member_ids=form.cleaned_data["members"],
        )  # fmt: skip

    form, saved = save_edit(
        request, form, current=current, what="team", save=save,
        **choices,
    )  # fmt: skip
    if saved:
        messages.success(request, f"Team {form.cleaned_data['name']} saved.")
        return redirect_to(request, "settings_teams")
    inboxes = inbox_selectors.inbox_list(tenant=request.tenant, actor=actor).filter(
        default_team=team
    )
    return render_form_page(
        request,
        "workspace/settings/routing_team_edit.html",
        {"form": form, "team": team, "inboxes": inboxes},
    )


@admin_required
@require_POST
def team_delete(request: TenantRequest, team_id: int) -> HttpResponse:
    team = _team(request, team_id)
    services.team_delete(tenant=request.tenant, actor=_actor(request), team=team)
    messages.success(request, f"Team {team.name} deleted.")
    return redirect_to(request, "settings_teams")


# --- agents ---------------------------------------------------------------------------------


@admin_required
def agent_edit(request: TenantRequest, user_id: int) -> HttpResponse:
    actor = _actor(request)
    name = dict(staff_members(request)).get(user_id)
    if name is None:
        raise Http404("No such staff member.")
    profile = selectors.agent_get(tenant=request.tenant, actor=actor, user_id=user_id)
    profile = profile or AgentProfile(tenant=request.tenant, user_id=user_id)  # defaults
    current = AgentForm.initial_from(profile)
    form = AgentForm(request.POST or None, initial=with_fingerprint(current))

    def save() -> None:
        services.agent_profile_update(
            tenant=request.tenant, actor=actor, user_id=user_id,
            changes={**form.changes(), "availability": form.cleaned_data["availability"]},
        )  # fmt: skip

    form, saved = save_edit(
        request, form, current=current, what="agent", save=save,
    )  # fmt: skip
    if saved:
        messages.success(request, f"{name}'s routing saved.")
        return redirect_to(request, "settings_teams")
    return render_form_page(
        request,
        "workspace/settings/routing_agent_edit.html",
        {"form": form, "agent_name": name, "channels": Channel.choices},
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
    if request.method == "POST" and form.is_valid():
        try:
            services.business_hours_create(tenant=request.tenant, actor=actor, **form.values())
        except ValidationError as exc:
            add_routing_errors(form, exc)
        else:
            messages.success(request, f"Business hours {form.cleaned_data['name']} saved.")
            return redirect_to(request, "settings_business_hours")
    rows = selectors.business_hours_list(tenant=request.tenant, actor=actor).order_by("name")
    teams = selectors.team_list(tenant=request.tenant, actor=actor).select_related(
        "business_hours", "handover_team"
    )
    return render_form_page(
        request,
        "workspace/settings/routing_hours.html",
        {"form": form, "calendars": rows, "coverage": teams},
    )


def _hours(request: TenantRequest, hours_id: int) -> BusinessHours:
    row = selectors.business_hours_get(
        tenant=request.tenant, actor=_actor(request), hours_id=hours_id
    )
    if row is None:
        raise Http404("No such business hours.")
    return row


@admin_required
def business_hours_edit(request: TenantRequest, business_hours_id: int) -> HttpResponse:
    hours = _hours(request, business_hours_id)
    current = BusinessHoursForm.initial_from(hours)
    form = BusinessHoursForm(request.POST or None, initial=with_fingerprint(current))

    def save() -> None:
        services.business_hours_update(
            tenant=request.tenant, actor=_actor(request), hours=hours, changes=form.values()
        )

    form, saved = save_edit(
        request, form, current=current, what="calendar", save=save,
    )  # fmt: skip
    if saved:
        messages.success(request, f"Business hours {form.cleaned_data['name']} saved.")
        return redirect_to(request, "settings_business_hours")
    return render_form_page(
        request, "workspace/settings/routing_hours_edit.html", {"form": form, "hours": hours}
    )


@admin_required
@require_POST
def business_hours_delete(request: TenantRequest, business_hours_id: int) -> HttpResponse:
    hours = _hours(request, business_hours_id)
    services.business_hours_delete(tenant=request.tenant, actor=_actor(request), hours=hours)
    messages.success(request, f"Business hours {hours.name} deleted.")
    return redirect_to(request, "settings_business_hours")
