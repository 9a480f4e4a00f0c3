"""Auto-assignment of a team's tickets: round-robin, least-loaded or skills-based, among the
team's online agents below their capacity (overall and for the ticket's channel).

Concurrency (docs/adr/0019-sla-timers-and-assignment.md, 0028): one statement locks the
ticket, its team and the online members' profile rows FOR UPDATE, the profiles in user id
order (one order for every team, so two teams sharing agents cannot deadlock). Choices of
one team are therefore made one at a time and each sees the previous one's commit
(round-robin stays within one ticket per agent however many workers run), and no two
workers count an agent's load at once. The load is counted in the next statement, after
the locks, so it includes every assignment committed before them: capacity is never
exceeded. SKIP LOCKED was tried and measured: with two teams sharing agents it left 20 % of
tickets unassigned while those agents still had room, so the lock waits instead.

Speed (ADR 0028, bench suite "routing": assign_p95_ms): an assignment is three prepared
statements: lock and read, count loads, and one write that sets the assignee, bumps the
ticket's version, moves the member's round-robin turn and appends ``ticket.updated`` (the
payload ``tickets.services.ticket_update`` gives an assignee change) and ``ticket.routed``
with their dispatch jobs. The rare paths (hand-over outside hours, nobody available) use
the ORM and the tickets services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_cached
from autocrm.core.models import Tenant
from autocrm.routing import events
from autocrm.routing.businesstime import Calendar
from autocrm.routing.models import AssignmentMethod, BusinessHours, Team
from autocrm.routing.services.common import emit
from autocrm.routing.services.teams import calendar_of
from autocrm.tickets import events as ticket_events
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Status, Ticket
from autocrm.tickets.services.cleaning import ASSIGNABLE_ROLES

ASSIGNER = Actor.system("routing")
# Tickets that count against an agent's capacity.
OPEN_STATUSES = [str(s) for s in (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)]
_ROLES = [str(r) for r in ASSIGNABLE_ROLES]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# The ticket (still unassigned and new/open), its auto-assigning team and the team's online
# agents (still members of the workspace who may be assigned), all locked; one row per agent.
_LOCK_SQL = """
SELECT t.team_id, t.channel, t.tags, t.metadata, team.assignment_method,
       team.handover_team_id, team.business_hours_id,
       m.id, m.user_id, p.capacity, p.channel_capacity, p.skills
FROM tickets_ticket t
JOIN routing_team team ON team.tenant_id = t.tenant_id AND team.id = t.team_id
JOIN routing_teammember m ON m.tenant_id = t.tenant_id AND m.team_id = team.id
JOIN routing_agentprofile p ON p.tenant_id = m.tenant_id AND p.user_id = m.user_id
WHERE t.tenant_id = %s::bigint AND t.id = %s::bigint
  AND t.assignee_id IS NULL AND t.status IN ('new', 'open')
  AND team.assignment_method <> 'manual' AND p.availability = 'online'
  AND EXISTS (SELECT 1 FROM accounts_membership am
              WHERE am.tenant_id = t.tenant_id AND am.user_id = p.user_id
                AND am.role = ANY(%s::text[]))
