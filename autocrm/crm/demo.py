"""The demo tenant's CRM (``manage.py seed_demo``): companies for the demo requesters' email
domains, so their contacts are linked and the ticket page shows a CRM record; and a sales
pipeline with deals and activities. Each part only while the tenant has none of it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import selectors, selectors_deals, services

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
