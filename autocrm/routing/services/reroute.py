"""Re-route on offline grace: an agent offline for longer than their team's
``offline_grace_minutes`` loses the team's new and open tickets they hold, each back to the
team's assignment (``ticket_auto_assign``: another online agent with room, or the team's
queue when nobody has). Pending and on-hold tickets stay: they wait for the customer, not
for the agent. Only agents who went offline count (``availability_changed_at`` is set by
the manual toggle and by workspace presence); a profile never online is left alone.

The worker's ``routing.reroute_offline`` runs every minute; each ticket is its own
transaction, re-checked under the ticket's lock, so an agent back online meanwhile keeps it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import events
from autocrm.routing.models import AgentProfile, Availability
from autocrm.routing.services.assignment import ticket_auto_assign
from autocrm.routing.services.common import emit
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Status, Ticket

REROUTER = Actor.system("reroute")
# Tickets of teams with a grace time, held by an agent offline past it (the assignee's
# index, tickets_ticket_assignee_queue, from the few offline profiles).
_STRANDED_SQL = """
SELECT t.id, t.assignee_id
FROM routing_agentprofile p
JOIN tickets_ticket t ON t.tenant_id = p.tenant_id AND t.assignee_id = p.user_id
JOIN routing_team team ON team.tenant_id = t.tenant_id AND team.id = t.team_id
WHERE p.tenant_id = %s::bigint AND p.availability = 'offline'
  AND p.availability_changed_at IS NOT NULL
  AND t.status IN ('new', 'open')
  AND team.offline_grace_minutes IS NOT NULL
  AND p.availability_changed_at
      <= %s::timestamptz - make_interval(mins => team.offline_grace_minutes)
ORDER BY t.id
LIMIT 1000
"""


def stranded_tickets(*, tenant: Tenant, now: dt.datetime) -> list[tuple[int, int]]:
    """(ticket id, assignee id) of every ticket to re-route now (at most 1000 a run)."""
    return [(r[0], r[1]) for r in sql.fetch_all(_STRANDED_SQL, [tenant.pk, now])]


@transaction.atomic
def ticket_reroute(
    *, tenant: Tenant, ticket_id: int, from_user_id: int, now: dt.datetime
) -> tuple[bool, int | None]:
    """Take the ticket from its offline agent and assign it again; returns whether it was
    taken and its new assignee (None: left in the team's queue)."""
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .filter(
            tenant=tenant,
            pk=ticket_id,
            assignee_id=from_user_id,
            status__in=[Status.NEW, Status.OPEN],
        )
        .select_related("team")
        .first()
    )
    if ticket is None or ticket.team is None or ticket.team.offline_grace_minutes is None:
        return False, None
    cutoff = now - dt.timedelta(minutes=ticket.team.offline_grace_minutes)
    profile = (
        AgentProfile.objects.select_for_update().filter(tenant=tenant, user_id=from_user_id).first()
    )
    if (
        profile is None
        or profile.availability != Availability.OFFLINE
        or profile.availability_changed_at is None
        or profile.availability_changed_at > cutoff
    ):
        return False, None
    ticket_services.ticket_update(
        tenant=tenant, actor=REROUTER, ticket_id=ticket_id, changes={"assignee_id": None}
    )
    emit(
        tenant,
        REROUTER,
        events.TICKET_ROUTED,
        ("tickets.ticket", ticket_id),
        {"team_id": ticket.team_id, "from_assignee_id": from_user_id, "reason": "agent_offline"},
    )
    return True, ticket_auto_assign(tenant=tenant, actor=REROUTER, ticket_id=ticket_id, now=now)


def reroute_offline_run(*, tenant: Tenant, now: dt.datetime | None = None) -> int:
    """Re-route every stranded ticket of ``tenant``, each in its own transaction; returns
    how many were taken from their agent."""
    now = now or timezone.now()
    with tenant_context(tenant):
        stranded = stranded_tickets(tenant=tenant, now=now)
    moved = 0
    for ticket_id, user_id in stranded:
        with tenant_context(tenant):
            taken, _ = ticket_reroute(
                tenant=tenant, ticket_id=ticket_id, from_user_id=user_id, now=now
            )
        moved += taken
    return moved