ORDER BY p.user_id
FOR UPDATE OF t, team, p
"""
# After the locks were taken (a new snapshot in READ COMMITTED, so every earlier assignment
# is seen): each locked member's round-robin turn and open tickets, in all and on the
# ticket's channel. The turn is read here, not with the locks: the team's rows of the lock
# statement come from its snapshot, taken before it waited for the team.
_LOADS_SQL = """
SELECT m.id, m.last_assigned_at, coalesce(l.total, 0), coalesce(l.on_channel, 0)
FROM routing_teammember m
LEFT JOIN (
    SELECT assignee_id, count(*) AS total, count(*) FILTER (WHERE channel = %s::text) AS on_channel
    FROM tickets_ticket
    WHERE tenant_id = %s::bigint AND assignee_id = ANY(%s::bigint[])
      AND status = ANY(%s::text[])
    GROUP BY assignee_id
) l ON l.assignee_id = m.user_id
WHERE m.tenant_id = %s::bigint AND m.id = ANY(%s::bigint[])
"""
# The assignment itself: the ticket, the member's turn, both events and their jobs.
_ASSIGN_SQL = """
WITH ticket AS (
    UPDATE tickets_ticket
    SET assignee_id = %(user)s::bigint, version = version + 1, updated_at = %(now)s::timestamptz
    WHERE tenant_id = %(tenant)s::bigint AND id = %(ticket)s::bigint
    RETURNING id, number
), member AS (
    -- The clock, not "now": several tickets routed at once must still form a rotation.
    UPDATE routing_teammember SET last_assigned_at = clock_timestamp()
    WHERE tenant_id = %(tenant)s::bigint AND id = %(member)s::bigint
), event AS (
    INSERT INTO core_event
        (tenant_id, type, subject_type, subject_id, actor_id, actor_label, payload, created_at)
    SELECT %(tenant)s::bigint, e.type, 'tickets.ticket', ticket.id::text, %(actor)s::bigint,
           %(actor_label)s::text, e.payload, %(now)s::timestamptz
    FROM ticket CROSS JOIN LATERAL (VALUES
        (1, %(updated)s::text, jsonb_build_object(
            'number', ticket.number,
            'changes', jsonb_build_object(
                'assignee_id', jsonb_build_object('from', NULL, 'to', %(user)s::bigint)))),
        (2, %(routed)s::text, %(routed_payload)s::jsonb)
    ) AS e(n, type, payload)
    ORDER BY e.n
    RETURNING id
)
SELECT (SELECT number FROM ticket), procrastinate_defer_jobs_v1(array_agg(ROW(
    %(queue)s::text, %(task)s::text, %(priority)s::integer, %(lock)s::text,
    %(queueing_lock)s::text,
    jsonb_build_object('tenant_id', %(tenant)s::bigint, 'event_id', event.id), NULL
)::procrastinate_job_to_defer_v1 ORDER BY event.id))
FROM event
"""


@dataclass(frozen=True)
class Candidate:
    member_id: int
    user_id: int
    last_assigned_at: dt.datetime | None
    capacity: int
    skills: frozenset[str]
    load: int
    # The agent's limit on the ticket's channel (None: only the overall one) and their open
    # tickets on it.
    channel_capacity: int | None = None
    channel_load: int = 0

    @property
    def has_room(self) -> bool:
        if self.capacity and self.load >= self.capacity:
            return False
        return self.channel_capacity is None or self.channel_load < self.channel_capacity


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


def required_skills(tags: list[str], metadata: Any) -> frozenset[str]:
    """Skills a ticket asks for: its ``skill:<name>`` tags, and the language and product the
    AI triage found (``metadata.ai_triage``)."""
    skills = {tag.removeprefix("skill:") for tag in tags if tag.startswith("skill:")}
    triage = metadata.get("ai_triage") if isinstance(metadata, dict) else None
    if isinstance(triage, dict):
        for key in ("language", "product"):
            if isinstance(triage.get(key), str) and triage[key]:
                skills.add(f"{key}:{triage[key].lower()}")
    return frozenset(skills)


def _calendars(tenant: Tenant) -> dict[int, Calendar]:
    """Every business-hours calendar of the tenant by id, once per configuration change."""

    def load() -> dict[int, Calendar]:
        return {h.pk: calendar_of(h) for h in BusinessHours.objects.filter(tenant=tenant)}

    return tenant_config_cached(tenant, "routing.calendars", load)


def _channel_limit(limits: Any, channel: str) -> int | None:
    value = limits.get(channel) if isinstance(limits, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _candidates(tenant: Tenant, rows: list[tuple[Any, ...]], channel: str) -> list[Candidate]:
    now = {
        member_id: (last, total, on_channel)
        for member_id, last, total, on_channel in sql.fetch_all(
            _LOADS_SQL,
            [
                channel,
                tenant.pk,
                [r[8] for r in rows],
                OPEN_STATUSES,
                tenant.pk,
                [r[7] for r in rows],
            ],
        )
    }
    out = []
    for row in rows:
        member_id, user_id, capacity, limits, skills = row[7:12]
        last, total, on_channel = now.get(member_id, (None, 0, 0))
        out.append(
            Candidate(
                member_id,
                user_id,
                last,
                capacity,
                frozenset(skills or ()),
                total,
                channel_capacity=_channel_limit(limits, channel),
                channel_load=on_channel,
            )
        )
    return out


@transaction.atomic(savepoint=False)
def ticket_auto_assign(
    *, tenant: Tenant, actor: Actor = ASSIGNER, ticket_id: int, now: dt.datetime | None = None
) -> int | None:
    """Give an unassigned open ticket of a team to an agent by the team's method; returns the
    agent's user id (None: manual team, nobody free, or nothing to do). Outside the team's
    hours a ticket moves to its hand-over team first (coverage: one hop, a hand-over team is
    expected to cover the other hours itself)."""
    return _auto_assign(tenant, actor, ticket_id, now or timezone.now(), may_hand_over=True)


def _auto_assign(
    tenant: Tenant, actor: Actor, ticket_id: int, now: dt.datetime, *, may_hand_over: bool
) -> int | None:
    rows = sql.fetch_all(_LOCK_SQL, [tenant.pk, ticket_id, _ROLES])
    if not rows:
        return _nobody(tenant, actor, ticket_id, now, may_hand_over=may_hand_over)
    team_id, channel, tags, metadata, method, handover_id, hours_id = rows[0][:7]
    if may_hand_over and _closed(tenant, handover_id, hours_id, now):
        assert handover_id is not None
        _hand_over(tenant, actor, ticket_id, team_id, handover_id)
        return _auto_assign(tenant, actor, ticket_id, now, may_hand_over=False)
    chosen = choose(method, _candidates(tenant, rows, channel), required_skills(tags, metadata))
    if chosen is None:
        _emit_unassigned(tenant, actor, ticket_id, team_id)
        return None
    _assign(tenant, actor, ticket_id, chosen, team_id, method)
    return chosen.user_id


def _closed(
    tenant: Tenant, handover_id: int | None, hours_id: int | None, now: dt.datetime
) -> bool:
    """Whether a team with a hand-over team is outside its hours now."""
    if handover_id is None or hours_id is None:
        return False
    calendar = _calendars(tenant).get(hours_id)
    return calendar is not None and not calendar.is_open(now)


def _assign(
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    chosen: Candidate,
    team_id: int,
    method: str,
) -> None:
    from autocrm.core.tasks import events_dispatch

    sql.fetch_one(
        _ASSIGN_SQL,
        {
            "tenant": tenant.pk,
            "ticket": ticket_id,
            "user": chosen.user_id,
            "member": chosen.member_id,
            "now": timezone.now(),
            "actor": actor.user_id,
            "actor_label": actor.label,
            "updated": ticket_events.TICKET_UPDATED,
            "routed": events.TICKET_ROUTED,
            "routed_payload": Jsonb(
                {"team_id": team_id, "assignee_id": chosen.user_id, "method": method}
            ),
            "queue": events_dispatch.queue,
            "task": events_dispatch.name,
            "priority": events_dispatch.priority,
            "lock": events_dispatch.lock,
            "queueing_lock": events_dispatch.queueing_lock,
        },
    )


def _hand_over(tenant: Tenant, actor: Actor, ticket_id: int, team_id: int, handover: int) -> None:
    ticket_services.ticket_update(
        tenant=tenant, actor=actor, ticket_id=ticket_id, changes={"team_id": handover}
    )
    emit(
        tenant,
        actor,
        events.TICKET_ROUTED,
        ("tickets.ticket", ticket_id),
        {"team_id": handover, "from_team_id": team_id, "reason": "outside_hours"},
    )


def _nobody(
    tenant: Tenant, actor: Actor, ticket_id: int, now: dt.datetime, *, may_hand_over: bool
) -> int | None:
    """No online agent came back: find out why (the ticket needs nothing, a manual team, or
    nobody there), handing the ticket over first when its team is closed now."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .filter(tenant=tenant, pk=ticket_id)
        .only("id", "team_id", "assignee_id", "status")
        .first()
    )
    if ticket is None or ticket.team_id is None or ticket.assignee_id is not None:
        return None
    if ticket.status not in (Status.NEW, Status.OPEN):
        return None
    team = Team.objects.select_for_update().get(tenant=tenant, pk=ticket.team_id)
    if may_hand_over and _closed(tenant, team.handover_team_id, team.business_hours_id, now):
        assert team.handover_team_id is not None
        _hand_over(tenant, actor, ticket_id, team.pk, team.handover_team_id)
        return _auto_assign(tenant, actor, ticket_id, now, may_hand_over=False)
    if team.assignment_method == AssignmentMethod.MANUAL:
        return None
    _emit_unassigned(tenant, actor, ticket_id, team.pk)
    return None


def _emit_unassigned(tenant: Tenant, actor: Actor, ticket_id: int, team_id: int) -> None:
    emit(
        tenant,
        actor,
        events.TICKET_ROUTED,
        ("tickets.ticket", ticket_id),
        {"team_id": team_id, "assignee_id": None, "reason": "no_agent_available"},
    )
