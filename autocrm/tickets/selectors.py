"""Every read of tickets for pages and the API: scoped to the tenant and the actor."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import BooleanField, F, Q, QuerySet
from django.db.models.expressions import RawSQL

from autocrm.core.actors import Actor
from autocrm.core.api.pagination import MAX_LIMIT
from autocrm.core.models import Event, Tenant
from autocrm.core.selectors import audit_timeline
from autocrm.tickets import access
from autocrm.tickets.models import Attachment, CustomField, Macro, Message, Tag, Ticket, TicketView
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


class CursorError(ValueError):
    """A cursor that was not made by us, or for another sort."""


@dataclass
class TicketPage:
    items: list[Ticket]
    next_cursor: str | None


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
        if mode not in MATCH_MODES:
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
            elif isinstance(value, int) and not isinstance(value, bool):
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


TYPO_THRESHOLD = "0.5"  # pg_trgm word similarity; the default 0.6 misses one-letter typos
MATCH_MODES = ("", "typo")  # full text; else (nothing matched) typo-tolerant subject match
# Text search reads the newest rows of the sort order first and stops at a page of matches;
# when this many rows hold too few matches, the term is rare: all matches come from the
# GIN index instead (see _text_page and docs/tickets-performance.md).
SEARCH_WINDOW = 5000
# Typo matching checks each row's subject cheaply, while its GIN path rechecks many rows
# that share trigrams with the words: walk further before taking that path.
TYPO_WINDOW_FACTOR = 2
# Up to this many matches are fetched through the GIN index and sorted; more means a term
# common enough that walking the sort order finds a page soon.
MATCH_CAP = 5000


def _set_typo_tolerance() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [TYPO_THRESHOLD]
        )


def _match_sql(tenant: Tenant, filters: TicketFilters, mode: str, table: str) -> RawSQL:
    """The text condition on ``table``: the full-text vector matches every word and phrase,
    or (mode "typo") the subject is word-similar to the words."""
    if mode == "typo":
        return RawSQL(  # noqa: S611 - constant SQL and alias; the words are a parameter
            f'{table}."subject" %%> %s', [filters.text], output_field=BooleanField()
        )
    config = search_config(tenant)
    parts: list[str] = []
    params: list[str] = []
    if filters.words:
        parts.append("plainto_tsquery(%s::regconfig, %s)")
        params += [config, filters.text]
    for phrase in filters.phrases:
        parts.append("phraseto_tsquery(%s::regconfig, %s)")
        params += [config, phrase]
    # The SQL text is built from constants and the table alias; values are parameters.
    return RawSQL(  # noqa: S611
        f'{table}."search_vector" @@ ({" && ".join(parts)})', params, output_field=BooleanField()
    )


def _text_page(
    tenant: Tenant,
    tickets: QuerySet[Ticket],
    filters: TicketFilters,
    mode: str,
    sort: str,
    take: int,
) -> list[int]:
    """Ids of the first ``take`` matching tickets in ``sort`` order. PostgreSQL's row
    estimate for a text match is a guess (for a word that matches nothing it walked the
    whole tenant's recency index), so the shape is chosen from what the data shows:

    1. walk the first SEARCH_WINDOW rows of the sort order and stop at ``take`` matches:
       a term common among recent tickets is answered here;
    2. otherwise count the matches from the GIN index alone (bitmap scan, at most
       MATCH_CAP rows read): up to MATCH_CAP of them are sorted and answered directly;
    3. more than that means a common term, just not among the newest rows: walk on in
       sort order until a page is found."""
    from django.db import connection

    window = SEARCH_WINDOW * (TYPO_WINDOW_FACTOR if mode == "typo" else 1)
    keys = SORT_KEYS[sort]
    columns = [column for column, _ in keys]
    order = ", ".join(f'"{c}" {"DESC" if desc else "ASC"}' for c, desc in keys)
    needed = list(dict.fromkeys(["id", *columns, "search_vector", "subject"]))
    window_sql, window_params = (
        tickets.order_by(*[f"-{c}" if d else c for c, d in keys])
        .values(*needed)[:window]
        .query.sql_with_params()
    )
    match = _match_sql(tenant, filters, mode, "w")
    matching = tickets.filter(_match_sql(tenant, filters, mode, '"tickets_ticket"'))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w.id FROM ({window_sql}) w WHERE {match.sql} ORDER BY {order} LIMIT %s",
            [*window_params, *match.params, take],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if len(ids) == take:
            return ids
        cursor.execute(f"SELECT count(*) FROM ({window_sql}) w", window_params)
        if cursor.fetchone()[0] < window:
            return ids  # the window held every candidate row
        every_sql, every_params = (
            matching.order_by().values(*dict.fromkeys(["id", *columns])).query.sql_with_params()
        )
        # Only a bitmap scan of the GIN index may answer this (a walk or a sequential scan
        # is what the guess would pick). The settings are transaction-local: an error
        # discards them with the transaction, success switches them back.
        cursor.execute(
            "SELECT set_config('enable_seqscan', 'off', true), "
            "set_config('enable_indexscan', 'off', true)"
        )
        cursor.execute(
            f"WITH m AS MATERIALIZED ({every_sql} LIMIT %s) "
            f"SELECT id, (SELECT count(*) FROM m) FROM m ORDER BY {order} LIMIT %s",
            [*every_params, MATCH_CAP + 1, take],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT set_config('enable_seqscan', 'on', true), "
            "set_config('enable_indexscan', 'on', true)"
        )
        if not rows or rows[0][1] <= MATCH_CAP:
            return [row[0] for row in rows]
    order_by = [f"-{c}" if d else c for c, d in keys]
    return list(matching.order_by(*order_by).values_list("id", flat=True)[:take])


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
    tickets = _filtered(tenant=tenant, actor=actor, filters=filters)
    text_query = _text_query(tenant, filters) if filters.has_text else None
    sort = filters.sort or ("priority" if not filters.has_text else "-updated_at")
    mode = ""
    if text_query is not None and sort == "relevance":
        _set_typo_tolerance()
        match = Q(search_vector=text_query)
        if filters.words and not filters.phrases:
            match |= Q(subject__trigram_word_similar=filters.text)
        tickets = tickets.filter(match).annotate(rank=SearchRank(F("search_vector"), text_query))
    elif sort == "relevance":
        sort = "-updated_at"
    if cursor:
        after, mode = _decode_cursor(cursor, sort)
        tickets = tickets.filter(_after_cursor(sort, after))
        if mode == "typo":
            _set_typo_tolerance()
    rows = _select_rows(tickets)
    order = [f"-{column}" if desc else column for column, desc in SORT_KEYS[sort]]
    if text_query is not None and sort != "relevance":
        ids = _text_page(tenant, tickets, filters, mode, sort, limit + 1)
        if not ids and not cursor and filters.words and not filters.phrases:
            _set_typo_tolerance()
            mode = "typo"
            ids = _text_page(tenant, tickets, filters, mode, sort, limit + 1)
        by_id = {t.pk: t for t in rows.filter(pk__in=ids)}
        page = [by_id[i] for i in ids if i in by_id]
    else:
        page = list(rows.order_by(*order)[: limit + 1])
    next_cursor = None
    if len(page) > limit:
        page = page[:limit]
        last = page[-1]
        next_cursor = _encode_cursor(sort, [getattr(last, c) for c, _ in SORT_KEYS[sort]], mode)
    if highlight and text_query is not None and page:
        _attach_highlights(tenant=tenant, actor=actor, tickets=page, filters=filters)
    return TicketPage(items=page, next_cursor=next_cursor)


def _select_rows(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    # search_vector (kilobytes per ticket) is only ever matched in SQL, never read here
    return tickets.select_related("requester", "assignee", "team").defer("search_vector")


def _attach_highlights(
    *, tenant: Tenant, actor: Actor, tickets: list[Ticket], filters: TicketFilters
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
        "SELECT t.id, ts_headline(%s::regconfig, t.subject, q, 'HighlightAll=true, "
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
        setattr(ticket, "highlight", highlight)  # noqa: B010 - a per-page annotation


def _escape_marked(text: str) -> str:
    """HTML-escape a headline but keep the <mark> tags ts_headline added."""
    import html

    return html.escape(text).replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>")


def ticket_get(*, tenant: Tenant, actor: Actor, ticket_id: int) -> Ticket:
    """Raises Ticket.DoesNotExist when missing or not visible to the actor."""
    return (
        Ticket.objects.filter(tenant=tenant)
        .filter(access.ticket_scope(tenant=tenant, actor=actor))
        .select_related("requester", "organization", "assignee", "team")
        .get(pk=ticket_id)
    )


def ticket_get_by_number(*, tenant: Tenant, actor: Actor, number: int) -> Ticket:
    return ticket_get(
        tenant=tenant,
        actor=actor,
        ticket_id=Ticket.objects.filter(tenant=tenant, number=number)
        .values_list("pk", flat=True)
        .get(),
    )


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
        attachments = attachments.filter(Q(message__isnull=True) | Q(message__public=True))
    return attachments.order_by("created_at", "id")


def tag_list(*, tenant: Tenant, actor: Actor) -> QuerySet[Tag]:
    return Tag.objects.filter(tenant=tenant).order_by("name")


def tag_get(*, tenant: Tenant, actor: Actor, tag_id: int) -> Tag | None:
    return tag_list(tenant=tenant, actor=actor).filter(pk=tag_id).first()


def custom_field_list(*, tenant: Tenant, actor: Actor) -> QuerySet[CustomField]:
    return CustomField.objects.filter(tenant=tenant).order_by("position", "id")


def custom_field_get(*, tenant: Tenant, actor: Actor, field_id: int) -> CustomField | None:
    return custom_field_list(tenant=tenant, actor=actor).filter(pk=field_id).first()


def ticket_view_list(*, tenant: Tenant, actor: Actor) -> QuerySet[TicketView]:
    """Shared views and the actor's own."""
    views = TicketView.objects.filter(tenant=tenant)
    own = Q(owner_id=actor.user_id) if actor.user_id is not None else Q(pk__in=[])
    return views.filter(Q(owner__isnull=True) | own).order_by("position", "id")


def ticket_view_get(*, tenant: Tenant, actor: Actor, view_id: int) -> TicketView | None:
    return ticket_view_list(tenant=tenant, actor=actor).filter(pk=view_id).first()


def macro_list(*, tenant: Tenant, actor: Actor, include_inactive: bool = False) -> QuerySet[Macro]:
    macros = Macro.objects.filter(tenant=tenant)
    if not include_inactive:
        macros = macros.filter(active=True)
    own = Q(owner_id=actor.user_id) if actor.user_id is not None else Q(pk__in=[])
    return macros.filter(Q(owner__isnull=True) | own).order_by("name", "id")


def macro_get(*, tenant: Tenant, actor: Actor, macro_id: int) -> Macro | None:
    """Inactive ones too (to change or delete them): the actor's own or shared."""
    return macro_list(tenant=tenant, actor=actor, include_inactive=True).filter(pk=macro_id).first()
