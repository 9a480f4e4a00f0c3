"""The demo tenant's CRM (``manage.py seed_demo``): companies for the demo requesters' email
domains, so their contacts are linked and the ticket page shows a CRM record; and a sales
pipeline with deals and activities. Each part only while the tenant has none of it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import selectors, selectors_activities, selectors_deals, services

COMPANIES = (
    ("Example Networks", "example.net", ("customer", "enterprise")),
    ("Example Organisation", "example.org", ("customer",)),
)


def seed(*, tenant: Tenant, actor: Actor) -> list[str]:
    if selectors.company_list(tenant=tenant, actor=actor).exists():
        return []
    for name, domain, tags in COMPANIES:
        services.company_create(tenant=tenant, actor=actor, name=name, domains=[domain], tags=tags)
    return [f"{len(COMPANIES)} companies"]


DEALS = (  # title, company, stage (index in the default stages), amount
    ("Example Networks: 40 more seats", "Example Networks", 0, 12_000),
    ("Example Networks: premium support", "Example Networks", 2, 8_500),
    ("Example Organisation: help-centre rollout", "Example Organisation", 1, 5_000),
    ("Example Organisation: SSO add-on", "Example Organisation", 3, 3_200),
)
TEMPLATES = (  # name, kind, subject, due in days, reminder minutes before
    ("Follow-up call", "call", "Follow-up call", 2, 30),
    ("Send a proposal", "task", "Send the proposal", 3, 60),
)


def seed_sales(*, tenant: Tenant, actor: Actor, owner_ids: list[int]) -> list[str]:
    """A Sales pipeline with four deals of the demo companies, two activity templates and a
    follow-up call on each deal, so the board, forecast and calendar show something. Only
    while the tenant has no pipeline."""
    if selectors_deals.pipeline_list(tenant=tenant, actor=actor).exists():
        return []
    pipeline = services.pipeline_create(tenant=tenant, actor=actor, name="Sales")
    stages = list(pipeline.stages.order_by("position"))
    companies = {c.name: c for c in selectors.company_list(tenant=tenant, actor=actor)}
    templates = [
        services.activity_template_create(
            tenant=tenant,
            actor=actor,
            name=name,
            kind=kind,
            subject=subject,
            due_in_days=due,
            remind_minutes_before=remind,
        )
        for name, kind, subject, due, remind in TEMPLATES
    ]
    close = timezone.localdate() + dt.timedelta(days=30)
    for i, (title, company, stage, amount) in enumerate(DEALS):
        deal = services.deal_create(
            tenant=tenant,
            actor=actor,
            title=title,
            pipeline_id=pipeline.pk,
            stage_id=stages[stage].pk,
            amount=amount,
            expected_close_date=close + dt.timedelta(days=15 * i),
            owner_id=owner_ids[i % len(owner_ids)] if owner_ids else None,
            company_id=companies[company].pk if company in companies else None,
        )
        services.activity_create(
            tenant=tenant,
            actor=actor,
            kind="",
            subject="",
            template_id=templates[i % len(templates)].pk,
            owner_id=deal.owner_id,
            deal_id=deal.pk,
            company_id=deal.company_id,
        )
    return [f"a Sales pipeline with {len(DEALS)} deals and {len(TEMPLATES)} activity templates"]


# kind, subject, days from today, time of day, minutes, done, the deal it is about
CALENDAR = (
    ("call", "Check in with Pat about the double charge", -2, dt.time(10, 0), 15, True, 0),
    ("meeting", "Quarterly review with Example Organisation", -1, dt.time(14, 0), 60, True, 2),
    ("task", "Prepare the renewal quote", 0, dt.time(16, 0), 0, False, 0),
    ("call", "Call Sam about portal sign-ins", 1, dt.time(10, 30), 15, False, 3),
    ("meeting", "Premium support demo", 2, dt.time(15, 0), 45, False, 1),
    ("task", "Send the SSO add-on proposal", 3, dt.time(11, 0), 0, False, 3),
    ("meeting", "Help-centre rollout kick-off", 5, dt.time(9, 30), 60, False, 2),
)
REMIND_BEFORE = dt.timedelta(minutes=30)  # the open ones remind their owner


def seed_calendar(*, tenant: Tenant, actor: Actor, owner_id: int) -> list[str]:
    """Calls, meetings and tasks of the demo admin around today (two already done, the rest
    in the coming days, each on a demo deal), so the calendar, which opens on "Mine", shows
    something at the first sign-in. Only while that user owns no activity: a re-run adds
    nothing, and a demo whose calendar someone has used is left alone."""
    mine = selectors_activities.ActivityFilters(owner=str(owner_id))
    if selectors_activities.activity_list(tenant=tenant, actor=actor, filters=mine).exists():
        return []
    deals = {
        d.title: d for d in selectors_deals.deal_list(tenant=tenant, actor=actor).order_by("pk")
    }
    today = timezone.localdate()
    for kind, subject, days, at, minutes, done, deal_index in CALENDAR:
        due = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=days), at))
        deal = deals.get(DEALS[deal_index][0])
        services.activity_create(
            tenant=tenant,
            actor=actor,
            kind=kind,
            subject=subject,
            due_at=due,
            duration_minutes=minutes,
            remind_at=due - REMIND_BEFORE if not done and due > timezone.now() else None,
            owner_id=owner_id,
            deal_id=deal.pk if deal else None,
            company_id=deal.company_id if deal else None,
            done=done,
        )
    return [f"{len(CALENDAR)} activities on the admin's calendar"]
