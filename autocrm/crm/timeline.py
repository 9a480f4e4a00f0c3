"""One timeline of a contact or a company: their tickets, the messages on them, their
activities, the changes of their deals and the CRM record's own changes (the events
spine); newest first.

Each source is read newest first with a limit, then merged, so a contact with 10,000
tickets costs one bounded query per source, not 10,000 rows. A page ends with a cursor, the
(time, source, row id) of its last entry; the next page reads each source below it, so paging
stays one bounded query per source however deep it goes.
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

PAGE_LENGTH = 20  # entries on the record's page; "Show more" loads the next as many
SNIPPET = 240

# The sources: entries of the same instant are ordered by source, then row id (a cursor names
# both). The record's changes and its deals' changes are both events: one source, one id space.
TICKETS, MESSAGES, ACTIVITIES, EVENTS = range(4)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # a cursor holds microseconds since then


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    kind: str  # ticket, reply, note, message, change, activity, deal
    title: str
    detail: str = ""
    actor: str = ""
    ticket_number: int | None = None
    status: str = ""
    source: int = 0
    row_id: int = 0

    @property
    def key(self) -> tuple[dt.datetime, int, int]:
        return (self.at, self.source, self.row_id)


class CursorError(ValueError):
    """A "show more" link that is not one of ours."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: entries strictly older than (at, source, row id) come next."""

    at: dt.datetime
    source: int
    row_id: int

    def __str__(self) -> str:
        return f"{(self.at - EPOCH) // dt.timedelta(microseconds=1)}.{self.source}.{self.row_id}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        try:
            micros, source, row_id = (int(part) for part in text.split("."))
            at = EPOCH + dt.timedelta(microseconds=micros)
        except (ValueError, OverflowError) as exc:
            raise CursorError("This link is out of date; reload the page.") from exc
        if source not in (TICKETS, MESSAGES, ACTIVITIES, EVENTS) or row_id < 0:
            raise CursorError("This link is out of date; reload the page.")
        return cls(at, source, row_id)

    def older(self, source: int) -> Q:
        """A source's rows after this cursor in the timeline's order (newest first)."""
        if source < self.source:
            return Q(created_at__lte=self.at)
        if source > self.source:
            return Q(created_at__lt=self.at)
        return Q(created_at__lt=self.at) | Q(created_at=self.at, pk__lt=self.row_id)


@dataclass(frozen=True)
class Page:
    entries: list[Entry]
    next_cursor: Cursor | None


def _after(cursor: Cursor | None, source: int) -> Q:
    return cursor.older(source) if cursor is not None else Q()


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


def _change_entries(
    tenant: Tenant, subject_type: str, subject_id: int, limit: int, cursor: Cursor | None
) -> list[Entry]:
    events = (
        Event.objects.filter(tenant=tenant, subject_type=subject_type, subject_id=str(subject_id))
        .filter(_after(cursor, EVENTS))
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
            source=EVENTS,
            row_id=e.pk,
        )
        for e in events
    ]


def _ticket_entries(
    tenant: Tenant, actor: Actor, scope: Q, limit: int, cursor: Cursor | None
) -> list[Entry]:
    from autocrm.tickets.access import ticket_scope
    from autocrm.tickets.models import Message, Ticket

    visible = Ticket.objects.filter(ticket_scope(tenant=tenant, actor=actor)).filter(
        scope, tenant=tenant
    )
    tickets = (
        visible.filter(_after(cursor, TICKETS))
        .select_related("requester")
        .order_by("-created_at", "-id")[:limit]
    )
    entries = [
        Entry(
            at=t.created_at,
            kind="ticket",
            title=t.subject,
            actor=t.requester.display_name,
            ticket_number=t.number,
            status=t.status,
            source=TICKETS,
            row_id=t.pk,
        )
        for t in tickets
    ]
    messages = (
        Message.objects.filter(tenant=tenant, ticket__in=visible.values("id"))
        .filter(_after(cursor, MESSAGES))
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
                source=MESSAGES,
                row_id=m.pk,
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


def _activity_entries(tenant: Tenant, scope: Q, limit: int, cursor: Cursor | None) -> list[Entry]:
    from autocrm.crm.models import Activity

    rows = (
        Activity.objects.filter(scope, tenant=tenant)
        .filter(_after(cursor, ACTIVITIES))
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
                source=ACTIVITIES,
                row_id=a.pk,
            )
        )
    return entries


def _deal_entries(tenant: Tenant, scope: Q, limit: int, cursor: Cursor | None) -> list[Entry]:
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
        .filter(_after(cursor, EVENTS))
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
                source=EVENTS,
                row_id=e.pk,
            )
        )
    return entries


def _page(sources: Iterable[list[Entry]], limit: int) -> Page:
    """The newest ``limit`` of the sources' entries (each read with ``limit + 1`` rows: more
    than ``limit`` in all means another page)."""
    entries = sorted((e for source in sources for e in source), key=lambda e: e.key, reverse=True)
    if len(entries) <= limit:
        return Page(entries, None)
    last = entries[limit - 1]
    return Page(entries[:limit], Cursor(last.at, last.source, last.row_id))


def _record_timeline(
    tenant: Tenant,
    actor: Actor,
    tickets: Q,
    own: Q,
    subject: tuple[str, int],
    limit: int,
    cursor: Cursor | None,
) -> Page:
    """``tickets`` picks the record's tickets, ``own`` its activities and deals, ``subject``
    its own events."""
    access.require_read(actor)
    read = limit + 1
    return _page(
        [
            _ticket_entries(tenant, actor, tickets, read, cursor),
            _activity_entries(tenant, own, read, cursor),
            _deal_entries(tenant, own, read, cursor),
            _change_entries(tenant, *subject, read, cursor),
        ],
        limit,
    )


def contact_timeline(
    *,
    tenant: Tenant,
    actor: Actor,
    contact: Contact,
    limit: int = PAGE_LENGTH,
    cursor: Cursor | None = None,
) -> Page:
    by_contact = Q(contact_id=contact.pk)
    subject = ("crm.contact", contact.pk)
    tickets = Q(requester_id=contact.pk)
    return _record_timeline(tenant, actor, tickets, by_contact, subject, limit, cursor)


def company_timeline(
    *,
    tenant: Tenant,
    actor: Actor,
    company: Company,
    limit: int = PAGE_LENGTH,
    cursor: Cursor | None = None,
) -> Page:
    tickets, by_company = Q(organization_id=company.pk), Q(company_id=company.pk)
    subject = ("crm.company", company.pk)
    return _record_timeline(tenant, actor, tickets, by_company, subject, limit, cursor)
