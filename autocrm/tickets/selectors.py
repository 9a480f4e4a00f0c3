"""Every read of tickets for pages and the API: scoped to the tenant and the actor."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.api.pagination import MAX_LIMIT
from autocrm.core.models import Event, Tenant
from autocrm.core.selectors import audit_timeline
from autocrm.tickets import access, page_reads, queue_sql, text_search
from autocrm.tickets.models import (
    Attachment,
    Message,
    Priority,
    Ticket,
)
from autocrm.tickets.query import TicketFilters, is_digits
from autocrm.tickets.search import search_config

MAX_PAGE_SIZE = MAX_LIMIT  # the maximum the API advertises is the one enforced
# sort name -> ordered (column, descending) keys; the last key is always the unique id
SORT_KEYS: dict[str, list[tuple[str, bool]]] = {
    "-updated_at": [("updated_at", True), ("id", True)],
    "updated_at": [("updated_at", False), ("id", False)],
    "-created_at": [("created_at", True), ("id", True)],
    "created_at": [("created_at", False), ("id", False)],
    "priority": [("priority", True), ("updated_at", True), ("id", True)],
    "-number": [("number", True), ("id", True)],
    "number": [("number", False), ("id", False)],
    "relevance": [("rank", True), ("id", True)],
}


_BIGINT = range(-(2**63), 2**63)  # the keys are bigint/integer columns


class CursorError(ValueError):
    """A cursor that was not made by us, or for another sort."""


class Ref:
    """A ticket's requester, assignee or team as a list row carries it."""

    __slots__ = ("email", "id", "name")

    def __init__(self, id: int, email: str, name: str) -> None:
        self.id, self.email, self.name = id, email, name

    @property
    def pk(self) -> int:
        return self.id


# The columns of a list row, in this order (queryset lookups); requester, assignee and team
# become Refs.
_ROW_LOOKUPS = (
    "id", "tenant_id", "number", "subject", "status", "priority", "type", "channel",
    "organization_id", "tags", "custom_fields", "metadata", "merged_into_id", "version",
    "created_at", "updated_at", "first_response_at", "solved_at", "due_at",
    "requester_id", "requester__email", "requester__name",
    "assignee_id", "assignee__email", "assignee__name",
    "team_id", "team__name",
)  # fmt: skip


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


class TicketRow:
    """One ticket of a list page: the columns the list shows, read as plain values (no model
    instance per ticket and per related row: building 200 of them was most of the Python
    time of a 50-row page). ``highlight`` is set by a text search, ``rank`` by relevance."""

    __slots__ = (
        "assignee", "assignee_id", "channel", "created_at", "custom_fields", "due_at",
        "first_response_at", "highlight", "id", "merged_into_id", "metadata", "number",
        "organization_id", "priority", "rank", "requester", "requester_id", "solved_at",
        "status", "subject", "tags", "team", "team_id", "tenant_id", "type", "updated_at",
        "version",
    )  # fmt: skip

    def __init__(self, row: tuple[Any, ...], rank: float | None = None) -> None:
        (
            self.id, self.tenant_id, self.number, self.subject, self.status, self.priority,
            self.type, self.channel, self.organization_id, self.tags, custom_fields, metadata,
            self.merged_into_id, self.version, self.created_at, self.updated_at,
            self.first_response_at, self.solved_at, self.due_at,
            self.requester_id, requester_email, requester_name,
            self.assignee_id, assignee_email, assignee_name,
            self.team_id, team_name,
        ) = row[: len(_ROW_LOOKUPS)]  # fmt: skip
        self.custom_fields: dict[str, Any] = _json(custom_fields)
        self.metadata: dict[str, Any] = _json(metadata)
        self.requester = Ref(self.requester_id, requester_email, requester_name)
        self.assignee = (
            Ref(self.assignee_id, assignee_email, assignee_name)
            if self.assignee_id is not None
            else None
        )
        self.team = Ref(self.team_id, "", team_name) if self.team_id is not None else None
        self.rank = rank
        self.highlight: dict[str, Any] | None = None

    id: int
    tenant_id: int
    number: int
    subject: str
    status: str
    priority: int
    type: str
    channel: str
    organization_id: int | None
    tags: list[str]
    merged_into_id: int | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    first_response_at: dt.datetime | None
    solved_at: dt.datetime | None
    due_at: dt.datetime | None
    requester_id: int
    assignee_id: int | None
    team_id: int | None

    @property
    def pk(self) -> int:
        return self.id

    @property
    def priority_name(self) -> str:
        return str(Priority(self.priority).label)


