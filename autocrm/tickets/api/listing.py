"""The body of a ticket list page, written directly as JSON.

Every other list goes through ``page_response`` and ninja's response validation. For the
ticket list that validation was the largest cost of the request: ninja reads each of the
~25 fields of 50 rows through its Python attribute getter (DjangoGetter), then renders with
Python's JSON encoder, about 45 % of ~12 ms of server CPU (docs/tickets-performance.md).
Here the rows (plain values from the selector) become the documented
``TicketListItemOut`` shape directly; the endpoints still declare that schema, and a test
compares this body with what the schema's validation makes of the same page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.core.problems import InvalidInput
from autocrm.tickets import selectors
from autocrm.tickets.query import TicketFilters
from autocrm.tickets.selectors import Ref, TicketPage, TicketRow

_when = DjangoJSONEncoder().default  # the format ninja's renderer gives datetimes


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else str(_when(value))


def _person(ref: Ref | None) -> dict[str, Any] | None:
    return None if ref is None else {"id": ref.id, "email": ref.email, "name": ref.name}


def _item(t: TicketRow) -> dict[str, Any]:
    """One ``TicketListItemOut``, field for field."""
    return {
        "id": t.id,
        "number": t.number,
        "subject": t.subject,
        "status": t.status,
        "priority": t.priority_name,
        "type": t.type,
        "channel": t.channel,
        "requester": _person(t.requester),
        "organization_id": t.organization_id,
        "assignee": _person(t.assignee),
        "team": None if t.team is None else {"id": t.team.id, "name": t.team.name},
        "tags": t.tags,
        "custom_fields": t.custom_fields,
        "metadata": t.metadata,
        "merged_into_id": t.merged_into_id,
        "version": t.version,
        "created_at": _time(t.created_at),
        "updated_at": _time(t.updated_at),
        "first_response_at": _time(t.first_response_at),
        "solved_at": _time(t.solved_at),
        "due_at": _time(t.due_at),
        "highlight": t.highlight,
    }


def ticket_page_response(page: TicketPage) -> HttpResponse:
    """``page_of(TicketListItemOut)`` as a response."""
    body = {"items": [_item(t) for t in page.items], "next_cursor": page.next_cursor}
    return HttpResponse(json.dumps(body), content_type="application/json")


def ticket_list_response(
    *, tenant: Tenant, actor: Actor, filters: TicketFilters, cursor: str | None, limit: int
) -> HttpResponse:
    """One page of the tickets ``filters`` match (the ticket list and a saved view's
    tickets); a cursor the selector cannot use is a 422 naming ``query.cursor``."""
    try:
        page = selectors.ticket_list(
            tenant=tenant, actor=actor, filters=filters, cursor=cursor, limit=limit
        )
    except selectors.CursorError as exc:
        raise InvalidInput.for_field("query.cursor", str(exc)) from exc
    return ticket_page_response(page)
