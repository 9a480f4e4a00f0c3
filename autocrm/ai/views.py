"""Agent pages of the AI app: the AI dashboard (``/<tenant>/agent/ai/``), the triage review
queue (``/<tenant>/agent/ai/review/``), retraining on demand and a ticket's summary (asked
for from the ticket's AI panel). The ticket page's AI panel is
``templates/workspace/agent/_sidebar_ai.html``, filled by :func:`sidebar_context`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from autocrm.accounts.access import TenantRequest, admin_required, staff_required
from autocrm.ai import selectors
from autocrm.ai.dashboard import ai_dashboard
from autocrm.ai.forms import AISettingsForm
from autocrm.ai.models import TriageResult
from autocrm.ai.services.ai_settings import ai_settings_update
from autocrm.ai.services.summaries import ticket_summary
from autocrm.ai.services.triage import TriageError, triage_review
from autocrm.ai.services.usage import llm_monthly_budget, llm_spent_this_month
from autocrm.ai.tasks import triage_train
from autocrm.core.actors import Actor
from autocrm.routing.selectors import team_names
from autocrm.tickets import selectors as ticket_selectors
from autocrm.tickets.models import Priority, Ticket
from autocrm.workspace.common import actor_for, assignable_agents
from autocrm.workspace.settings_pages import form_page, saved_from_post

FIELD_LABELS = {
    "category": "Category",
    "priority": "Priority",
    "team_id": "Team",
    "assignee_id": "Assignee",
}


def _display(field: str, value: Any, teams: dict[int, str], agents: dict[int, str]) -> str:
    if field == "priority":
        return Priority(int(value)).label.capitalize()
    if field == "team_id":
        return teams.get(int(value), f"team {value}")
    if field == "assignee_id":
        return agents.get(int(value), f"user {value}")
    return str(value)


def _rows(result: TriageResult, teams: dict[int, str], agents: dict[int, str]) -> list[dict]:
    return [
        {
            "field": field,
            "label": FIELD_LABELS.get(field, field),
            "value": suggestion["value"],
            "display": _display(field, suggestion["value"], teams, agents),
            "confidence": suggestion["confidence"],
            "in_scope": suggestion["in_scope"],
        }
        for field, suggestion in result.suggestions.items()
    ]


def _names(request: TenantRequest, actor: Actor) -> tuple[dict[int, str], dict[int, str]]:
    teams = dict(team_names(tenant=request.tenant, actor=actor))
    agents = dict(assignable_agents(request))
    return teams, agents


def sidebar_context(request: TenantRequest, ticket: Ticket) -> dict[str, Any]:
    """What the ticket page's AI panel shows about triage."""
    actor = actor_for(request)
    result = selectors.triage_for_ticket(tenant=request.tenant, actor=actor, ticket_id=ticket.pk)
    if result is None:
        return {"ai_triage": None}
    teams, agents = _names(request, actor)
    return {"ai_triage": result, "ai_triage_rows": _rows(result, teams, agents)}


@staff_required
def review_queue(request: TenantRequest) -> HttpResponse:
    actor = actor_for(request)
    teams, agents = _names(request, actor)
    results = selectors.review_queue(tenant=request.tenant, actor=actor)
    models = selectors.triage_models(tenant=request.tenant, actor=actor)[:1]
    model = models[0] if models else None
    labels = (model.fields.get("category", {}).get("labels", []) if model else []) or []
    return render(
        request,
        "workspace/ai/review.html",
        {
            "items": [(r, _rows(r, teams, agents)) for r in results],
            "total": selectors.review_queue_size(tenant=request.tenant, actor=actor),
            "model": model,
            "categories": labels,
            "priorities": [(value, label.capitalize()) for value, label in Priority.choices],
            "teams": sorted(teams.items(), key=lambda t: t[1]),
            "agents": sorted(agents.items(), key=lambda a: a[1]),
            "can_review": actor.role != "light_agent",
        },
    )