@dataclass
class TicketPage:
    items: list[TicketRow]
    next_cursor: str | None


def _fetch_rows(tickets: QuerySet[Ticket], *, ranked: bool = False) -> list[TicketRow]:
    """The rows of ``tickets`` (ordered and sliced by the caller), in one prepared statement:
    the list's SQL text repeats while its values change, and PostgreSQL spent longer planning
    it (about 2 ms: many indexes) than running it."""
    lookups = [*_ROW_LOOKUPS, *(["rank"] if ranked else [])]
    try:
        query, params = tickets.values_list(*lookups).query.sql_with_params()
    except EmptyResultSet:  # e.g. "assignee:me" for an API key: nothing can match
        return []
    rows = sql.fetch_all(query, params)
    if ranked:
        return [TicketRow(row, rank=row[-1]) for row in rows]
    return [TicketRow(row) for row in rows]


def _encode_cursor(sort: str, values: list[Any], mode: str = "") -> str:
    data: dict[str, Any] = {
        "s": sort,
        "v": [v.isoformat() if isinstance(v, dt.datetime) else v for v in values],
    }
    if mode:
        data["m"] = mode
    raw = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[list[Any], str]:
    """The sort key values after which the page starts, and the text-match mode the cursor
    was made for ("" or "typo")."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, dict) or data.get("s") != sort:
            raise CursorError("The cursor belongs to another sort order.")
        mode = data.get("m", "")
        if mode not in text_search.MATCH_MODES:
            raise CursorError("The cursor is malformed.")
        raw_values = data["v"]
        keys = SORT_KEYS[sort]
        if not isinstance(raw_values, list) or len(raw_values) != len(keys):
            raise CursorError("The cursor is malformed.")
        values: list[Any] = []
        for (column, _), value in zip(keys, raw_values, strict=True):
            if column.endswith("_at"):
                values.append(dt.datetime.fromisoformat(value))
            elif column == "rank":
                values.append(float(value))
            elif isinstance(value, int) and not isinstance(value, bool) and value in _BIGINT:
                values.append(value)
            else:
                raise CursorError("The cursor is malformed.")
        return values, mode
    except CursorError:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise CursorError("The cursor is malformed.") from exc


def _after_cursor(sort: str, values: list[Any]) -> Q | RawSQL:
    """Rows strictly after the cursor in the sort order. When all keys run the same way
    this is one row comparison, which PostgreSQL answers with an index range scan."""
    keys = SORT_KEYS[sort]
    if len({desc for _, desc in keys}) == 1 and all(c != "rank" for c, _ in keys):
        op = "<" if keys[0][1] else ">"
        columns = ", ".join(f'"tickets_ticket"."{c}"' for c, _ in keys)
        marks = ", ".join(["%s"] * len(keys))
        # Column names come from SORT_KEYS above, never from input; values are parameters.
        return RawSQL(  # noqa: S611
            f"({columns}) {op} ({marks})", values, output_field=BooleanField()
        )
    condition = Q()
    for i, (column, desc) in enumerate(keys):
        step = Q(**{f"{column}__{'lt' if desc else 'gt'}": values[i]})
        for prev_column, _ in keys[:i]:
            step &= Q(**{prev_column: values[keys.index((prev_column, _))]})
        condition |= step
    return condition


def _filtered(*, tenant: Tenant, actor: Actor, filters: TicketFilters) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(tenant=tenant).filter(
        access.ticket_scope(tenant=tenant, actor=actor)
    )
    if filters.statuses:
        tickets = tickets.filter(status__in=filters.statuses)
    if filters.priorities:
        tickets = tickets.filter(priority__in=filters.priorities)
    if filters.types:
        tickets = tickets.filter(type__in=filters.types)
    if filters.channels:
        tickets = tickets.filter(channel__in=filters.channels)
    if filters.tags_all:
        tickets = tickets.filter(tags__contains=filters.tags_all)
    if filters.tags_none:
        tickets = tickets.exclude(tags__overlap=filters.tags_none)
    if filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee == "me":
        tickets = tickets.filter(assignee_id=actor.user_id) if actor.user_id else tickets.none()
    elif isinstance(filters.assignee, int):
        tickets = tickets.filter(assignee_id=filters.assignee)
    if filters.team == "none":
        tickets = tickets.filter(team__isnull=True)
    elif filters.team is not None:
        tickets = tickets.filter(team_id=filters.team)
    if filters.requester_id is not None:
        tickets = tickets.filter(requester_id=filters.requester_id)
    if filters.requester_email:
        tickets = tickets.filter(requester__email=filters.requester_email.lower())
    if filters.organization_id is not None:
        tickets = tickets.filter(organization_id=filters.organization_id)
    for key, value in filters.custom_fields.items():
        candidates: list[Any] = [value]
        if value in {"true", "false"}:
            candidates.append(value == "true")
        if is_digits(value.removeprefix("-")):
            candidates.append(int(value))
        match = Q()
        for candidate in candidates:
            match |= Q(custom_fields__contains={key: candidate})
            match |= Q(custom_fields__contains={key: [candidate]})
        tickets = tickets.filter(match)
    for column, lookup, moment in filters.date_ranges:
        tickets = tickets.filter(**{f"{column}__{lookup}": moment})
    return tickets


def _text_query(tenant: Tenant, filters: TicketFilters) -> SearchQuery | None:
    config = search_config(tenant)
    query: SearchQuery | None = None
    if filters.words:
        query = SearchQuery(filters.text, config=config, search_type="plain")
    for phrase in filters.phrases:
        phrase_query = SearchQuery(phrase, config=config, search_type="phrase")
        query = phrase_query if query is None else query & phrase_query
    return query


def ticket_list(
    *,
    tenant: Tenant,
    actor: Actor,
    filters: TicketFilters,
    cursor: str | None = None,
    limit: int = 50,
    highlight: bool = True,
) -> TicketPage:
    """One page of tickets. Free text matches the weighted full-text vector (subject, then
    messages); when nothing matches it, words match the subject by trigram word similarity
    (partial words and typos), and the cursor keeps that mode for the next pages."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if actor.is_customer and filters.has_text:
        # Message text includes internal notes: a match would reveal what they say.
        raise PermissionDenied("Customers filter their requests; text search is for staff.")
    if not filters.has_text:
        queue = _queue_page(tenant=tenant, actor=actor, filters=filters, cursor=cursor, limit=limit)
        if queue is not None:
            return queue
    tickets = _filtered(tenant=tenant, actor=actor, filters=filters)
    text_query = _text_query(tenant, filters) if filters.has_text else None
    sort = filters.sort or ("priority" if not filters.has_text else "-updated_at")
    mode = ""
    if text_query is not None and sort == "relevance":
        text_search.set_typo_tolerance()
        match = Q(search_vector=text_query)
        if filters.words and not filters.phrases:
            match |= Q(subject__trigram_word_similar=filters.text)
        tickets = tickets.filter(match).annotate(rank=SearchRank(F("search_vector"), text_query))
    elif sort == "relevance":
        sort = "-updated_at"
    if cursor:
        after, mode = _decode_cursor(cursor, sort)
        tickets = tickets.filter(_after_cursor(sort, after))
    order = [f"-{column}" if desc else column for column, desc in SORT_KEYS[sort]]
    ranked = sort == "relevance"
    if text_query is not None and sort != "relevance":
        keys = SORT_KEYS[sort]
        ids: list[int] = []
        if mode != "typo":
            ids = text_search.text_page(tenant, tickets, filters, keys, limit + 1)
        if mode == "typo" or (not ids and not cursor and filters.words and not filters.phrases):
            mode = "typo"
            text_search.set_typo_tolerance()
            typo = text_search.typo_query(tenant, filters)
            if typo is not None:
                ids = text_search.text_page(tenant, tickets, filters, keys, limit + 1, typo)
        by_id = {t.id: t for t in _fetch_rows(tickets.filter(pk__in=ids).order_by())}
        page = [by_id[i] for i in ids if i in by_id]
    else:
        page = _fetch_rows(tickets.order_by(*order)[: limit + 1], ranked=ranked)
    next_cursor = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        next_cursor = _encode_cursor(sort, [getattr(last, c) for c, _ in SORT_KEYS[sort]], mode)
    if highlight and text_query is not None and page:
        _attach_highlights(tenant=tenant, actor=actor, tickets=page, filters=filters)
    if actor.is_customer:
        for row in page:
            access.customer_view(tenant=tenant, actor=actor, ticket=row)
    return TicketPage(items=page, next_cursor=next_cursor)


