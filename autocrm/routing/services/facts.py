"""The snapshot of a ticket that rule conditions read (autocrm.routing.rules.Facts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from autocrm.routing.rules import Facts
from autocrm.tickets.models import Priority, Ticket


def facts_of(
    ticket: Ticket,
    *,
    text: str = "",
    changed: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> Facts:
    triage = ticket.metadata.get("ai_triage") if isinstance(ticket.metadata, dict) else None
    return Facts(
        status=ticket.status,
        priority=Priority(ticket.priority).label,
        type=ticket.type,
        channel=ticket.channel,
        team_id=ticket.team_id,
        assignee_id=ticket.assignee_id,
        organization_id=ticket.organization_id,
        subject=ticket.subject,
        requester_email=ticket.requester.email if ticket.requester_id else "",
        tags=frozenset(ticket.tags),
        custom_fields=dict(ticket.custom_fields or {}),
        ai=dict(triage) if isinstance(triage, dict) else {},
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        text=f"{ticket.subject}\n{text}",
        changed=frozenset(changed),
        now=now or timezone.now(),
    )
