"""Auto-assignment of a team's tickets: round-robin, least-loaded or skills-based, among the
team's online agents below their capacity.

Concurrency (docs/adr/0019-sla-timers-and-assignment.md): the team row is locked FOR UPDATE
first, so the choices of one team are made one at a time and each sees the previous one's
commit (round-robin stays within one ticket per agent however many workers run). Candidate
agents' profile rows are then locked FOR UPDATE in user id order (one order for every team,
so two teams sharing agents cannot deadlock), and no two workers count an agent's load at
once. The load is counted in a second statement, after the locks, so it includes every
assignment committed before them: capacity is never exceeded. SKIP LOCKED was tried and
measured: with two teams sharing agents it left 20 % of tickets unassigned while those
agents still had room (the other team held them for a moment), so the lock waits instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import DateTimeField, Func
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.routing import events
from autocrm.routing.models import AssignmentMethod, Team, TeamMember
from autocrm.routing.services.common import emit
from autocrm.routing.services.teams import calendar_of
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Status, Ticket

ASSIGNER = Actor.system("routing")
# Tickets that count against an agent's capacity.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# Online members of the team, their profile rows locked in one global order.
_CANDIDATES_SQL = """
SELECT m.id, m.user_id, m.last_assigned_at, p.capacity, p.skills
FROM routing_teammember m
JOIN routing_agentprofile p ON p.tenant_id = m.tenant_id AND p.user_id = m.user_id
WHERE m.tenant_id = %s AND m.team_id = %s AND p.availability = 'online'
ORDER BY p.user_id
FOR UPDATE OF p
"""
# Their open tickets, counted after the locks were taken (a new snapshot in READ COMMITTED).
_LOADS_SQL = """
SELECT assignee_id, count(*) FROM tickets_ticket
WHERE tenant_id = %s AND assignee_id = ANY(%s) AND status = ANY(%s)
GROUP BY assignee_id
"""


@dataclass(frozen=True)
class Candidate:
    member_id: int
    user_id: int
    last_assigned_at: dt.datetime | None
    capacity: int
    skills: frozenset[str]
    load: int

    @property
    def has_room(self) -> bool:
        return self.capacity == 0 or self.load < self.capacity


def choose(method: str, candidates: list[Candidate], required: frozenset[str]) -> Candidate | None:
    """The agent who gets the next ticket (pure; the fairness tests drive it directly too).
    Round-robin: whoever waited longest. Least-loaded: fewest open tickets, then whoever
    waited longest. Skills: least-loaded among those with every required skill."""
    eligible = [c for c in candidates if c.has_room]
    if method == AssignmentMethod.SKILLS:
        eligible = [c for c in eligible if required <= c.skills]
    if not eligible:
        return None
    waited = lambda c: (c.last_assigned_at or _EPOCH, c.member_id)  # noqa: E731
    if method == AssignmentMethod.ROUND_ROBIN:
        return min(eligible, key=waited)
    return min(eligible, key=lambda c: (c.load, *waited(c)))


def required_skills(ticket: Ticket) -> frozenset[str]:
    """Skills a ticket asks for: its ``skill:<name>`` tags, and the language and product the
    AI triage found (``metadata.ai_triage``)."""
    skills = {tag.removeprefix("skill:") for tag in ticket.tags if tag.startswith("skill:")}
    triage = ticket.metadata.get("ai_triage") if isinstance(ticket.metadata, dict) else None
    if isinstance(triage, dict):
        for key in ("language", "product"):
            if isinstance(triage.get(key), str) and triage[key]:
                skills.add(f"{key}:{triage[key].lower()}")
    return frozenset(skills)


def _candidates(tenant: Tenant, team_id: int) -> list[Candidate]:
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL, [tenant.pk, team_id])
        rows = cursor.fetchall()
        if not rows:
            return []
        cursor.execute(_LOADS_SQL, [tenant.pk, [r[1] for r in rows], list(OPEN_STATUSES)])
        loads = dict(cursor.fetchall())
    return [
        Candidate(mid, uid, last, capacity, frozenset(skills or ()), loads.get(uid, 0))
        for mid, uid, last, capacity, skills in rows
    ]


@transaction.atomic
def ticket_auto_assign(
    *, tenant: Tenant, actor: Actor = ASSIGNER, ticket_id: int, now: dt.datetime | None = None
) -> int | None:
    """Give an unassigned open ticket of a team to an agent by the team's method; returns the
    agent's user id (None: manual team, nobody free, or nothing to do). Outside the team's
    hours a ticket moves to its hand-over team first (coverage)."""
    now = now or timezone.now()
    ticket = (
        Ticket.objects.filter(tenant=tenant, pk=ticket_id)
        .only("id", "team_id", "assignee_id", "status", "tags", "metadata")
        .first()
    )
    if ticket is None or ticket.team_id is None or ticket.assignee_id is not None:
        return None
    if ticket.status not in (Status.NEW, Status.OPEN):
        return None
    team = (
        Team.objects.select_for_update(of=("self",))
        .select_related("business_hours")
        .get(tenant=tenant, pk=ticket.team_id)
    )
    team = _covering_team(tenant, actor, ticket, team, now)
    if team.assignment_method == AssignmentMethod.MANUAL:
        return None
    chosen = choose(team.assignment_method, _candidates(tenant, team.pk), required_skills(ticket))
    if chosen is None:
        emit(
            tenant,
            actor,
            events.TICKET_ROUTED,
            ("tickets.ticket", ticket.pk),
            {"team_id": team.pk, "assignee_id": None, "reason": "no_agent_available"},
        )
        return None
    ticket_services.ticket_assign(
        tenant=tenant, actor=actor, ticket_id=ticket.pk, assignee_id=chosen.user_id
    )
    # The clock, not ``now``: several tickets routed "at once" must still form a rotation.
    TeamMember.objects.filter(pk=chosen.member_id).update(
        last_assigned_at=Func(function="clock_timestamp", output_field=DateTimeField())
    )
    emit(
        tenant,
        actor,
        events.TICKET_ROUTED,
        ("tickets.ticket", ticket.pk),
        {"team_id": team.pk, "assignee_id": chosen.user_id, "method": team.assignment_method},
    )
    return chosen.user_id


def _covering_team(
    tenant: Tenant, actor: Actor, ticket: Ticket, team: Team, now: dt.datetime
) -> Team:
    """The team itself within its hours; outside them, its hand-over team (one hop: a
    hand-over team is expected to cover the other hours itself)."""
    if team.handover_team_id is None or team.business_hours is None:
        return team
    if calendar_of(team.business_hours).is_open(now):
        return team
    handover = Team.objects.select_for_update().get(tenant=tenant, pk=team.handover_team_id)
    ticket_services.ticket_update(
        tenant=tenant, actor=actor, ticket_id=ticket.pk, changes={"team_id": handover.pk}
    )
    emit(
        tenant,
        actor,
        events.TICKET_ROUTED,
        ("tickets.ticket", ticket.pk),
        {"team_id": handover.pk, "from_team_id": team.pk, "reason": "outside_hours"},
    )
    return handover