@staff_required
@require_POST
def review_decide(request: TenantRequest, result_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    values = {
        field: request.POST.get(field, "").strip()
        for field in ("category", "priority", "team_id", "assignee_id")
    }
    try:
        triage_review(
            tenant=request.tenant,
            actor=actor_for(request),
            result_id=result_id,
            decision=decision,
            values=values,
        )
    except TriageResult.DoesNotExist:
        messages.error(request, "That suggestion no longer exists.")
    except TriageError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Saved.")
    return redirect("workspace:ai_review", tenant_slug=request.tenant.slug)


@admin_required
@require_POST
def retrain(request: TenantRequest) -> HttpResponse:
    if actor_for(request).role not in ("owner", "admin"):
        raise PermissionDenied
    triage_train.defer(tenant_id=request.tenant.pk)
    messages.success(request, "Training started; the new model is used as soon as it is ready.")
    return redirect("workspace:ai_review", tenant_slug=request.tenant.slug)


@admin_required
def settings_ai(request: TenantRequest) -> HttpResponse:
    """Settings → AI: triage on or off, its confidence threshold, the monthly LLM budget."""
    tenant, actor = request.tenant, actor_for(request)
    current = selectors.ai_settings_get(tenant=tenant, actor=actor)
    form = AISettingsForm(
        request.POST or None,
        initial={
            "triage_enabled": current.triage_enabled,
            "triage_threshold": current.triage_threshold,
            "llm_monthly_budget": current.llm_monthly_budget,
        },
    )
    if saved_from_post(
        request, form, lambda: ai_settings_update(tenant=tenant, actor=actor, **form.cleaned_data)
    ):
        messages.success(request, "AI settings saved.")
        return redirect("workspace:settings_ai", tenant_slug=tenant.slug)
    return form_page(
        request,
        "workspace/settings/ai.html",
        {
            "form": form,
            "budget": llm_monthly_budget(tenant),
            "spent": llm_spent_this_month(tenant),
            "model": selectors.triage_models(tenant=tenant, actor=actor).first(),
        },
        form,
    )


@staff_required
@require_POST
def summary(request: TenantRequest, number: int) -> HttpResponse:
    """The AI panel's summary of one ticket (an htmx fragment). POST: with an LLM it costs
    tokens, so a link prefetch or a crawler never triggers it."""
    actor = actor_for(request)
    try:
        ticket = ticket_selectors.ticket_get_by_number(
            tenant=request.tenant, actor=actor, number=number
        )
    except Ticket.DoesNotExist as exc:
        raise Http404("No such ticket.") from exc
    result = ticket_summary(tenant=request.tenant, actor=actor, ticket=ticket)
    return render(request, "workspace/ai/_summary.html", {"summary": result, "ticket": ticket})


DASHBOARD_PERIODS = (7, 30, 90)


@staff_required
def dashboard(request: TenantRequest) -> HttpResponse:
    """Triage accuracy against agents' final values, the review queue, suggested replies'
    acceptance, the assistant's deflection, latency and LLM spend against the budget, over
    the last 7, 30 or 90 days."""
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in DASHBOARD_PERIODS:
        days = 30
    data = ai_dashboard(tenant=request.tenant, actor=actor_for(request), days=days)
    accuracy_rows = [
        {"label": FIELD_LABELS[name], **values}
        for name, values in data.accuracy.items()
        if values["compared"]
    ]
    unit = "day" if days <= 31 else "week"  # as the dashboard buckets its series
    return render(
        request,
        "workspace/ai/dashboard.html",
        {
            "d": data,
            "periods": DASHBOARD_PERIODS,
            "accuracy_rows": accuracy_rows,
            "chatbot_caption": f"Assistant conversations per {unit}: answered without a "
            "hand-off, handed off, not answered",
            "llm_latency_caption": f"LLM latency per {unit}: p95 of the calls that answered "
            "(p50 in each bar's label)",
            "llm_cost_caption": f"LLM cost per {unit} (tokens and calls in each bar's label)",
        },
    )
