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

from autocrm.accounts.models import User
from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import access
from autocrm.crm.models import (
    Activity,
    Company,
    Contact,
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


# The lists beside the contact, as arrays of jsonb in the contact's row. Written as text:
# built with ArraySubquery and JSONObject, compiling them cost 5 ms of CPU on every ticket
# page (a third of the sidebar); the statement is the same. Each names the tenant besides
# row-level security, like the ORM's would.
_SIDE_COMPANIES = """ARRAY(
  SELECT jsonb_build_object('id', cc.company_id, 'name', co.name)
  FROM crm_contactcompany cc INNER JOIN crm_company co ON cc.company_id = co.id
  WHERE cc.contact_id = "crm_contact"."id" AND cc.tenant_id = %s
  ORDER BY co.name ASC, cc.id ASC)"""
_SIDE_DEALS = """ARRAY(
  SELECT jsonb_build_object(
    'id', d.id, 'title', d.title, 'amount', d.amount::text, 'currency', d.currency,
    'stage', st.name, 'kind', d.kind, 'close', d.expected_close_date::text)
  FROM crm_deal d INNER JOIN crm_stage st ON d.stage_id = st.id
  WHERE d.status = %s AND d.tenant_id = %s
    AND (d.contact_id = "crm_contact"."id" OR d.company_id IN (
      SELECT cc.company_id FROM crm_contactcompany cc
      WHERE cc.contact_id = "crm_contact"."id" AND cc.tenant_id = %s))
  ORDER BY d.expected_close_date ASC NULLS LAST, d.id ASC
  LIMIT %s)"""
_SIDE_TEMPLATES = """ARRAY(
  SELECT jsonb_build_object('id', t.id, 'name', t.name)
  FROM crm_activitytemplate t WHERE t.tenant_id = %s
  ORDER BY t.name ASC, t.id ASC LIMIT 50)"""


# The contact with its owner and primary company, and the three lists: one prepared
# statement (core.sql). Through the ORM (select_related and the RawSQL annotations) it cost
# 1 ms of Python to compile on every ticket page, and PostgreSQL planned it every time.
_CONTACT = sql.ModelColumns(Contact, '"crm_contact"', skip=("search_words",))
_OWNER = sql.ModelColumns(User, "u", skip=("password",))
_COMPANY = sql.ModelColumns(Company, "co1")
_CONTACT_SQL = (
    f"SELECT {_CONTACT.sql}, {_OWNER.sql}, {_COMPANY.sql}, "  # noqa: S608 - our column names
    f"{_SIDE_COMPANIES}, {_SIDE_DEALS}, {_SIDE_TEMPLATES} "
    'FROM "crm_contact" LEFT OUTER JOIN accounts_user u ON "crm_contact".owner_id = u.id '
    'LEFT OUTER JOIN crm_company co1 ON "crm_contact".company_id = co1.id '
    'WHERE "crm_contact".tenant_id = %s AND "crm_contact".id = %s'
)


def _contact(tenant: Tenant, contact_id: int) -> Contact | None:
    rows = sql.fetch_all(
        _CONTACT_SQL,
        [
            tenant.pk,
            DealStatus.OPEN.value,
            tenant.pk,
            tenant.pk,
            SHOWN,
            tenant.pk,
            tenant.pk,
            contact_id,
        ],
    )
    if not rows:
        return None
    (contact, owner, company), lists = sql.build_row(rows[0], _CONTACT, _OWNER, _COMPANY)
    side_companies, side_deals, side_templates = lists
    sql.cache_related(contact, tenant=tenant, owner=owner, company=company)
    contact.side_companies = side_companies
    contact.side_deals = side_deals
    contact.side_templates = side_templates
    return contact


# The activities linked to the ticket, the contact or its companies: the next open ones
# (soonest first) and the latest done ones and notes, five each, as one UNION ALL of two
# limited parts with each owner's name. Written as text for the reason above (the union of
# two querysets with select_related took 3 ms of CPU to compile and load).
_ACTIVITY = sql.ModelColumns(
    Activity,
    "a",
    only=(
        "id", "tenant_id", "kind", "subject", "due_at", "done_at", "created_at", "owner_id",
        "ticket_id", "contact_id", "company_id",
    ),
)  # fmt: skip
_ACTIVITY_COLUMNS = f"""SELECT {_ACTIVITY.sql}, u.name AS owner_name, u.email AS owner_email
  FROM crm_activity a LEFT OUTER JOIN accounts_user u ON a.owner_id = u.id
  WHERE a.tenant_id = %s
    AND (a.ticket_id = %s OR a.contact_id = %s OR a.company_id = ANY(%s::bigint[]))"""  # noqa: S608 - our column names
_ACTIVITIES = f"""({_ACTIVITY_COLUMNS} AND a.done_at IS NULL AND a.kind <> 'note'
  ORDER BY a.due_at ASC NULLS LAST, a.id ASC LIMIT %s)
UNION ALL
({_ACTIVITY_COLUMNS} AND NOT (a.done_at IS NULL AND a.kind <> 'note')
  ORDER BY COALESCE(a.done_at, a.created_at) DESC, a.id DESC LIMIT %s)"""


def _activities(
    tenant: Tenant, contact: Contact | None, ticket_id: int
) -> tuple[list[Activity], list[Activity]]:
    contact_id = contact.pk if contact is not None else None
    company_ids = (
        [c["id"] for c in contact.side_companies]  # type: ignore[attr-defined]
        if contact is not None
        else []
    )
    linked = [tenant.pk, ticket_id, contact_id, company_ids]
    both = []
    for *values, owner_name, owner_email in sql.fetch_all(
        _ACTIVITIES, [*linked, SHOWN, *linked, SHOWN]
    ):
        a = _ACTIVITY.build(values)  # the other columns deferred
        # The owner as read with the row: no query per owner.
        owner = None
        if a.owner_id is not None:
            owner = User(pk=a.owner_id, name=owner_name, email=owner_email)
        sql.cache_related(a, owner=owner)
        both.append(a)
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
