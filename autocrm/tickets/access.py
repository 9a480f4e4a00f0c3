"""Who may see and change which tickets.

- owners, admins, API keys and the system: every ticket of the tenant;
- agents and light agents: every ticket, or with the tenant setting
  ``restrict_agents_to_own_teams`` only those of their teams plus those assigned to them;
- light agents may read and add internal notes, nothing else;
- customers: tickets they requested (plus their company's with the tenant setting
  ``customers_see_organization_tickets``), public messages only, the custom fields named in
  ``customer_visible_fields`` and no tags or metadata; they may create tickets, reply, attach
  files and mark a ticket solved, nothing else (ADR 0016).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm.models import Contact
from autocrm.routing.models import TeamMember
from autocrm.tickets.models import Ticket

NOTHING = Q(pk__in=[])
T = TypeVar("T")


def ticket_scope(*, tenant: Tenant, actor: Actor) -> Q:
    if actor.is_admin or actor.role in {"api", "system"}:
        return Q()
    if actor.role in {"agent", "light_agent"} and actor.user_id is not None:
        if not tenant.setting("restrict_agents_to_own_teams"):
            return Q()
        teams = TeamMember.objects.filter(tenant=tenant, user_id=actor.user_id).values("team_id")
        return Q(team_id__in=teams) | Q(assignee_id=actor.user_id)
    if actor.role == "customer" and actor.user_id is not None:
        contacts = Contact.objects.filter(tenant=tenant, user_id=actor.user_id)
        scope = Q(requester__in=contacts.values("pk"))
        if tenant.setting("customers_see_organization_tickets"):
            scope |= Q(organization__in=contacts.exclude(company=None).values("company_id"))
        return scope
    return NOTHING


# ticket_scope's condition for agents restricted to their teams, as the ORM writes it.
_OWN_TEAMS_SQL = (
    '("tickets_ticket"."team_id" IN (SELECT U0."team_id" FROM "routing_teammember" U0 '
    'WHERE (U0."tenant_id" = %s AND U0."user_id" = %s)) '
    'OR "tickets_ticket"."assignee_id" = %s)'
)


def ticket_scope_sql(*, tenant: Tenant, actor: Actor) -> tuple[str, list[int]] | None:
    """``ticket_scope`` as SQL on "tickets_ticket" for the staff roles ("" and no values when
    the actor sees every ticket), for the ticket list written without the ORM
    (tickets.queue_sql); None for every other actor, whose scope comes from
    ``ticket_scope``. The two must agree: tickets/tests/test_queue_sql.py compares them."""
    if actor.is_admin or actor.role in {"api", "system"}:
        return "", []
    if actor.role in {"agent", "light_agent"} and actor.user_id is not None:
        if not tenant.setting("restrict_agents_to_own_teams"):
            return "", []
        return _OWN_TEAMS_SQL, [tenant.pk, actor.user_id, actor.user_id]
    return None


@dataclass(frozen=True)
class TicketVisibility:
    """``ticket_scope`` for staff as a test on a ticket's team and assignee, without a query:
    what the realtime sockets check for every event (autocrm.realtime). ``teams`` is None
    when the actor sees every ticket of the tenant."""

    user_id: int | None
    teams: frozenset[int] | None

    def sees(self, *, team_id: int | None, assignee_id: int | None) -> bool:
        if self.teams is None:
            return True
        return (team_id is not None and team_id in self.teams) or (
            assignee_id is not None and assignee_id == self.user_id
        )

    @property
    def sees_all(self) -> bool:
        return self.teams is None


def ticket_visibility(*, tenant: Tenant, actor: Actor) -> TicketVisibility:
    """The staff actor's ticket scope, loaded once (one query for a restricted agent).
    Must agree with ``ticket_scope``: tickets/tests/test_access.py compares them."""
    if not actor.is_staff:
        raise PermissionDenied("Only staff follow tickets live.")
    if actor.is_admin or actor.role in {"api", "system"}:
        return TicketVisibility(actor.user_id, None)
    if actor.user_id is None or not tenant.setting("restrict_agents_to_own_teams"):
        return TicketVisibility(actor.user_id, None)
    teams = TeamMember.objects.filter(tenant=tenant, user_id=actor.user_id).values_list(
        "team_id", flat=True
    )
    return TicketVisibility(actor.user_id, frozenset(teams))


def can_see_internal(actor: Actor) -> bool:
    return actor.is_staff


def require_write(actor: Actor) -> None:
    if actor.role == "api" and actor.api_scope == "read":
        raise PermissionDenied("This API key is read-only.")


def require_edit(actor: Actor) -> None:
    """Changing ticket fields: agents and up (not light agents, not customers)."""
    require_write(actor)
    if actor.role in {"light_agent", "customer"}:
        raise PermissionDenied("Your role cannot change tickets.")


# What a customer may change on their own ticket with ticket_update: mark it solved.
CUSTOMER_CHANGES = {"status": frozenset({"solved"})}


def require_change(actor: Actor, changes: dict[str, object]) -> None:
    """Changing ticket fields: agents and up; customers only what CUSTOMER_CHANGES allows."""
    if actor.is_customer:
        require_write(actor)
        allowed = all(
            key in CUSTOMER_CHANGES and value in CUSTOMER_CHANGES[key]
            for key, value in changes.items()
        )
        if not changes or not allowed:
            raise PermissionDenied("Customers can only mark their own requests solved.")
        return
    require_edit(actor)


def customer_view(*, tenant: Tenant, actor: Actor, ticket: T) -> T:
    """``ticket`` as a customer may see it: custom fields the tenant shows customers, no
    tags, no metadata (they hold agents' working notes and integrations' data). A Ticket or
    a list row; changed in place (a Ticket so changed must not be saved)."""
    if not actor.is_customer:
        return ticket
    visible = set(tenant.setting("customer_visible_fields"))
    fields = ticket.custom_fields  # type: ignore[attr-defined]
    ticket.custom_fields = {k: v for k, v in fields.items() if k in visible}  # type: ignore[attr-defined]
    ticket.tags = []  # type: ignore[attr-defined]
    ticket.metadata = {}  # type: ignore[attr-defined]
    return ticket


def require_admin(actor: Actor) -> None:
    require_write(actor)
    if not actor.is_admin:
        raise PermissionDenied("Only owners and admins can do this.")


def require_visible(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> None:
    if not Ticket.objects.filter(ticket_scope(tenant=tenant, actor=actor), pk=ticket.pk).exists():
        raise PermissionDenied("You cannot see this ticket.")