def _queue_page(
    *, tenant: Tenant, actor: Actor, filters: TicketFilters, cursor: str | None, limit: int
) -> TicketPage | None:
    """A page without free text through the statement tickets.queue_sql writes (no
    queryset to build and compile: half of the Python time of a queue page); None for a
    shape it does not write. Same rows, order and cursors as the queryset path below."""
    sort = filters.sort or "priority"
    if sort == "relevance":  # nothing to rank without text
        sort = "-updated_at"
    after, mode = _decode_cursor(cursor, sort) if cursor else (None, "")
    keys = SORT_KEYS[sort]
    statement = queue_sql.queue_statement(
        tenant=tenant, actor=actor, filters=filters, keys=keys, after=after, limit=limit + 1
    )
    if statement is None:
        return None
    # A requester's tickets are not prepared: requesters range from one ticket to thousands
    # and the generic plan, made for the average of ten, joined all of a busy requester's
    # rows before sorting them (9 ms of PostgreSQL CPU on the ticket page's sidebar at 1M
    # tickets, against 0.7 ms planned for the value).
    page = [
        TicketRow(row) for row in sql.fetch_all(*statement, prepare=filters.requester_id is None)
    ]
    next_cursor = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        next_cursor = _encode_cursor(sort, [getattr(last, c) for c, _ in keys], mode)
    return TicketPage(items=page, next_cursor=next_cursor)


