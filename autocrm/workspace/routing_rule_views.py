"""Settings pages of the ordered routing rules: SLA policies, triggers and automations (list,
create, edit, delete, move up/down, pause) and the dry-run preview. Owners and admins only;
every write through the routing services, which validate exactly as the API does."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, admin_required
from autocrm.routing import selectors, services
from autocrm.routing.models import Automation, SlaPolicy, Trigger
from autocrm.tickets import selectors as ticket_selectors
from autocrm.tickets.models import Ticket
from autocrm.workspace.common import actor_for as _actor
from autocrm.workspace.common import assignable_agents, is_htmx
from autocrm.workspace.routing_forms import (
    EVENT_LABELS,
    RuleForm,
    SlaPolicyForm,
    add_routing_errors,
)
from autocrm.workspace.routing_views import redirect_to, staff_required
from autocrm.workspace.rule_builder import conditions_from_post
from autocrm.workspace.rule_builder_forms import BuilderOptions, RuleBuilderForm
from autocrm.workspace.rule_summary import action_text, rule_summary
from autocrm.workspace.settings_forms import with_fingerprint
from autocrm.workspace.settings_pages import delete_through_service, form_page, saved_redirect

B = TypeVar("B", bound=RuleBuilderForm)
KINDS = ("sla", "trigger", "automation")
LIST_PAGE = {"sla": "settings_sla", "trigger": "settings_rules", "automation": "settings_rules"}
LABEL = {"sla": "SLA policy", "trigger": "Trigger", "automation": "Automation"}
NOUN = {"sla": "SLA policy", "trigger": "trigger", "automation": "automation"}


def _rule(request: TenantRequest, kind: str, rule_id: int) -> SlaPolicy | Trigger | Automation:
    """The SLA policy, trigger or automation ``kind`` + ``rule_id`` names, or a 404."""
    tenant, actor = request.tenant, _actor(request)
    found: SlaPolicy | Trigger | Automation | None = None
    if kind == "sla":
        found = selectors.sla_policy_get(tenant=tenant, actor=actor, policy_id=rule_id)
    elif kind == "trigger":
        found = selectors.trigger_get(tenant=tenant, actor=actor, trigger_id=rule_id)
    elif kind == "automation":
        found = selectors.automation_get(tenant=tenant, actor=actor, automation_id=rule_id)
    if found is None:
        raise Http404(f"No such {LABEL.get(kind, 'rule').lower()}.")
    return found


def _options(request: TenantRequest) -> BuilderOptions:
    return BuilderOptions.load(
        tenant=request.tenant, actor=_actor(request), agents=assignable_agents(request)
    )


def _builder_step(request: TenantRequest, form: B) -> B | None:
    """The form after a builder button (add/remove a row, a field changed, switch editor):
    shown again with nothing saved and nothing validated."""
    step = request.POST.get("builder", "") if request.method == "POST" else ""
    if not step:
        return None
    return form.builder_step(step, trigger_id=request.headers.get("HX-Trigger", ""))


def _company_ids(rules: list[Any]) -> set[int]:
    ids: set[int] = set()
    for rule in rules:
        for cond in rule.conditions:
            if cond.get("field") == "organization_id":
                value = cond.get("value")
                ids.update(
                    v for v in (value if isinstance(value, list) else [value]) if isinstance(v, int)
                )
    return ids


def _summarize(request: TenantRequest, options: BuilderOptions, rules: list[Any]) -> None:
    """Each rule's sentence for the list ("When status is new → add tag vip")."""
    names = options.names(
        tenant=request.tenant, actor=_actor(request), company_ids=_company_ids(rules)
    )
    for rule in rules:
        if isinstance(rule, SlaPolicy):
            when = rule_summary(rule.conditions, rule.match, [], names)
            rule.summary = "Every ticket" if when == "Always" else when  # type: ignore[attr-defined]
            breach = ", ".join(action_text(a, names) for a in rule.escalation)
            rule.on_breach = breach  # type: ignore[attr-defined]
        else:
            rule.summary = rule_summary(rule.conditions, rule.match, rule.actions, names)
            events = [EVENT_LABELS.get(e, e).lower() for e in getattr(rule, "on", None) or []]
            rule.on_text = " or ".join(events)


def _calendars(request: TenantRequest) -> list[tuple[int, str]]:
    rows = selectors.business_hours_list(tenant=request.tenant, actor=_actor(request))
    return list(rows.order_by("name").values_list("pk", "name"))


