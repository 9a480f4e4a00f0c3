"""The ticket list's statement for the common queue shapes, written directly.

Compiling the list's queryset (``values_list`` with three joins, the filters, the keyset
condition) was about half of the Python time of a queue page (docs/tickets-performance.md).
For the shapes agents page through all day, filters on status, priority, type, channel,
assignee, team, requester and tags, with or without a cursor, in any sort of ``SORT_KEYS``
but relevance, this module writes the same statement as text: every column name and
operator below is a constant of this module, every value a parameter. The statement is the
one the ORM writes for the same filters (its joins in its order, tenant filter, keyset
comparison, ORDER BY and LIMIT), so PostgreSQL chooses the same plans; the tests run both
for a matrix of filters, sorts, cursors and roles and compare the pages and plans.

Anything else (free text, custom fields, date ranges, the requester's address, the
organization, a scope the builder does not write) returns None: the caller takes the ORM.
"""

from __future__ import annotations

from typing import Any

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.tickets import access
from autocrm.tickets.query import TicketFilters

# The list row's columns, in the order of selectors._ROW_LOOKUPS.
_COLUMNS = (
    'SELECT "tickets_ticket"."id", "tickets_ticket"."tenant_id", "tickets_ticket"."number", '
    '"tickets_ticket"."subject", "tickets_ticket"."status", "tickets_ticket"."priority", '
    '"tickets_ticket"."type", "tickets_ticket"."channel", "tickets_ticket"."organization_id", '
    '"tickets_ticket"."tags", "tickets_ticket"."custom_fields", "tickets_ticket"."metadata", '
    '"tickets_ticket"."merged_into_id", "tickets_ticket"."version", '
    '"tickets_ticket"."created_at", "tickets_ticket"."updated_at", '
    '"tickets_ticket"."first_response_at", "tickets_ticket"."solved_at", '
    '"tickets_ticket"."due_at", "tickets_ticket"."requester_id", "crm_contact"."email", '
    '"crm_contact"."name", "tickets_ticket"."assignee_id", "accounts_user"."email", '
    '"accounts_user"."name", "tickets_ticket"."team_id", "routing_team"."name" '
    'FROM "tickets_ticket"'
)
# The joined tables: name -> (table, join condition).
_JOINS = {
    "contact": ('"crm_contact"', '("tickets_ticket"."requester_id" = "crm_contact"."id")'),
    "user": ('"accounts_user"', '("tickets_ticket"."assignee_id" = "accounts_user"."id")'),
    "team": ('"routing_team"', '("tickets_ticket"."team_id" = "routing_team"."id")'),
}
_TENANT = ' WHERE "tickets_ticket"."tenant_id" = %s'


def _joins(filters: TicketFilters, *, scoped: bool) -> str:
    """The joins as the ORM writes them for the same filters, so the planner gets the same
    query: in the order the filters first name each table (the team scope names the team,
    then the assignee; then the assignee and team filters; then the row's columns), inner
    when a filter asks for an assignee or team id (the row must have one), else outer."""
    order = ["team", "user"] if scoped else []
    if filters.assignee is not None:
        order.append("user")
    if filters.team is not None:
        order.append("team")
    inner = {"contact"}
    if filters.assignee == "me" or isinstance(filters.assignee, int):
        inner.add("user")
    if isinstance(filters.team, int):
        inner.add("team")
    joins = []
    for name in dict.fromkeys([*order, "contact", "user", "team"]):
        table, condition = _JOINS[name]
        kind = "INNER JOIN" if name in inner else "LEFT OUTER JOIN"
        joins.append(f" {kind} {table} ON {condition}")
    return "".join(joins)