def _attach_highlights(
    *, tenant: Tenant, actor: Actor, tickets: list[TicketRow], filters: TicketFilters
) -> None:
    """``ticket.highlight``: the subject and the best matching message with <mark> tags
    (computed for the page's rows only)."""
    config = search_config(tenant)
    text = " ".join([filters.text, *filters.phrases]).strip()
    options = (
        "StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=18, MinWords=6, "
        'FragmentDelimiter=" … "'
    )
    public_only = "" if access.can_see_internal(actor) else "AND m.public "
    sql = (
        "SELECT t.id, ts_headline(%s::regconfig, t.subject, q, 'HighlightAll=true, "  # noqa: S608 — the only f-part is a constant condition; values are parameters
        "StartSel=<mark>, StopSel=</mark>'), ("
        "  SELECT ts_headline(%s::regconfig, m.body_text, q, %s) FROM tickets_message m "
        f"  WHERE m.ticket_id = t.id AND m.tenant_id = t.tenant_id {public_only}"
        "  AND to_tsvector(%s::regconfig, left(m.body_text, 100000)) @@ q "
        "  ORDER BY m.created_at DESC LIMIT 1) "
        "FROM tickets_ticket t, plainto_tsquery(%s::regconfig, %s) q "
        "WHERE t.id = ANY(%s) AND t.tenant_id = %s"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            sql, [config, config, options, config, config, text, [t.pk for t in tickets], tenant.pk]
        )
        found = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    for ticket in tickets:
        subject, snippet = found.get(ticket.pk, (ticket.subject, None))
        highlight = {
            "subject": _escape_marked(subject),
            "snippet": _escape_marked(snippet) if snippet else None,
        }
        ticket.highlight = highlight


def _escape_marked(text: str) -> str:
    """HTML-escape a headline but keep the <mark> tags ts_headline added."""
    import html

    return html.escape(text).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")


def _ticket_get(*, tenant: Tenant, actor: Actor, **lookup: Any) -> Ticket:
    ticket = (
        Ticket.objects.filter(tenant=tenant)
        .filter(access.ticket_scope(tenant=tenant, actor=actor))
        .select_related("requester", "organization", "assignee", "team")
        .get(**lookup)
    )
    return access.customer_view(tenant=tenant, actor=actor, ticket=ticket)


def ticket_get(*, tenant: Tenant, actor: Actor, ticket_id: int) -> Ticket:
    """Raises Ticket.DoesNotExist when missing or not visible to the actor."""
    return _ticket_get(tenant=tenant, actor=actor, pk=ticket_id)


def ticket_get_by_number(*, tenant: Tenant, actor: Actor, number: int) -> Ticket:
    """As ``ticket_get``, by the number people use (one statement: every page of a ticket
    starts with it; prepared for staff, ``page_reads``)."""
    scope = access.ticket_scope_sql(tenant=tenant, actor=actor)
    if scope is not None:
        return page_reads.ticket_by_number(tenant, scope, number)
    return _ticket_get(tenant=tenant, actor=actor, number=number)