# --- SLA policies ---------------------------------------------------------------------------


@admin_required
def settings_sla(request: TenantRequest) -> HttpResponse:
    actor, options = _actor(request), _options(request)
    form = SlaPolicyForm(request.POST or None, calendars=_calendars(request), options=options)
    stepped = _builder_step(request, form)
    if stepped is not None:
        form = stepped
    else:
        saved = saved_redirect(
            request,
            form,
            lambda: services.sla_policy_create(tenant=request.tenant, actor=actor, **form.values()),
            done=lambda: f"SLA policy {form.cleaned_data['name']} saved.",
            to="workspace:settings_sla",
            errors=add_routing_errors,
        )
        if saved:
            return saved
    policies = list(
        selectors.sla_policy_list(tenant=request.tenant, actor=actor)
        .select_related("calendar")
        .order_by("position", "id")
    )
    _summarize(request, options, policies)
    return form_page(
        request, "workspace/settings/routing_sla.html", {"form": form, "policies": policies}, form
    )


@admin_required
def sla_edit(request: TenantRequest, kind: str, rule_id: int) -> HttpResponse:
    policy = cast(SlaPolicy, _rule(request, "sla", rule_id))
    calendars, options = _calendars(request), _options(request)
    current = SlaPolicyForm.initial_from(policy)
    form = SlaPolicyForm(
        request.POST or None, initial=with_fingerprint(current), calendars=calendars,
        options=options,
    )  # fmt: skip
    stepped = _builder_step(request, form)
    if stepped is not None:
        form = stepped
    else:
        form = form.unless_stale(current, "SLA policy", calendars=calendars, options=options)
        saved = saved_redirect(
            request, form,
            lambda: services.sla_policy_update(
                tenant=request.tenant, actor=_actor(request), policy=policy, changes=form.values()
            ),
            done=lambda: f"SLA policy {form.cleaned_data['name']} saved.",
            to="workspace:settings_sla", errors=add_routing_errors,
        )  # fmt: skip
        if saved:
            return saved
    return form_page(request, "workspace/settings/routing_rule_edit.html", {
        "form": form, "rule": policy, "kind": "sla", "noun": NOUN["sla"],
        "back": "settings_sla", "preview": True,
    }, form)  # fmt: skip


# --- triggers and automations ---------------------------------------------------------------


@admin_required
def settings_rules(request: TenantRequest) -> HttpResponse:
    actor, options = _actor(request), _options(request)
    form = RuleForm(request.POST or None, options=options)
    stepped = _builder_step(request, form)
    if stepped is not None:
        form = stepped
    else:
        create = {"trigger": services.trigger_create, "automation": services.automation_create}
        saved = saved_redirect(
            request, form,
            lambda: create[form.cleaned_data["kind"]](
                tenant=request.tenant, actor=actor, **form.values()
            ),
            done=lambda: f"{LABEL[form.cleaned_data['kind']]} {form.cleaned_data['name']} saved.",
            to="workspace:settings_rules", errors=add_routing_errors,
        )  # fmt: skip
        if saved:
            return saved
    triggers = list(
        selectors.trigger_list(tenant=request.tenant, actor=actor).order_by("position", "id")
    )
    automations = list(
        selectors.automation_list(tenant=request.tenant, actor=actor).order_by("position", "id")
    )
    _summarize(request, options, [*triggers, *automations])
    return form_page(request, "workspace/settings/routing_rules.html", {
        "form": form, "triggers": triggers, "automations": automations,
    }, form)  # fmt: skip


@admin_required
def rule_edit(request: TenantRequest, kind: str, rule_id: int) -> HttpResponse:
    rule = _rule(request, kind, rule_id)
    current, options = RuleForm.initial_from(rule, kind), _options(request)
    form = RuleForm(
        request.POST or None, initial=with_fingerprint(current), kind=kind, options=options
    )
    stepped = _builder_step(request, form)

    def save() -> None:
        tenant, actor, changes = request.tenant, _actor(request), form.values()
        if isinstance(rule, Trigger):
            services.trigger_update(tenant=tenant, actor=actor, trigger=rule, changes=changes)
        elif isinstance(rule, Automation):
            services.automation_update(tenant=tenant, actor=actor, automation=rule, changes=changes)

    if stepped is not None:
        form = stepped
    else:
        form = form.unless_stale(current, NOUN[kind], kind=kind, options=options)
        saved = saved_redirect(
            request, form, save,
            done=lambda: f"{LABEL[kind]} {form.cleaned_data['name']} saved.",
            to="workspace:settings_rules", errors=add_routing_errors,
        )  # fmt: skip
        if saved:
            return saved
    return form_page(request, "workspace/settings/routing_rule_edit.html", {
        "form": form, "rule": rule, "kind": kind, "noun": NOUN[kind],
        "back": "settings_rules", "preview": True,
    }, form)  # fmt: skip


