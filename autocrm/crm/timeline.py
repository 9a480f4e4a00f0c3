"""One timeline of a contact or a company: their tickets, the messages on them, their
activities, the changes of their deals and the CRM record's own changes (the events
spine); newest first.

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


_DEAL_WORDS = {
    "deal.created": "Deal created",
    "deal.updated": "Deal changed",
    "deal.stage_changed": "Deal moved",
    "deal.won": "Deal won",
    "deal.lost": "Deal lost",
    "deal.reopened": "Deal reopened",
    "deal.converted": "Lead converted to a deal",
}


def _activity_entries(tenant: Tenant, scope: Q, limit: int) -> list[Entry]:
    from autocrm.crm.models import Activity

    rows = (
        Activity.objects.filter(scope, tenant=tenant)
        .select_related("owner", "created_by")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = []
    for a in rows:
        when = f"due {a.due_at:%d %b %Y %H:%M}" if a.due_at else ""
        done = "done" if a.done_at else ""
        who = a.created_by or a.owner
        entries.append(
            Entry(
                at=a.created_at,
                kind="activity",
                title=f"{a.get_kind_display()}: {a.subject}",
                detail=" · ".join(x for x in (when, done, " ".join(a.body.split())[:SNIPPET]) if x),
                actor=who.display_name if who is not None else "",
            )
        )
    return entries


def _deal_entries(tenant: Tenant, scope: Q, limit: int) -> list[Entry]:
    """The changes of the record's deals (created, moved, won, lost...) from the events."""
    from autocrm.crm.models import Deal

    titles = dict(
        Deal.objects.filter(scope, tenant=tenant)
        .order_by("-updated_at")
        .values_list("pk", "title")[:200]
    )
    if not titles:
        return []
    events = (
        Event.objects.filter(
            tenant=tenant,
            subject_type="crm.deal",
            subject_id__in=[str(pk) for pk in titles],
            type__in=list(_DEAL_WORDS),
        )
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = []
    for e in events:
        payload = e.payload if isinstance(e.payload, dict) else {}
        detail = ""
        if payload.get("to_stage"):
            detail = f"{payload.get('from_stage', '')} → {payload['to_stage']}"
        elif payload.get("reason"):
            detail = str(payload["reason"])
        elif e.type == "deal.updated":
            detail = _change_detail(payload)
        entries.append(
            Entry(
                at=e.created_at,
                kind="deal",
                title=f"{_DEAL_WORDS[e.type]}: {titles.get(int(e.subject_id), '')}",
                detail=detail,
                actor=_actor(e),
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
            _activity_entries(tenant, Q(contact_id=contact.pk), limit),
            _deal_entries(tenant, Q(contact_id=contact.pk), limit),
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
            _activity_entries(tenant, Q(company_id=company.pk), limit),
            _deal_entries(tenant, Q(company_id=company.pk), limit),
            _change_entries(tenant, "crm.company", company.pk, limit),
        ],
        limit,
    )
