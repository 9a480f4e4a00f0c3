from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autocrm.accounts.models import User
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.routing.models import Team, TeamMember
from autocrm.tickets import services
from autocrm.tickets.models import Ticket

SYSTEM = Actor.system("tests")


def ticket(tenant: Tenant, actor: Actor = SYSTEM, **overrides: Any) -> Ticket:
    """A ticket created through the service (so number, message, vector and events exist)."""
    values: dict[str, Any] = {
        "subject": "Cannot log in to the billing portal",
        "body": "Hello, since this morning the login page says my password is wrong.",
        "requester_email": "pat@customer.test",
        "requester_name": "Pat Customer",
    }
    values.update(overrides)
    return services.ticket_create(tenant=tenant, actor=actor, **values)


@dataclass(frozen=True)
class ScopedStaff:
    """An agent and a light agent of team ``mine``, an admin, and another team ``theirs``,
    in a tenant whose agents are (or are not) restricted to their own teams."""

    agent: User
    light: User
    admin: User
    mine: Team
    theirs: Team


def scoped_staff(tenant: Tenant, *, restricted: bool) -> ScopedStaff:
    from autocrm.accounts.tests.factories import member

    tenant.settings = {**tenant.settings, "restrict_agents_to_own_teams": restricted}
    tenant.save()
    agent, light, admin = (
        member(tenant, "agent"),
        member(tenant, "light_agent"),
        member(tenant, "admin"),
    )
    mine = Team.objects.create(tenant=tenant, name="A")
    theirs = Team.objects.create(tenant=tenant, name="B")
    TeamMember.objects.create(tenant=tenant, team=mine, user=agent)
    TeamMember.objects.create(tenant=tenant, team=mine, user=light)
    return ScopedStaff(agent, light, admin, mine, theirs)