# Sort key columns (selectors.SORT_KEYS) as SQL; a key not named here is not built.
_SORT_COLUMNS = {
    "id": '"tickets_ticket"."id"',
    "number": '"tickets_ticket"."number"',
    "priority": '"tickets_ticket"."priority"',
    "created_at": '"tickets_ticket"."created_at"',
    "updated_at": '"tickets_ticket"."updated_at"',
}
# TicketFilters list attribute -> column matched with IN.
_IN_FILTERS = (
    ("statuses", '"tickets_ticket"."status"'),
    ("priorities", '"tickets_ticket"."priority"'),
    ("types", '"tickets_ticket"."type"'),
    ("channels", '"tickets_ticket"."channel"'),
)
_TAGS = '"tickets_ticket"."tags"'
_ASSIGNEE = '"tickets_ticket"."assignee_id"'
_TEAM = '"tickets_ticket"."team_id"'
_REQUESTER = '"tickets_ticket"."requester_id"'


def _marks(count: int) -> str:
    return ", ".join(["%s"] * count)


def covers(filters: TicketFilters) -> bool:
    """Whether the filters are a shape this module writes (the scope is checked apart)."""
    return not (
        filters.has_text
        or filters.requester_email
        or filters.organization_id is not None
        or filters.custom_fields
        or filters.date_ranges
    )


def queue_statement(
    *,
    tenant: Tenant,
    actor: Actor,
    filters: TicketFilters,
    keys: list[tuple[str, bool]],
    after: list[Any] | None,
    limit: int,
) -> tuple[str, list[Any]] | None:
    """The list statement and its parameters: ``limit`` rows in the order of ``keys``
    (column, descending), strictly after the key values ``after``; None for a shape the
    builder does not write (the caller compiles the queryset instead)."""
    if not covers(filters) or any(column not in _SORT_COLUMNS for column, _ in keys):
        return None
    scope = access.ticket_scope_sql(tenant=tenant, actor=actor)
    if scope is None:
        return None
    # A scope condition names the team, then the assignee (access.ticket_scope_sql).
    parts = [_COLUMNS + _joins(filters, scoped=bool(scope[0])) + _TENANT]
    params: list[Any] = [tenant.pk]
    if scope[0]:
        parts.append(scope[0])
        params.extend(scope[1])
    for attribute, column in _IN_FILTERS:
        values = getattr(filters, attribute)
        if values:
            parts.append(f"{column} IN ({_marks(len(values))})")
            params.extend(values)
    if filters.tags_all:
        parts.append(f"{_TAGS} @> (ARRAY[{_marks(len(filters.tags_all))}])::varchar(50)[]")
        params.extend(filters.tags_all)
    if filters.tags_none:
        parts.append(f"NOT ({_TAGS} && (ARRAY[{_marks(len(filters.tags_none))}])::varchar(50)[])")
        params.extend(filters.tags_none)
    if filters.assignee == "none":
        parts.append(f"{_ASSIGNEE} IS NULL")
    elif filters.assignee == "me":
        if actor.user_id is None:  # nothing can match: the ORM path answers that
            return None
        parts.append(f"{_ASSIGNEE} = %s")
        params.append(actor.user_id)
    elif isinstance(filters.assignee, int):
        parts.append(f"{_ASSIGNEE} = %s")
        params.append(filters.assignee)
    if filters.team == "none":
        parts.append(f"{_TEAM} IS NULL")
    elif isinstance(filters.team, int):
        parts.append(f"{_TEAM} = %s")
        params.append(filters.team)
    if filters.requester_id is not None:
        parts.append(f"{_REQUESTER} = %s")
        params.append(filters.requester_id)
    if after is not None:
        # Every SORT_KEYS order but relevance runs all its keys one way: one row
        # comparison, answered by an index range scan (as selectors._after_cursor writes it).
        directions = {desc for _, desc in keys}
        if len(directions) != 1:
            return None
        columns = ", ".join(_SORT_COLUMNS[column] for column, _ in keys)
        op = "<" if keys[0][1] else ">"
        parts.append(f"({columns}) {op} ({_marks(len(keys))})")
        params.extend(after)
    order = ", ".join(
        f"{_SORT_COLUMNS[c]} DESC" if d else f"{_SORT_COLUMNS[c]} ASC" for c, d in keys
    )
    # The limit is written into the text like the ORM writes it (an int by construction):
    # the planner weighs the index walk against a sort knowing how many rows are wanted.
    return f"{' AND '.join(parts)} ORDER BY {order} LIMIT {int(limit)}", params