def message_list(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> QuerySet[Message]:
    """The conversation, oldest first; customers see public messages only."""
    messages = Message.objects.filter(tenant=tenant, ticket=ticket).select_related(
        "author_user", "author_contact"
    )
    if not access.can_see_internal(actor):
        messages = messages.filter(public=True)
    return messages.order_by("created_at", "id")


def ticket_timeline(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> QuerySet[Event]:
    """The audit history of one ticket (staff only: it includes internal changes)."""
    if not access.can_see_internal(actor):
        return Event.objects.none()
    return audit_timeline(tenant=tenant, subject_type="tickets.ticket", subject_id=str(ticket.pk))


def attachment_list(*, tenant: Tenant, actor: Actor, ticket: Ticket) -> QuerySet[Attachment]:
    attachments = Attachment.objects.filter(tenant=tenant, ticket=ticket)
    if not access.can_see_internal(actor):
        attachments = attachments.filter(
            Q(message__isnull=True, pending=False) | Q(message__public=True)
        )
    return attachments.order_by("created_at", "id")


def attachment_get(*, tenant: Tenant, actor: Actor, attachment_id: int) -> Attachment:
    """Raises Attachment.DoesNotExist unless the actor may see the attachment's ticket (and,
    for customers, the attachment is not on an internal note)."""
    attachment = Attachment.objects.select_related("ticket", "message").get(
        tenant=tenant, pk=attachment_id
    )
    if not Ticket.objects.filter(
        access.ticket_scope(tenant=tenant, actor=actor), pk=attachment.ticket_id
    ).exists():
        raise Attachment.DoesNotExist
    if not access.can_see_internal(actor) and (
        attachment.pending or (attachment.message and not attachment.message.public)
    ):
        raise Attachment.DoesNotExist
    return attachment


def ticket_count(
    *, tenant: Tenant, actor: Actor, filters: TicketFilters, cap: int | None = None
) -> int:
    """How many tickets the actor sees that match ``filters`` (the workspace's view counts).
    Free text counts full-text matches only (the typo fallback is for browsing a list).
    With ``cap``, counting stops there (``COUNT`` over a ``LIMIT``): a count the caller shows
    as "999+" need not visit the other 200,000 matching rows."""
    tickets = _filtered(tenant=tenant, actor=actor, filters=filters)
    text_query = _text_query(tenant, filters) if filters.has_text else None
    if text_query is not None:
        tickets = tickets.filter(search_vector=text_query)
    if cap is not None:
        return tickets.order_by()[:cap].count()
    return tickets.count()


def ticket_subjects(*, tenant: Tenant, actor: Actor, numbers: set[int]) -> dict[int, str]:
    """Subjects by ticket number, of the tickets the actor may see (one query: the activity
    feed names tickets whose events carry only the number)."""
    if not numbers:
        return {}
    rows = (
        Ticket.objects.filter(tenant=tenant, number__in=numbers)
        .filter(access.ticket_scope(tenant=tenant, actor=actor))
        .values_list("number", "subject")
    )
    return dict(rows)


def ticket_labels(
    *, tenant: Tenant, actor: Actor, ids: set[int], numbers: set[int]
) -> list[tuple[int, int, str]]:
    """(id, number, subject) of the tickets the actor may see among these ids and numbers,
    in one query: the activity feed names the ticket of each event, by the number ticket
    events carry or by the id the others (routing, SLA, e-mail) refer to."""
    if not ids and not numbers:
        return []
    rows = (
        Ticket.objects.filter(tenant=tenant)
        .filter(Q(pk__in=ids) | Q(number__in=numbers))
        .filter(access.ticket_scope(tenant=tenant, actor=actor))
        .values_list("pk", "number", "subject")
    )
    return list(rows)


@dataclass(frozen=True)
class AgentStats:
    unsolved: int  # assigned to the agent, not solved or closed
    solved_today: int  # assigned to the agent, solved since midnight UTC
    median_first_response: dt.timedelta | None  # of their tickets first answered this week


# Constant SQL; the values are parameters.
_AGENT_STATS_SQL = """
SELECT
    count(*) FILTER (WHERE status IN ('new', 'open', 'pending', 'on_hold')),
    count(*) FILTER (WHERE solved_at >= %(today)s),
    percentile_cont(0.5) WITHIN GROUP (ORDER BY first_response_at - created_at)
        FILTER (WHERE first_response_at >= %(week)s)
FROM tickets_ticket
WHERE tenant_id = %(tenant)s AND assignee_id = %(user)s
"""


def agent_stats(*, tenant: Tenant, actor: Actor, now: dt.datetime) -> AgentStats:
    """The signed-in agent's own numbers for the dashboard, in one statement over their
    assigned tickets (the assignee index)."""
    if actor.user_id is None:
        return AgentStats(0, 0, None)
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - dt.timedelta(days=today.weekday())
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            _AGENT_STATS_SQL,
            {"tenant": tenant.pk, "user": actor.user_id, "today": today, "week": week},
        )
        unsolved, solved_today, median = cursor.fetchone()
    return AgentStats(unsolved, solved_today, median)
