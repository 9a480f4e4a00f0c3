"""URLs of the routing settings pages (included by ``workspace.urls``): teams and agents,
business hours and coverage, SLA policies, triggers and automations, and a ticket's log of
rules fired. Ids are named after their model (``trigger_id``, ``sla_policy_id``), so the
cross-tenant page walk (core.tests.test_cross_tenant) opens them with another tenant's rows."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from autocrm.workspace import routing_rule_views as rules
from autocrm.workspace import routing_views as teams

# The kinds of ordered rule: URL prefix, id parameter.
RULE_KINDS = {
    "sla": ("settings/sla", "sla_policy_id"),
    "trigger": ("settings/rules/triggers", "trigger_id"),
    "automation": ("settings/rules/automations", "automation_id"),
}


def _of_kind(view: Callable[..., HttpResponse], kind: str, param: str) -> Callable[..., Any]:
    """``view(request, kind=, rule_id=)`` behind a URL whose id is named ``param``."""

    @wraps(view)
    def adapted(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return view(request, kind=kind, rule_id=kwargs.pop(param), **kwargs)

    return adapted


def _rule_urls() -> list[URLPattern]:
    urls = []
    for kind, (prefix, param) in RULE_KINDS.items():
        edit = rules.sla_edit if kind == "sla" else rules.rule_edit
        for suffix, view in (
            ("", edit),
            ("delete/", rules.rule_delete),
            ("move/", rules.rule_move),
            ("toggle/", rules.rule_toggle),
        ):
            name = f"{kind}_{suffix.rstrip('/') or 'edit'}"
            urls.append(
                path(f"{prefix}/<int:{param}>/{suffix}", _of_kind(view, kind, param), name=name)
            )
    return urls


urlpatterns = [
    path("settings/teams/", teams.settings_teams, name="settings_teams"),
    path("settings/teams/<int:team_id>/", teams.team_edit, name="team_edit"),
    path("settings/teams/<int:team_id>/delete/", teams.team_delete, name="team_delete"),
    path("settings/agents/<int:user_id>/", teams.agent_edit, name="agent_edit"),
    path("settings/availability/", teams.availability_set, name="availability_set"),
    path("settings/business-hours/", teams.settings_business_hours, name="settings_business_hours"),
    path(
        "settings/business-hours/<int:business_hours_id>/",
        teams.business_hours_edit,
        name="business_hours_edit",
    ),
    path(
        "settings/business-hours/<int:business_hours_id>/delete/",
        teams.business_hours_delete,
        name="business_hours_delete",
    ),
    path("settings/sla/", rules.settings_sla, name="settings_sla"),
    path("settings/rules/", rules.settings_rules, name="settings_rules"),
    path("settings/rules/preview/", rules.rules_preview, name="rules_preview"),
    *_rule_urls(),
    path("agent/tickets/<int:number>/rules/", rules.ticket_rule_log, name="agent_ticket_rule_log"),
]
