"""Teams, their members and agents' routing profiles; business hours."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from autocrm.core.actors import Actor
from autocrm.core.api import (
    Cursor,
    Limit,
    get_or_404,
    keyset_page,
    keyset_response,
    page_of,
    page_response,
    tenant_and_actor,
)
from autocrm.core.models import Tenant
from autocrm.core.problems import NotFound
from autocrm.routing import selectors, services
from autocrm.routing.models import BusinessHours, Team
from autocrm.routing.schemas import (
    AgentOut,
    AgentUpdateIn,
    AvailabilityIn,
    BusinessHoursIn,
    BusinessHoursOut,
    BusinessHoursUpdateIn,
    TeamIn,
    TeamMemberIn,
    TeamOut,
    TeamUpdateIn,
)

router = Router(tags=["routing"])


def _with_members(tenant: Tenant, actor: Actor, teams: list[Team]) -> list[Team]:
    ids = selectors.team_member_ids(tenant=tenant, actor=actor, team_ids=[t.pk for t in teams])
    for team in teams:
        team.member_ids = ids[team.pk]  # type: ignore[attr-defined]
    return teams


def _team(tenant: Tenant, actor: Actor, team_id: int) -> Team:
    return get_or_404(selectors.team_get(tenant=tenant, actor=actor, team_id=team_id), "team")


@router.get("/teams", response=page_of(TeamOut), tags=["teams"], summary="List teams")
def teams_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    page = keyset_page(
        selectors.team_list(tenant=tenant, actor=actor),
        ordering=("name", "id"),
        cursor=cursor,
        limit=limit,
    )
    _with_members(tenant, actor, page.items)
    return page_response(page)


@router.post("/teams", response={201: TeamOut}, tags=["teams"], summary="Create a team")
def teams_create(request: HttpRequest, payload: TeamIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    team = services.team_create(tenant=tenant, actor=actor, **payload.model_dump())
    return Status(201, _with_members(tenant, actor, [team])[0])


@router.get("/teams/{team_id}", response=TeamOut, tags=["teams"], summary="Get a team")
def teams_get(request: HttpRequest, team_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _with_members(tenant, actor, [_team(tenant, actor, team_id)])[0]


@router.patch("/teams/{team_id}", response=TeamOut, tags=["teams"], summary="Change a team")
def teams_update(request: HttpRequest, team_id: int, payload: TeamUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    team = services.team_update(
        tenant=tenant,
        actor=actor,
        team=_team(tenant, actor, team_id),
        changes=payload.model_dump(exclude_unset=True),
    )
    return _with_members(tenant, actor, [team])[0]


@router.delete("/teams/{team_id}", response={204: None}, tags=["teams"], summary="Delete a team")
def teams_delete(request: HttpRequest, team_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.team_delete(tenant=tenant, actor=actor, team=_team(tenant, actor, team_id))
    return Status(204, None)


@router.post(
    "/teams/{team_id}/members",
    response={201: TeamOut},
    tags=["teams"],
    summary="Add a member to a team",
)
def teams_member_add(request: HttpRequest, team_id: int, payload: TeamMemberIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    team = _team(tenant, actor, team_id)
    services.team_member_add(tenant=tenant, actor=actor, team=team, user_id=payload.user_id)
    return Status(201, _with_members(tenant, actor, [team])[0])


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    response={204: None},
    tags=["teams"],
    summary="Remove a member from a team",
)
def teams_member_remove(request: HttpRequest, team_id: int, user_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.team_member_remove(
        tenant=tenant, actor=actor, team=_team(tenant, actor, team_id), user_id=user_id
    )
    return Status(204, None)


def _agent_user(tenant: Tenant, actor: Actor, user_id: int) -> None:
    if not selectors.is_staff_member(tenant=tenant, actor=actor, user_id=user_id):
        raise NotFound("No agent with this id in this workspace.", type_="not-found")


@router.get(
    "/agents",
    response=page_of(AgentOut),
    tags=["teams"],
    summary="List agents' routing profiles",
    description="Availability, skills and capacity of every agent who is in a team or was "
    "given a profile.",
)
def agents_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.agent_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("user_id", "id"), cursor=cursor, limit=limit)


@router.patch(
    "/agents/{user_id}",
    response=AgentOut,
    tags=["teams"],
    summary="Change an agent's skills, capacity or availability",
)
def agents_update(request: HttpRequest, user_id: int, payload: AgentUpdateIn) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    _agent_user(tenant, actor, user_id)
    services.agent_profile_update(
        tenant=tenant, actor=actor, user_id=user_id, changes=payload.model_dump(exclude_unset=True)
    )
    return get_or_404(selectors.agent_get(tenant=tenant, actor=actor, user_id=user_id), "agent")


@router.put(
    "/agents/{user_id}/availability",
    response=AgentOut,
    tags=["teams"],
    summary="Set an agent's availability",
    description="The manual toggle: agents set their own, admins anyone's. Away and offline "
    "agents get no tickets from auto-assignment.",
)
def agents_availability(request: HttpRequest, user_id: int, payload: AvailabilityIn) -> Any:
    tenant, actor = tenant_and_actor(request, "write")
    _agent_user(tenant, actor, user_id)
    services.agent_availability_set(
        tenant=tenant, actor=actor, user_id=user_id, availability=payload.availability
    )
    return get_or_404(selectors.agent_get(tenant=tenant, actor=actor, user_id=user_id), "agent")


def _hours(tenant: Tenant, actor: Actor, business_hours_id: int) -> BusinessHours:
    got = selectors.business_hours_get(tenant=tenant, actor=actor, hours_id=business_hours_id)
    return get_or_404(got, "business hours")


@router.get(
    "/business-hours",
    response=page_of(BusinessHoursOut),
    tags=["business hours"],
    summary="List business hours",
)
def business_hours_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    rows = selectors.business_hours_list(tenant=tenant, actor=actor)
    return keyset_response(rows, ordering=("name", "id"), cursor=cursor, limit=limit)


@router.post(
    "/business-hours",
    response={201: BusinessHoursOut},
    tags=["business hours"],
    summary="Create business hours",
    description="Weekly ranges in an IANA time zone plus holidays (closed all day). "
    "Overlapping ranges, an unknown day or time zone are a 422.",
)
def business_hours_create(request: HttpRequest, payload: BusinessHoursIn) -> Status[Any]:
    tenant, actor = tenant_and_actor(request, "admin")
    return Status(
        201, services.business_hours_create(tenant=tenant, actor=actor, **payload.model_dump())
    )


@router.get(
    "/business-hours/{business_hours_id}",
    response=BusinessHoursOut,
    tags=["business hours"],
    summary="Get business hours",
)
def business_hours_get(request: HttpRequest, business_hours_id: int) -> Any:
    tenant, actor = tenant_and_actor(request, "read")
    return _hours(tenant, actor, business_hours_id)


@router.patch(
    "/business-hours/{business_hours_id}",
    response=BusinessHoursOut,
    tags=["business hours"],
    summary="Change business hours",
)
def business_hours_update(
    request: HttpRequest, business_hours_id: int, payload: BusinessHoursUpdateIn
) -> Any:
    tenant, actor = tenant_and_actor(request, "admin")
    return services.business_hours_update(
        tenant=tenant,
        actor=actor,
        hours=_hours(tenant, actor, business_hours_id),
        changes=payload.model_dump(exclude_unset=True),
    )


@router.delete(
    "/business-hours/{business_hours_id}",
    response={204: None},
    tags=["business hours"],
    summary="Delete business hours",
)
def business_hours_delete(request: HttpRequest, business_hours_id: int) -> Status[None]:
    tenant, actor = tenant_and_actor(request, "admin")
    services.business_hours_delete(
        tenant=tenant, actor=actor, hours=_hours(tenant, actor, business_hours_id)
    )
    return Status(204, None)
