"""The CRM record beside a ticket (the workspace ticket page's sidebar panel), read in two
statements whatever the record holds, because the ticket page is the agents' busiest page:

1. the requester's contact with its owner and primary company, and as JSON arrays its
   companies, the open leads and deals of the contact or of its companies, and the
   tenant's activity templates (for "schedule follow-up");
2. the activities of the contact, its companies or the ticket: the next open ones (soonest
   first) and the latest done ones and notes, as one UNION ALL of two limited parts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import F, OuterRef, Q, TextField
from django.db.models.functions import Cast, Coalesce, JSONObject

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import access
from autocrm.crm.models import (
    Activity,
    ActivityTemplate,
    Contact,
    ContactCompany,
    Deal,
    DealStatus,
)

SHOWN = 5  # activities of each kind, open deals


@dataclass
class SideDeal:
    id: int
    title: str
    amount: Decimal
    currency: str
    stage: str
    kind: str
    expected_close_date: dt.date | None


@dataclass
class SidebarRecord:
    contact: Contact | None
    companies: list[dict[str, Any]] = field(default_factory=list)
    deals: list[SideDeal] = field(default_factory=list)
    templates: list[dict[str, Any]] = field(default_factory=list)
    upcoming: list[Activity] = field(default_factory=list)
    recent: list[Activity] = field(default_factory=list)


def _contact(tenant: Tenant, contact_id: int) -> Contact | None:
    companies = ContactCompany.objects.filter(tenant=tenant, contact_id=OuterRef("pk"))
    company_ids = ContactCompany.objects.filter(
        tenant=tenant, contact_id=OuterRef(OuterRef("pk"))
    ).values("company_id")
    deals = (
        Deal.objects.filter(tenant=tenant, status=DealStatus.OPEN)
        .filter(Q(contact_id=OuterRef("pk")) | Q(company_id__in=company_ids))
        .order_by(F("expected_close_date").asc(nulls_last=True), "id")
    )
    templates = ActivityTemplate.objects.filter(tenant=tenant).order_by("name", "id")
    return (
        Contact.objects.filter(tenant=tenant, pk=contact_id)
        .select_related("owner", "company")
        .annotate(
            side_companies=ArraySubquery(
                companies.order_by("company__name", "id").values(
                    json=JSONObject(id="company_id", name="company__name")
                )
            ),
            side_deals=ArraySubquery(
                deals.values(
                    json=JSONObject(
                        id="id",
                        title="title",
                        amount=Cast("amount", TextField()),
                        currency="currency",
                        stage="stage__name",
                        kind="kind",
                        close=Cast("expected_close_date", TextField()),
                    )
                )[:SHOWN]
            ),
            side_templates=ArraySubquery(
                templates.values(json=JSONObject(id="id", name="name"))[:50]
            ),
        )
        .first()
    )


def _activities(
    tenant: Tenant, contact: Contact | None, ticket_id: int
) -> tuple[list[Activity], list[Activity]]:
    linked = Q(ticket_id=ticket_id)
    if contact is not None:
        linked |= Q(contact_id=contact.pk)
        company_ids = [c["id"] for c in contact.side_companies]  # type: ignore[attr-defined]
        if company_ids:
            linked |= Q(company_id__in=company_ids)
    rows = Activity.objects.filter(tenant=tenant).filter(linked).select_related("owner")
    is_open = Q(done_at=None) & ~Q(kind="note")
    upcoming = rows.filter(is_open).order_by(F("due_at").asc(nulls_last=True), "id")[:SHOWN]
    recent = rows.exclude(is_open).order_by(Coalesce("done_at", "created_at").desc(), "-id")[:SHOWN]
    both = list(upcoming.union(recent, all=True))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    soon = sorted(
        (a for a in both if a.done_at is None and a.kind != "note"),
        key=lambda a: (a.due_at or far, a.pk),
    )
    latest = sorted(
        (a for a in both if a.done_at is not None or a.kind == "note"),
        key=lambda a: (a.done_at or a.created_at, a.pk),
        reverse=True,
    )
    return soon, latest


def ticket_crm_record(
    *, tenant: Tenant, actor: Actor, contact_id: int | None, ticket_id: int
) -> SidebarRecord:
    access.require_read(actor)
    contact = _contact(tenant, contact_id) if contact_id is not None else None
    upcoming, recent = _activities(tenant, contact, ticket_id)
    if contact is None:
        return SidebarRecord(contact=None, upcoming=upcoming, recent=recent)
    deals = [
        SideDeal(
            id=d["id"],
            title=d["title"],
            amount=Decimal(d["amount"]),
            currency=d["currency"],
            stage=d["stage"],
            kind=d["kind"],
            expected_close_date=dt.date.fromisoformat(d["close"]) if d["close"] else None,
        )
        for d in contact.side_deals  # type: ignore[attr-defined]
    ]
    return SidebarRecord(
        contact=contact,
        companies=contact.side_companies,  # type: ignore[attr-defined]
        deals=deals,
        templates=contact.side_templates,  # type: ignore[attr-defined]
        upcoming=upcoming,
        recent=recent,
    )
