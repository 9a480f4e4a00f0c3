"""The workspace's sales settings (owners and admins): pipelines and their stages, lead
scoring rules and the scoring model. Thin: lines of text in, services out."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from autocrm.accounts.access import TenantRequest, admin_required
from autocrm.crm import scoring, selectors_deals, services
from autocrm.crm.models import Pipeline, ScoringRule, ScoringRuleKind
from autocrm.crm.services import StageInput
from autocrm.workspace.common import actor_for


def stages_text(pipeline: Pipeline) -> str:
    return "\n".join(f"{s.name}, {s.probability}" for s in pipeline.stages.all())


def parse_stages(text: str, pipeline: Pipeline | None = None) -> list[StageInput]:
    """One stage a line, ``Name, probability``; a name the pipeline has keeps that stage."""
    existing = {s.name.lower(): s.pk for s in pipeline.stages.all()} if pipeline else {}
    out = []
    for n, line in enumerate((text or "").splitlines(), 1):
        if not line.strip():
            continue
        name, _, probability = line.rpartition(",")
        if not name.strip():
            name, probability = probability, "0"
        try:
            value = int(probability.strip().rstrip("%") or 0)
        except ValueError:
            raise ValidationError(f"Line {n}: the probability is a number, 0 to 100.") from None
        out.append(StageInput(name.strip(), value, existing.get(name.strip().lower())))
    return out


def rules_text(rules: list[ScoringRule]) -> str:
    return "\n".join(
        ", ".join([r.kind, *([r.value] if r.value else []), f"{r.points:+d}"]) for r in rules
    )


def parse_rules(text: str) -> list[dict[str, Any]]:
    """One rule a line: ``kind, points`` or ``kind, value, points``."""
    out = []
    for n, line in enumerate((text or "").splitlines(), 1):
        parts = [p.strip() for p in line.split(",")]
        if not any(parts):
            continue
        if len(parts) not in (2, 3):
            raise ValidationError(f"Line {n}: write kind, points or kind, value, points.")
        try:
            points = int(parts[-1])
        except ValueError:
            raise ValidationError(f"Line {n}: the points are a whole number.") from None
        out.append(
            {"kind": parts[0], "value": parts[1] if len(parts) == 3 else "", "points": points}
        )
    return out


def _run(request: TenantRequest, action: Any, done: str) -> None:
    try:
        action()
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, done)


@admin_required
def sales_settings(request: TenantRequest) -> HttpResponse:
    tenant, actor = request.tenant, actor_for(request)
    pipelines = list(selectors_deals.pipeline_list(tenant=tenant, actor=actor))
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "pipeline_create":
            _run(
                request,
                lambda: services.pipeline_create(
                    tenant=tenant,
                    actor=actor,
                    name=request.POST.get("name", ""),
                    stages=parse_stages(request.POST.get("stages", "")),
                ),
                "Pipeline created.",
            )
        elif action == "pipeline_update":
            wanted = request.POST.get("pipeline", "")
            pipeline = next((p for p in pipelines if str(p.pk) == wanted), None)
            if pipeline is not None:
                _run(
                    request,
                    lambda: services.pipeline_update(
                        tenant=tenant,
                        actor=actor,
                        pipeline=pipeline,
                        changes={
                            "name": request.POST.get("name", ""),
                            "stages": parse_stages(request.POST.get("stages", ""), pipeline),
                        },
                    ),
                    f"{pipeline.name} saved.",
                )
        elif action == "rules":
            _run(
                request,
                lambda: scoring.scoring_rules_set(
                    tenant=tenant, actor=actor, rules=parse_rules(request.POST.get("rules", ""))
                ),
                "Scoring rules saved; open deals rescored.",
            )
        elif action == "train":
            _run(
                request,
                lambda: scoring.scoring_model_train(tenant=tenant, actor=actor),
                "Model trained; open deals rescored.",
            )
        return redirect("workspace:crm_settings_sales", tenant.slug)
    rules = list(ScoringRule.objects.filter(tenant=tenant).order_by("id"))
    context = {
        "pipelines": [(p, stages_text(p)) for p in pipelines],
        "rules_text": rules_text(rules),
        "rule_kinds": ScoringRuleKind.choices,
        "model": scoring.latest_model(tenant),
    }
    return render(request, "workspace/settings/sales.html", context)
