"""SLA policies, triggers and automations (with their dry-run preview), and per-ticket views
of what routing did: SLA timers and the log of rules that fired."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from autocrm.core.actors import Actor
from autocrm.core.api import Cursor, Limit, get_or_404, keyset_response, page_of, tenant_and_actor
from autocrm.core.models import Tenant
from autocrm.core.problems import NotFound
from autocrm.routing import selectors, services
from autocrm.routing.models import Automation, SlaPolicy, Trigger
from autocrm.routing.schemas import (
    AutomationIn,
    AutomationOut,
    AutomationUpdateIn,
    PreviewIn,
    PreviewOut,
    RuleRunOut,
    SlaPolicyIn,
    SlaPolicyOut,
    SlaPolicyUpdateIn,
    SlaTimerOut,
    TriggerIn,
    TriggerOut,
    TriggerUpdateIn,
)
from autocrm.tickets import selectors as ticket_selectors
from autocrm.tickets.models import Ticket

router = Router(tags=["routing"])
ORDER = ("position", "id")


def _policy(tenant: Tenant, actor: Actor, sla_policy_id: int) -> SlaPolicy:
    got = selectors.sla_policy_get(tenant=tenant, actor=actor, policy_id=sla_policy_id)
    return get_or_404(got, "SLA policy")


def _trigger(tenant: Tenant, actor: Actor, trigger_id: int) -> Trigger:
    return get_or_404(
        selectors.trigger_get(tenant=tenant, actor=actor, trigger_id=trigger_id), "trigger"
    )


def _automation(tenant: Tenant, actor: Actor, automation_id: int) -> Automation:
    got = selectors.automation_get(tenant=tenant, actor=actor, automation_id=automation_id)
    return get_or_404(got, "automation")


@router.get(
    "/sla-policies", response=page_of(SlaPolicyOut), tags=["sla"], summary="List SLA policies"
)
def sla_policies_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.sla_policy_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=ORDER, cursor=cursor, limit=limit)


@router.post(
    "/sla-policies",
    response={201: SlaPolicyOut},
    tags=["sla"],
    summary="Create an SLA policy",
    description="The first active policy (by position) whose conditions match a ticket "
    "applies. Targets in minutes, in business hours (the team's, or `calendar_id`'s) when "
    "`business_hours` is true. Paused while the ticket is pending or on hold.",
)
def sla_policies_create(request: HttpRequest, payload: SlaPolicyIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    return Status(
        201, services.sla_policy_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


@router.get(
    "/sla-policies/{sla_policy_id}",
    response=SlaPolicyOut,
    tags=["sla"],
    summary="Get an SLA policy",
)
def sla_policies_get(request: HttpRequest, sla_policy_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _policy(tenant, actor, sla_policy_id)


@router.patch(
    "/sla-policies/{sla_policy_id}",
    response=SlaPolicyOut,
    tags=["sla"],
    summary="Change an SLA policy",
)
def sla_policies_update(
    request: HttpRequest, sla_policy_id: int, payload: SlaPolicyUpdateIn
) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return services.sla_policy_update(
        tenant=tenant,
        actor=actor,
        policy=_policy(tenant, actor, sla_policy_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/sla-policies/{sla_policy_id}",
    response={204: None},
    tags=["sla"],
    summary="Delete an SLA policy",
)
def sla_policies_delete(request: HttpRequest, sla_policy_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.sla_policy_delete(
        tenant=tenant, actor=actor, policy=_policy(tenant, actor, sla_policy_id)
    )
    return Status(204, None)


@router.get("/triggers", response=page_of(TriggerOut), tags=["triggers"], summary="List triggers")
def triggers_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.trigger_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=ORDER, cursor=cursor, limit=limit)


@router.post(
    "/triggers",
    response={201: TriggerOut},
    tags=["triggers"],
    summary="Create a trigger",
    description="Runs in order (position) on the events in `on`. A trigger on "
    "`ticket.updated` whose actions would keep its own conditions true is refused (422): "
    "it would fire again on its own change.",
)
def triggers_create(request: HttpRequest, payload: TriggerIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    return Status(201, services.trigger_create(tenant=tenant, actor=actor, **payload.model_dump()))


@router.post(
    "/triggers/preview",
    response=PreviewOut,
    tags=["triggers"],
    summary="Dry-run conditions",
    description="Which open tickets (the 2000 most recently updated) the conditions match "
    "now. Nothing changes.",
)
def triggers_preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    matches, checked = services.rule_preview(tenant=tenant, actor=actor, **payload.model_dump())
    return {"checked": checked, "matches": matches}


@router.get(
    "/triggers/{trigger_id}", response=TriggerOut, tags=["triggers"], summary="Get a trigger"
)
def triggers_get(request: HttpRequest, trigger_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _trigger(tenant, actor, trigger_id)


@router.patch(
    "/triggers/{trigger_id}", response=TriggerOut, tags=["triggers"], summary="Change a trigger"
)
def triggers_update(request: HttpRequest, trigger_id: int, payload: TriggerUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return services.trigger_update(
        tenant=tenant,
        actor=actor,
        trigger=_trigger(tenant, actor, trigger_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/triggers/{trigger_id}", response={204: None}, tags=["triggers"], summary="Delete a trigger"
)
def triggers_delete(request: HttpRequest, trigger_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.trigger_delete(tenant=tenant, actor=actor, trigger=_trigger(tenant, actor, trigger_id))
    return Status(204, None)


@router.get(
    "/automations",
    response=page_of(AutomationOut),
    tags=["automations"],
    summary="List automations",
)
def automations_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.automation_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=ORDER, cursor=cursor, limit=limit)


@router.post(
    "/automations",
    response={201: AutomationOut},
    tags=["automations"],
    summary="Create an automation",
    description="Checked every ten minutes against open tickets; needs a time condition "
    "(`hours_since_created` / `hours_since_updated`). Fires at most once per ticket until "
    "someone else changes the ticket.",
)
def automations_create(request: HttpRequest, payload: AutomationIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    return Status(
        201, services.automation_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


@router.post(
    "/automations/preview",
    response=PreviewOut,
    tags=["automations"],
    summary="Dry-run conditions",
    description="Which open tickets the conditions match now. Nothing changes.",
)
def automations_preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    matches, checked = services.rule_preview(tenant=tenant, actor=actor, **payload.model_dump())
    return {"checked": checked, "matches": matches}


@router.get(
    "/automations/{automation_id}",
    response=AutomationOut,
    tags=["automations"],
    summary="Get an automation",
)
def automations_get(request: HttpRequest, automation_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _automation(tenant, actor, automation_id)


@router.patch(
    "/automations/{automation_id}",
    response=AutomationOut,
    tags=["automations"],
    summary="Change an automation",
)
def automations_update(
    request: HttpRequest, automation_id: int, payload: AutomationUpdateIn
) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return services.automation_update(
        tenant=tenant,
        actor=actor,
        automation=_automation(tenant, actor, automation_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/automations/{automation_id}",
    response={204: None},
    tags=["automations"],
    summary="Delete an automation",
)
def automations_delete(request: HttpRequest, automation_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.automation_delete(
        tenant=tenant, actor=actor, automation=_automation(tenant, actor, automation_id)
    )
    return Status(204, None)


def _visible_ticket(tenant: Tenant, actor: Actor, ticket_id: int) -> int:
    try:
        return ticket_selectors.ticket_get(tenant=tenant, actor=actor, ticket_id=ticket_id).pk
    except Ticket.DoesNotExist:
        raise NotFound("No ticket with this id.", type_="not-found") from None


@router.get(
    "/tickets/{ticket_id}/sla",
    response=list[SlaTimerOut],
    tags=["sla"],
    summary="A ticket's SLA timers",
)
def ticket_sla(request: HttpRequest, ticket_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    pk = _visible_ticket(tenant, actor, ticket_id)
    return selectors.sla_timers_for(tenant=tenant, actor=actor, ticket_ids=[pk])[pk]


@router.get(
    "/tickets/{ticket_id}/rule-runs",
    response=page_of(RuleRunOut),
    tags=["triggers"],
    summary="Which rules fired on a ticket",
)
def ticket_rule_runs(
    request: HttpRequest, ticket_id: int, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.rule_runs_for_ticket(
        tenant=tenant, actor=actor, ticket_id=_visible_ticket(tenant, actor, ticket_id)
    )
    return keyset_response(rows, ordering=("-created_at", "-id"), cursor=cursor, limit=limit)
