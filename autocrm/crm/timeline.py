"""One timeline of a contact or a company: their tickets, the messages on them, the CRM
record's own changes (the events spine); newest first.

Each source is read newest first with a limit, then merged, so a contact with 10,000
tickets costs one bounded query per source, not 10,000 rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant
from autocrm.crm import access
from autocrm.crm.models import Company, Contact

DEFAULT_LENGTH = 60
SNIPPET = 240


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str  # ticket, reply, note, message, change, activity, deal
    title: str
    detail: str = ""
    actor: str = ""
    ticket_number: int | None = None
    status: str = ""


_CHANGE_WORDS = {
    "contact.created": "Contact created",
    "contact.updated": "Contact changed",
    "contact.merged": "Merged a duplicate into this contact",
    "contact.user_linked": "Linked to a portal login",
    "company.created": "Company created",
    "company.updated": "Company changed",
    "company.merged": "Merged a duplicate into this company",
}


def _actor(event: Event) -> str:
    if event.actor is not None:
        return str(event.actor.display_name)
    return "System" if event.actor_label.startswith("system") else event.actor_label


def _change_detail(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    changes = payload.get("changes")
    if isinstance(changes, dict):
        return ", ".join(sorted(k.replace("_", " ") for k in changes))
    if payload.get("merged_email"):
        return f"{payload['merged_email']} merged in"
    if payload.get("merged_name"):
        return f"{payload['merged_name']} merged in"
    return ""


def _change_entries(tenant: Tenant, subject_type: str, subject_id: int, limit: int) -> list[Entry]:
    events = (
        Event.objects.filter(tenant=tenant, subject_type=subject_type, subject_id=str(subject_id))
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        Entry(
            at=e.created_at,
            kind="change",
            title=_CHANGE_WORDS.get(e.type, e.type),
            detail=_change_detail(e.payload),
            actor=_actor(e),
        )
        for e in events
    ]


def _ticket_entries(tenant: Tenant, actor: Actor, scope: Q, limit: int) -> list[Entry]:
    from autocrm.tickets.access import ticket_scope
    from autocrm.tickets.models import Message, Ticket

    visible = Ticket.objects.filter(ticket_scope(tenant=tenant, actor=actor)).filter(
        scope, tenant=tenant
    )
    tickets = visible.select_related("requester").order_by("-created_at", "-id")[:limit]
    entries = [
        Entry(
            at=t.created_at,
            kind="ticket",
            title=t.subject,
            actor=t.requester.display_name,
            ticket_number=t.number,
            status=t.status,
        )
        for t in tickets
    ]
    messages = (
        Message.objects.filter(tenant=tenant, ticket__in=visible.values("id"))
        .select_related("ticket", "author_user", "author_contact")
        .order_by("-created_at", "-id")[:limit]
    )
    for m in messages:
        author = m.author_user or m.author_contact
        kind = "note" if not m.public else ("reply" if m.author_user_id else "message")
        entries.append(
            Entry(
                at=m.created_at,
                kind=kind,
                title=m.ticket.subject,
                detail=" ".join(m.body_text.split())[:SNIPPET],
                actor=author.display_name if author is not None else "",
                ticket_number=m.ticket.number,
            )
        )
    return entries


def _merged(sources: Iterable[list[Entry]], limit: int) -> list[Entry]:
    entries = [e for source in sources for e in source]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def contact_timeline(
    *, tenant: Tenant, actor: Actor, contact: Contact, limit: int = DEFAULT_LENGTH
) -> list[Entry]:
    access.require_read(actor)
    return _merged(
        [
            _ticket_entries(tenant, actor, Q(requester_id=contact.pk), limit),
            _change_entries(tenant, "crm.contact", contact.pk, limit),
        ],
        limit,
    )


def company_timeline(
    *, tenant: Tenant, actor: Actor, company: Company, limit: int = DEFAULT_LENGTH
) -> list[Entry]:
    access.require_read(actor)
    return _merged(
        [
            _ticket_entries(tenant, actor, Q(organization_id=company.pk), limit),
            _change_entries(tenant, "crm.company", company.pk, limit),
        ],
        limit,
    )
