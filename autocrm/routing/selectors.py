"""Reads of routing configuration for pages and the API (staff read, admins change)."""

from __future__ import annotations

from django.db.models import QuerySet

from autocrm.accounts.models import Membership
from autocrm.core import sql
from autocrm.core.actors import STAFF, Actor
from autocrm.core.config_cache import tenant_config_cached
from autocrm.core.models import Tenant
from autocrm.routing.models import (
    AgentProfile,
    Automation,
    BusinessHours,
    RuleRun,
    SlaPolicy,
    SlaTimer,
    Team,
    TeamMember,
    Trigger,
)
from autocrm.routing.services.common import require_staff


def team_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Team]:
    return Team.objects.filter(tenant=tenant).order_by("name", "id")


def team_names(*, tenant: Tenant, actor: Actor) -> list[tuple[int, str]]:
    """(id, name) of the tenant's teams by name, for pickers and history sentences: read
    once per process until the tenant's configuration changes (the team services call
    ``tenant_config_changed``). Shared between threads: do not change the list."""

    def load() -> list[tuple[int, str]]:
        return list(team_list(tenant=tenant, actor=actor).values_list("pk", "name"))

    return tenant_config_cached(tenant, "routing.team_names", load)


def team_get(*, tenant: Tenant, actor: Actor, team_id: int) -> Team | None:
    require_staff(actor)
    return Team.objects.filter(tenant=tenant, pk=team_id).first()


def team_members(*, tenant: Tenant, actor: Actor, team: Team) -> QuerySet[TeamMember]:
    require_staff(actor)
    return (
        TeamMember.objects.filter(tenant=tenant, team=team)
        .select_related("user")
        .order_by("user__email", "id")
    )


def team_member_ids(*, tenant: Tenant, actor: Actor, team_ids: list[int]) -> dict[int, list[int]]:
    """Member user ids of each team, in one query (for lists of teams)."""
    require_staff(actor)
    out: dict[int, list[int]] = {tid: [] for tid in team_ids}
    rows = TeamMember.objects.filter(tenant=tenant, team_id__in=team_ids).order_by("user_id")
    for team_id, user_id in rows.values_list("team_id", "user_id"):
        out[team_id].append(user_id)
    return out


def is_staff_member(*, tenant: Tenant, actor: Actor, user_id: int) -> bool:
    require_staff(actor)
    return Membership.objects.filter(tenant=tenant, user_id=user_id, role__in=STAFF).exists()


def agent_list(*, tenant: Tenant, actor: Actor) -> QuerySet[AgentProfile]:
    require_staff(actor)
    return AgentProfile.objects.filter(tenant=tenant).select_related("user")


def agent_get(*, tenant: Tenant, actor: Actor, user_id: int) -> AgentProfile | None:
    require_staff(actor)
    return AgentProfile.objects.filter(tenant=tenant, user_id=user_id).first()


def business_hours_list(*, tenant: Tenant, actor: Actor) -> QuerySet[BusinessHours]:
    require_staff(actor)
    return BusinessHours.objects.filter(tenant=tenant)


def business_hours_get(*, tenant: Tenant, actor: Actor, hours_id: int) -> BusinessHours | None:
    require_staff(actor)
    return BusinessHours.objects.filter(tenant=tenant, pk=hours_id).first()


def sla_policy_list(*, tenant: Tenant, actor: Actor) -> QuerySet[SlaPolicy]:
    require_staff(actor)
    return SlaPolicy.objects.filter(tenant=tenant)


def sla_policy_get(*, tenant: Tenant, actor: Actor, policy_id: int) -> SlaPolicy | None:
    require_staff(actor)
    return SlaPolicy.objects.filter(tenant=tenant, pk=policy_id).first()


def sla_timers_for(
    *, tenant: Tenant, actor: Actor, ticket_ids: list[int]
) -> dict[int, list[SlaTimer]]:
    """The SLA timers of these tickets (one query: a queue page's worth)."""
    require_staff(actor)
    out: dict[int, list[SlaTimer]] = {tid: [] for tid in ticket_ids}
    for row in sql.fetch_all(_SLA_TIMERS_SQL, [tenant.pk, ticket_ids]):
        timer = _SLA_TIMER.build(row)
        out[timer.ticket_id].append(timer)
    return out


# sla_timers_for's statement, prepared (core.sql): every ticket page and queue page reads
# it, and compiling the queryset cost about 1 ms of CPU.
_SLA_TIMER = sql.ModelColumns(SlaTimer, "s")
_SLA_TIMERS_SQL = (
    f"SELECT {_SLA_TIMER.sql} FROM routing_slatimer s "  # noqa: S608 - our column names
    "WHERE s.tenant_id = %s AND s.ticket_id = ANY(%s::bigint[]) ORDER BY s.metric ASC"
)


def trigger_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Trigger]:
    require_staff(actor)
    return Trigger.objects.filter(tenant=tenant)


def trigger_get(*, tenant: Tenant, actor: Actor, trigger_id: int) -> Trigger | None:
    require_staff(actor)
    return Trigger.objects.filter(tenant=tenant, pk=trigger_id).first()


def automation_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Automation]:
    require_staff(actor)
    return Automation.objects.filter(tenant=tenant)


def automation_get(*, tenant: Tenant, actor: Actor, automation_id: int) -> Automation | None:
    require_staff(actor)
    return Automation.objects.filter(tenant=tenant, pk=automation_id).first()


def rule_runs_for_ticket(*, tenant: Tenant, actor: Actor, ticket_id: int) -> QuerySet[RuleRun]:
    require_staff(actor)
    return RuleRun.objects.filter(tenant=tenant, ticket_id=ticket_id)
