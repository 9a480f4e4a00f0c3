"""Settings → Sales lists (owners and admins): activity templates and deal assignment rules,
listed, created, edited, deleted, and the rules put in order (the first matching rule wins).
Reads through the CRM selectors, writes through the CRM services (which append the events)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, admin_required
from autocrm.crm import selectors_activities, selectors_deals, services
from autocrm.crm.forms_settings import ActivityTemplateForm, DealAssignmentRuleForm
from autocrm.crm.models import ActivityTemplate, DealAssignmentRule, DealKind
from autocrm.workspace.common import actor_for, assignable_agents, found_or_404
from autocrm.workspace.settings_pages import delete_through_service, form_page, saved_redirect

# --- activity templates -----------------------------------------------------------------------


def _template(request: TenantRequest, template_id: int) -> ActivityTemplate:
    return found_or_404(
        selectors_activities.activity_template_get(
            tenant=request.tenant, actor=actor_for(request), template_id=template_id
        ),
        "No such activity template.",
    )


@admin_required
def activity_templates(request: TenantRequest) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    form = ActivityTemplateForm(request.POST or None)
    saved = saved_redirect(
        request,
        form,
        lambda: services.activity_template_create(tenant=tenant, actor=actor, **form.values()),
        done=lambda: f"The template “{form.cleaned_data['name']}” was saved.",
        to="workspace:crm_settings_templates",
    )
    if saved:
        return saved
    rows = list(selectors_activities.activity_template_list(tenant=tenant, actor=actor)[:500])
    return form_page(
        request, "workspace/settings/sales_templates.html", {"form": form, "templates": rows}, form
    )


@admin_required
def activity_template_edit(request: TenantRequest, template_id: int) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    template = _template(request, template_id)
    form = ActivityTemplateForm.for_edit(
        request.POST or None, ActivityTemplateForm.values_of(template), "template"
    )
    saved = saved_redirect(
        request,
        form,
        lambda: services.activity_template_update(
            tenant=tenant, actor=actor, template=template, changes=form.values()
        ),
        done=lambda: f"The template “{form.cleaned_data['name']}” was saved.",
        to="workspace:crm_settings_templates",
    )
    if saved:
        return saved
    return form_page(
        request,
        "workspace/settings/sales_template_edit.html",
        {"form": form, "template": template},
        form,
    )


@admin_required
@require_POST
def activity_template_delete(request: TenantRequest, template_id: int) -> HttpResponse:
    template = _template(request, template_id)
    return delete_through_service(
        request,
        lambda: services.activity_template_delete(
            tenant=request.tenant, actor=actor_for(request), template=template
        ),
        done=f"The template “{template.name}” was deleted.",
        to="workspace:crm_settings_templates",
    )


# --- deal assignment rules --------------------------------------------------------------------


def _rule(request: TenantRequest, rule_id: int) -> DealAssignmentRule:
    rules = selectors_deals.deal_assignment_rule_list(
        tenant=request.tenant, actor=actor_for(request)
    )
    return found_or_404(rules.filter(pk=rule_id).first(), "No such assignment rule.")


def _choices(request: TenantRequest) -> dict[str, list[tuple[int, str]]]:
    """The rule form's pipelines and people (one query each)."""
    pipelines = selectors_deals.pipeline_list(tenant=request.tenant, actor=actor_for(request))
    return {
        "pipelines": [(p.pk, p.name) for p in pipelines],
        "people": assignable_agents(request),
    }


def describe_rule(rule: DealAssignmentRule, pipelines: dict[int, str]) -> list[str]:
    """A rule's conditions in words ("Pipeline: Sales", "Amount at least 10,000.00")."""
    out = []
    if rule.pipeline_id is not None:
        out.append(f"Pipeline: {pipelines.get(rule.pipeline_id, 'a removed pipeline')}")
    if rule.kind:
        out.append(f"Only {DealKind(rule.kind).label.lower()}s")
    if rule.min_amount is not None:
        out.append(f"Amount at least {rule.min_amount:,.2f}")
    if rule.contact_tag:
        out.append(f"Contact tagged “{rule.contact_tag}”")
    return out or ["Every new lead and deal"]


@admin_required
def assignment_rules(request: TenantRequest) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    choices = _choices(request)
    form = DealAssignmentRuleForm(request.POST or None, **choices)
    saved = saved_redirect(
        request,
        form,
        lambda: services.deal_assignment_rule_create(tenant=tenant, actor=actor, **form.values()),
        done=lambda: f"The rule “{form.cleaned_data['name']}” was saved.",
        to="workspace:crm_settings_assignment",
    )
    if saved:
        return saved
    rules = list(selectors_deals.deal_assignment_rule_list(tenant=tenant, actor=actor)[:200])
    pipelines, people = dict(choices["pipelines"]), dict(choices["people"])
    context = {
        "form": form,
        "rules": [
            (
                r,
                describe_rule(r, pipelines),
                [people.get(u, "a former member") for u in r.user_ids],
            )
            for r in rules
        ],
    }
    return form_page(request, "workspace/settings/sales_rules.html", context, form)


@admin_required
def assignment_rule_edit(request: TenantRequest, rule_id: int) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    rule = _rule(request, rule_id)
    form = DealAssignmentRuleForm.for_edit(
        request.POST or None, DealAssignmentRuleForm.values_of(rule), "rule", **_choices(request)
    )
    saved = saved_redirect(
        request,
        form,
        lambda: services.deal_assignment_rule_update(
            tenant=tenant, actor=actor, rule=rule, changes=form.values()
        ),
        done=lambda: f"The rule “{form.cleaned_data['name']}” was saved.",
        to="workspace:crm_settings_assignment",
    )
    if saved:
        return saved
    return form_page(
        request, "workspace/settings/sales_rule_edit.html", {"form": form, "rule": rule}, form
    )


@admin_required
@require_POST
def assignment_rule_delete(request: TenantRequest, rule_id: int) -> HttpResponse:
    rule = _rule(request, rule_id)
    return delete_through_service(
        request,
        lambda: services.deal_assignment_rule_delete(
            tenant=request.tenant, actor=actor_for(request), rule=rule
        ),
        done=f"The rule “{rule.name}” was deleted.",
        to="workspace:crm_settings_assignment",
    )


@admin_required
@require_POST
def assignment_rule_move(request: TenantRequest, rule_id: int) -> HttpResponse:
    """One place up or down (``direction``); the rules are renumbered 0, 1, 2..."""
    tenant, actor = request.tenant, actor_for(request)
    rule = _rule(request, rule_id)
    ids = list(
        selectors_deals.deal_assignment_rule_list(tenant=tenant, actor=actor).values_list(
            "pk", flat=True
        )
    )
    at = ids.index(rule.pk)
    to = at - 1 if request.POST.get("direction") == "up" else at + 1
    if 0 <= to < len(ids):
        ids[at], ids[to] = ids[to], ids[at]
        services.deal_assignment_rules_reorder(tenant=tenant, actor=actor, rule_ids=ids)
        messages.success(request, f"“{rule.name}” is now rule {to + 1} of {len(ids)}.")
    return redirect("workspace:crm_settings_assignment", tenant.slug)
