"""A staff member's reads of one ticket's page, as prepared statements (``core.sql``).

The ticket page (and every action on it) starts by reading the ticket with its requester,
company, assignee and team, then its messages and files. Through the ORM each statement cost
about 1 ms of Python to compile (the ticket's four ``select_related`` joins twice that) and
PostgreSQL planned it anew every time; written here as constant text they are prepared once
per pooled connection (ADR 0053). The statements are the ones the ORM wrote for
``selectors._ticket_get``, ``message_list`` and ``attachment_list`` with the staff scope
of ``access.ticket_scope_sql``; other actors (customers) keep the ORM path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied

from autocrm.accounts.models import User
from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant
from autocrm.crm.models import Company, Contact
from autocrm.tickets import access
from autocrm.tickets.models import Ticket

# Search vectors and the password hash: nothing on a page reads them (deferred on the
# instances, loaded on access as with ``.defer()``).
TICKET_SUBJECT = "tickets.ticket"  # Event.subject_type of a ticket's own events
_TICKET = sql.ModelColumns(Ticket, '"tickets_ticket"', skip=("search_vector",))
_REQUESTER = sql.ModelColumns(Contact, "c", skip=("search_words",))
_ORGANIZATION = sql.ModelColumns(Company, "o")
_REQUESTER_COMPANY = sql.ModelColumns(Company, "rc")
_PARTS = (_TICKET, _REQUESTER, _ORGANIZATION, _REQUESTER_COMPANY)
# The customer card shows the ticket's company, else the requester's. Assignee and team
# are shown by id (the property panel's pickers): no page of a ticket reads their rows.
_TICKET_SQL = (
    f"SELECT {', '.join(p.sql for p in _PARTS)} "  # noqa: S608 - column names of our models
    'FROM "tickets_ticket" INNER JOIN crm_contact c ON "tickets_ticket".requester_id = c.id '
    'LEFT OUTER JOIN crm_company o ON "tickets_ticket".organization_id = o.id '
    "LEFT OUTER JOIN crm_company rc ON c.company_id = rc.id "
    'WHERE "tickets_ticket".tenant_id = %s AND "tickets_ticket".number = %s'
)


def ticket_by_number(tenant: Tenant, scope: tuple[str, list[int]], number: int) -> Ticket:
    """The ticket numbered ``number`` within ``scope`` (``access.ticket_scope_sql`` of a
    staff actor), its requester, its company and the requester's read with it (its
    assignee and team on access); raises ``Ticket.DoesNotExist``."""
    condition, values = scope
    text = f"{_TICKET_SQL} AND {condition}" if condition else _TICKET_SQL
    rows = sql.fetch_all(text, [tenant.pk, number, *values])
    if not rows:
        raise Ticket.DoesNotExist(f"No ticket #{number}.")
    (ticket, requester, organization, company), _ = sql.build_row(rows[0], *_PARTS)
    sql.cache_related(ticket, tenant=tenant, requester=requester, organization=organization)
    sql.cache_related(requester, tenant=tenant, company=company)
    return ticket


class OtherTicket(NamedTuple):
    number: int
    subject: str
    status: str


# The requester's other tickets, newest first: one range of the index (tenant, requester,
# updated_at desc, id desc) whoever the requester, so the generic plan of the prepared
# statement is the right one even for a requester of thousands of tickets (ADR 0045 had
# to plan the ORM's statement, which joined three tables before sorting, per value).
_OTHERS_SQL = (
    'SELECT "tickets_ticket".number, "tickets_ticket".subject, "tickets_ticket".status '
    'FROM "tickets_ticket" WHERE "tickets_ticket".tenant_id = %s '
    'AND "tickets_ticket".requester_id = %s AND "tickets_ticket".id <> %s'
)
_OTHERS_ORDER = ' ORDER BY "tickets_ticket".updated_at DESC, "tickets_ticket".id DESC LIMIT %s'


def requester_tickets(
    *, tenant: Tenant, actor: Actor, ticket: Ticket, limit: int
) -> list[OtherTicket]:
    """The requester's ``limit`` most recently updated other tickets the staff ``actor``
    may see (``selectors.ticket_list`` by requester, sorted by ``-updated_at``)."""
    scope = access.ticket_scope_sql(tenant=tenant, actor=actor)
    if scope is None:
        raise PermissionDenied("Staff only.")
    condition, values = scope
    scoped = f" AND {condition}" if condition else ""
    text = f"{_OTHERS_SQL}{scoped}{_OTHERS_ORDER}"
    rows = sql.fetch_all(text, [tenant.pk, ticket.requester_id, ticket.pk, *values, limit])
    return [OtherTicket(*row) for row in rows]


# The conversation (``selectors.message_list`` for staff): the columns the page shows, the
# authors' names and addresses with them.
_MESSAGES_SQL = (
    "SELECT m.id, m.public, m.author_user_id, u.name, u.email, m.author_contact_id, c.name, "
    "c.email, m.delivery_state, m.created_at, m.body_html FROM tickets_message m "
    "LEFT OUTER JOIN accounts_user u ON m.author_user_id = u.id "
    "LEFT OUTER JOIN crm_contact c ON m.author_contact_id = c.id "
    "WHERE m.tenant_id = %s AND m.ticket_id = %s ORDER BY m.created_at ASC, m.id ASC"
)
# Its files (``selectors.attachment_list`` for staff).
_FILES_SQL = (
    "SELECT a.id, a.message_id, a.filename, a.content_type, a.size FROM tickets_attachment a "
    "WHERE a.tenant_id = %s AND a.ticket_id = %s ORDER BY a.created_at ASC, a.id ASC"
)


def message_rows(tenant: Tenant, ticket: Ticket) -> list[Any]:
    """(id, public, author user id, name, email, author contact id, name, email, delivery
    state, created_at, body_html) of every message, oldest first (staff see them all)."""
    return sql.fetch_all(_MESSAGES_SQL, [tenant.pk, ticket.pk])


def file_rows(tenant: Tenant, ticket: Ticket) -> list[Any]:
    """(id, message id, filename, content type, size) of every file of the ticket."""
    return sql.fetch_all(_FILES_SQL, [tenant.pk, ticket.pk])


# The ticket's audit history, newest first (``selectors.ticket_timeline`` for staff, the
# page's first ``limit``), with each event's acting user.
_EVENT = sql.ModelColumns(Event, "e")
_ACTOR = sql.ModelColumns(User, "u", skip=("password",))
_TIMELINE_SQL = (
    f"SELECT {_EVENT.sql}, {_ACTOR.sql} FROM core_event e "  # noqa: S608 - our column names
    "LEFT OUTER JOIN accounts_user u ON e.actor_id = u.id "
    "WHERE e.tenant_id = %s AND e.subject_type = %s AND e.subject_id = %s "
    "ORDER BY e.created_at DESC, e.id DESC LIMIT %s"
)


def ticket_history(*, tenant: Tenant, actor: Actor, ticket: Ticket, limit: int) -> list[Event]:
    """``selectors.ticket_timeline(...)[:limit]``: staff only (it includes internal
    changes), nothing for anyone else."""
    if not access.can_see_internal(actor):
        return []
    events = []
    for row in sql.fetch_all(_TIMELINE_SQL, [tenant.pk, TICKET_SUBJECT, str(ticket.pk), limit]):
        (event, actor_user), _ = sql.build_row(row, _EVENT, _ACTOR)
        sql.cache_related(event, actor=actor_user)
        events.append(event)
    return events


# The events that link the ticket to others (``link_selectors``), oldest first.
_LINK_EVENTS_SQL = (
    "SELECT e.type, e.payload FROM core_event e WHERE e.tenant_id = %s "
    "AND e.subject_type = %s AND e.subject_id = %s AND e.type = ANY(%s::text[]) "
    "ORDER BY e.created_at ASC, e.id ASC"
)


def link_events(tenant: Tenant, ticket: Ticket, types: Sequence[str]) -> list[Any]:
    """(type, payload) of the ticket's own events of these ``types``, oldest first."""
    return sql.fetch_all(_LINK_EVENTS_SQL, [tenant.pk, TICKET_SUBJECT, str(ticket.pk), list(types)])
