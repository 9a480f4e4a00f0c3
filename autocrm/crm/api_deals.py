"""Pipelines, leads and deals, the forecast and lead scoring API (thin: parse -> selector or
service -> schema)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from autocrm.core.actors import Actor
from autocrm.core.api import Cursor, Limit, get_or_404, keyset_response, page_of, tenant_and_actor
from autocrm.core.models import Tenant
from autocrm.crm import scoring, selectors_deals, services
from autocrm.crm.models import Deal, DealAssignmentRule, Pipeline, ScoringRule
from autocrm.crm.schemas_deals import (
    DealAssignmentRuleIn,
    DealAssignmentRuleOut,
    DealAssignmentRuleUpdateIn,
    DealCloseIn,
    DealIn,
    DealListFilters,
    DealMoveIn,
    DealOut,
    DealUpdateIn,
    ForecastFilters,
    ForecastOut,
    PipelineIn,
    PipelineOut,
    PipelineUpdateIn,
    ScoringOut,
    ScoringRulesIn,
)
from autocrm.crm.services import StageInput

router = Router(tags=["deals"])


def _pipeline(tenant: Tenant, actor: Actor, pipeline_id: int) -> Pipeline:
    return get_or_404(
        selectors_deals.pipeline_get(tenant=tenant, actor=actor, pipeline_id=pipeline_id),
        "pipeline",
    )


def _deal(tenant: Tenant, actor: Actor, deal_id: int) -> Deal:
    return get_or_404(selectors_deals.deal_get(tenant=tenant, actor=actor, deal_id=deal_id), "deal")


def _stages(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("stages") is not None:
        values["stages"] = [StageInput(**s) for s in values["stages"]]
    return values


@router.get("/pipelines", response=page_of(PipelineOut), tags=["pipelines"], summary="Pipelines")
def pipelines_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors_deals.pipeline_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("position", "id"), cursor=cursor, limit=limit)


@router.post(
    "/pipelines", response={201: PipelineOut}, tags=["pipelines"], summary="Create a pipeline"
)
def pipelines_create(request: HttpRequest, payload: PipelineIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    pipeline = services.pipeline_create(tenant=tenant, actor=actor, **_stages(payload.model_dump()))
    return Status(201, _pipeline(tenant, actor, pipeline.pk))


@router.get(
    "/pipelines/{pipeline_id}", response=PipelineOut, tags=["pipelines"], summary="A pipeline"
)
def pipelines_get(request: HttpRequest, pipeline_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _pipeline(tenant, actor, pipeline_id)


@router.patch(
    "/pipelines/{pipeline_id}",
    response=PipelineOut,
    tags=["pipelines"],
    summary="Rename, reorder, or change the stages of a pipeline",
)
def pipelines_update(request: HttpRequest, pipeline_id: int, payload: PipelineUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    pipeline = services.pipeline_update(
        tenant=tenant,
        actor=actor,
        pipeline=_pipeline(tenant, actor, pipeline_id),
        changes=_stages(payload.model_dump(exclude_unset=True)),
    )
    return _pipeline(tenant, actor, pipeline.pk)


@router.delete(
    "/pipelines/{pipeline_id}",
    response={204: None},
    tags=["pipelines"],
    summary="Delete an empty pipeline",
)
def pipelines_delete(request: HttpRequest, pipeline_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.pipeline_delete(
        tenant=tenant, actor=actor, pipeline=_pipeline(tenant, actor, pipeline_id)
    )
    return Status(204, None)


@router.get("/deals", response=page_of(DealOut), summary="List or search leads and deals")
def deals_list(
    request: HttpRequest,
    params: Query[DealListFilters],
    cursor: str | None = Cursor,
    limit: int = Limit,
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    filters = selectors_deals.DealFilters(
        q=params.q,
        pipeline_id=params.pipeline_id,
        stage_id=params.stage_id,
        status=params.status or "",
        kind=params.kind or "",
        owner=params.owner or "",
        contact_id=params.contact_id,
        company_id=params.company_id,
        close_after=params.close_after,
        close_before=params.close_before,
    )
    rows = selectors_deals.deal_list(tenant=tenant, actor=actor, filters=filters)
    ordering = selectors_deals.DEAL_ORDERINGS[params.sort]
    return keyset_response(rows, ordering=ordering, cursor=cursor, limit=limit)


@router.post("/deals", response={201: DealOut}, summary="Create a lead or deal")
def deals_create(request: HttpRequest, payload: DealIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "write")
    deal = services.deal_create(tenant=tenant, actor=actor, **payload.model_dump())
    return Status(201, _deal(tenant, actor, deal.pk))


@router.get("/deals/forecast", response=ForecastOut, summary="Weighted forecast")
def deals_forecast(request: HttpRequest, params: Query[ForecastFilters]) -> dict[str, Any]:
    """Per month of the expected close date, owner and currency: open amounts, amounts
    weighted by stage probability, and amounts won (in the month they closed)."""
    tenant, actor = tenant_and_actor(request, "read")
    result = selectors_deals.forecast(
        tenant=tenant,
        actor=actor,
        start=params.start or timezone.localdate(),
        months=params.months,
        pipeline_id=params.pipeline_id,
        owner=params.owner or "",
    )
    owners = _owners(tenant, {r.owner_id for r in result.rows})
    return {
        "months": result.months,
        "rows": [
            {
                "month": r.month,
                "owner": owners.get(r.owner_id) if r.owner_id else None,
                "currency": r.currency,
                "deals": r.deals,
                "open_amount": r.open_amount,
                "weighted_amount": r.weighted_amount,
                "won_amount": r.won_amount,
            }
            for r in result.rows
        ],
        "totals": [
            {
                "currency": currency,
                "open_amount": t["open"],
                "weighted_amount": t["weighted"],
                "won_amount": t["won"],
            }
            for currency, t in sorted(result.totals.items())
        ],
    }


def _owners(tenant: Tenant, ids: set[int | None]) -> dict[int, dict[str, Any]]:
    from autocrm.accounts.models import Membership

    rows = Membership.objects.filter(tenant=tenant, user_id__in=[i for i in ids if i])
    return {
        m.user_id: {"id": m.user_id, "email": m.user.email, "name": m.user.name}
        for m in rows.select_related("user")
    }


@router.get("/deals/scoring", response=ScoringOut, summary="Lead scoring rules and model")
def deals_scoring(request: HttpRequest) -> dict[str, Any]:
    tenant, _actor = tenant_and_actor(request, "read")
    return _scoring(tenant)


def _scoring(tenant: Tenant) -> dict[str, Any]:
    return {
        "rules": list(ScoringRule.objects.filter(tenant=tenant).order_by("id")),
        "model": scoring.latest_model(tenant),
    }


@router.put("/deals/scoring/rules", response=ScoringOut, summary="Replace the scoring rules")
def deals_scoring_rules(request: HttpRequest, payload: ScoringRulesIn) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    scoring.scoring_rules_set(
        tenant=tenant, actor=actor, rules=[r.model_dump() for r in payload.rules]
    )
    return _scoring(tenant)


@router.post(
    "/deals/scoring/train",
    response=ScoringOut,
    summary="Train the scoring model on won and lost deals",
    description="A logistic regression (scikit-learn) over the closed deals; every open "
    "deal is rescored. The worker also retrains nightly.",
)
def deals_scoring_train(request: HttpRequest) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    scoring.scoring_model_train(tenant=tenant, actor=actor)
    return _scoring(tenant)


def _rule(tenant: Tenant, actor: Actor, rule_id: int) -> DealAssignmentRule:
    rules = selectors_deals.deal_assignment_rule_list(tenant=tenant, actor=actor)
    return get_or_404(rules.filter(pk=rule_id).first(), "assignment rule")


@router.get(
    "/deals/assignment-rules",
    response=list[DealAssignmentRuleOut],
    summary="Deal assignment rules",
    description="Who a new lead or deal without an owner goes to: the first active rule "
    "(by position) whose conditions all hold, its users in turn.",
)
def deal_rules_list(request: HttpRequest) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return list(selectors_deals.deal_assignment_rule_list(tenant=tenant, actor=actor)[:200])


@router.post(
    "/deals/assignment-rules",
    response={201: DealAssignmentRuleOut},
    summary="Create a deal assignment rule",
)
def deal_rules_create(request: HttpRequest, payload: DealAssignmentRuleIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    rule = services.deal_assignment_rule_create(tenant=tenant, actor=actor, **payload.model_dump())
    return Status(201, rule)


@router.patch(
    "/deals/assignment-rules/{deal_assignment_rule_id}",
    response=DealAssignmentRuleOut,
    summary="Change a deal assignment rule",
)
def deal_rules_update(
    request: HttpRequest, deal_assignment_rule_id: int, payload: DealAssignmentRuleUpdateIn
) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return services.deal_assignment_rule_update(
        tenant=tenant,
        actor=actor,
        rule=_rule(tenant, actor, deal_assignment_rule_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/deals/assignment-rules/{deal_assignment_rule_id}",
    response={204: None},
    summary="Delete a deal assignment rule",
)
def deal_rules_delete(request: HttpRequest, deal_assignment_rule_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.deal_assignment_rule_delete(
        tenant=tenant, actor=actor, rule=_rule(tenant, actor, deal_assignment_rule_id)
    )
    return Status(204, None)


@router.get("/deals/{deal_id}", response=DealOut, summary="Get a lead or deal")
def deals_get(request: HttpRequest, deal_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _deal(tenant, actor, deal_id)


@router.patch("/deals/{deal_id}", response=DealOut, summary="Change a lead or deal")
def deals_update(request: HttpRequest, deal_id: int, payload: DealUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    deal = services.deal_update(
        tenant=tenant,
        actor=actor,
        deal=_deal(tenant, actor, deal_id),
        changes=payload.model_dump(exclude_unset=True),
    )
    return _deal(tenant, actor, deal.pk)


@router.post("/deals/{deal_id}/move", response=DealOut, summary="Move a card on the board")
def deals_move(request: HttpRequest, deal_id: int, payload: DealMoveIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    services.deal_move(
        tenant=tenant,
        actor=actor,
        deal=_deal(tenant, actor, deal_id),
        stage_id=payload.stage_id,
        before_id=payload.before_id,
    )
    return _deal(tenant, actor, deal_id)


@router.post("/deals/{deal_id}/close", response=DealOut, summary="Win, lose or reopen a deal")
def deals_close(request: HttpRequest, deal_id: int, payload: DealCloseIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    services.deal_close(
        tenant=tenant,
        actor=actor,
        deal=_deal(tenant, actor, deal_id),
        status=payload.status,
        reason=payload.reason,
    )
    return _deal(tenant, actor, deal_id)


@router.post("/deals/{deal_id}/convert", response=DealOut, summary="Turn a lead into a deal")
def deals_convert(request: HttpRequest, deal_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    services.deal_convert(tenant=tenant, actor=actor, deal=_deal(tenant, actor, deal_id))
    return _deal(tenant, actor, deal_id)


@router.delete("/deals/{deal_id}", response={204: None}, summary="Delete a lead or deal")
def deals_delete(request: HttpRequest, deal_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.deal_delete(tenant=tenant, actor=actor, deal=_deal(tenant, actor, deal_id))
    return Status(204, None)