# --- actions on one rule of any kind --------------------------------------------------------


@admin_required
@require_POST
def rule_delete(request: TenantRequest, kind: str, rule_id: int) -> HttpResponse:
    rule = _rule(request, kind, rule_id)
    tenant, actor = request.tenant, _actor(request)

    def delete() -> None:
        if isinstance(rule, SlaPolicy):
            services.sla_policy_delete(tenant=tenant, actor=actor, policy=rule)
        elif isinstance(rule, Trigger):
            services.trigger_delete(tenant=tenant, actor=actor, trigger=rule)
        else:
            services.automation_delete(tenant=tenant, actor=actor, automation=rule)

    return delete_through_service(
        request,
        delete,
        done=f"{LABEL[kind]} {rule.name} deleted.",
        to=f"workspace:{LIST_PAGE[kind]}",
    )


@admin_required
@require_POST
def rule_move(request: TenantRequest, kind: str, rule_id: int) -> HttpResponse:
    rule = _rule(request, kind, rule_id)
    direction = request.POST.get("direction", "")
    try:
        services.rule_move(
            tenant=request.tenant,
            actor=_actor(request),
            rule=rule,
            direction=direction,  # type: ignore[arg-type]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect_to(request, LIST_PAGE[kind])


@admin_required
@require_POST
def rule_toggle(request: TenantRequest, kind: str, rule_id: int) -> HttpResponse:
    """Pause or resume (SLA policies: deactivate or activate)."""
    rule = _rule(request, kind, rule_id)
    tenant, actor, changes = request.tenant, _actor(request), {"active": not rule.active}
    if isinstance(rule, SlaPolicy):
        services.sla_policy_update(tenant=tenant, actor=actor, policy=rule, changes=changes)
    elif isinstance(rule, Trigger):
        services.trigger_update(tenant=tenant, actor=actor, trigger=rule, changes=changes)
    else:
        services.automation_update(tenant=tenant, actor=actor, automation=rule, changes=changes)
    return redirect_to(request, LIST_PAGE[kind])


@admin_required
@require_POST
def rules_preview(request: TenantRequest) -> HttpResponse:
    """htmx: the open tickets the conditions in the form match now (nothing changes)."""
    error, checked = "", 0
    matches: list[Any] = []
    try:
        conditions = conditions_from_post(request.POST)
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


# --- per-ticket log -------------------------------------------------------------------------

RULE_LOG_LIMIT = 50


@staff_required
def ticket_rule_log(request: TenantRequest, number: int) -> HttpResponse:
    """Which triggers, automations and SLA escalations fired on a ticket, newest first: a
    fragment the ticket page loads when its "Rules fired" panel opens (so the page itself
    pays nothing), or a page of its own."""
    actor = _actor(request)
    try:
        ticket = ticket_selectors.ticket_get_by_number(
            tenant=request.tenant, actor=actor, number=number
        )
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None
    runs = list(
        selectors.rule_runs_for_ticket(
            tenant=request.tenant, actor=actor, ticket_id=ticket.pk
        ).order_by("-created_at", "-id")[: RULE_LOG_LIMIT + 1]
    )
    runs, more = runs[:RULE_LOG_LIMIT], len(runs) > RULE_LOG_LIMIT
    for run in runs:
        run.editable = False  # type: ignore[attr-defined]
    if actor.is_admin:  # link the rules that still exist to their edit pages
        for kind, listing in (
            ("trigger", selectors.trigger_list),
            ("automation", selectors.automation_list),
        ):
            wanted = {run.rule_id for run in runs if run.kind == kind}
            rows = listing(tenant=request.tenant, actor=actor)
            live = set(rows.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else ()
            for run in runs:
                if run.kind == kind:
                    run.editable = run.rule_id in live  # type: ignore[attr-defined]
    context = {"ticket": ticket, "runs": runs, "more": more, "can_admin": actor.is_admin}
    template = "_routing_rule_log.html" if is_htmx(request) else "routing_rule_log.html"
    return render(request, f"workspace/agent/{template}", context)
