"""The demo tenant's routing (``manage.py seed_demo``): a support team of both demo agents with
round-robin assignment, office hours and two SLA policies, so the queue shows teams,
assignees and SLA timers. Only while the tenant has no team yet."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.routing import selectors, services

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def seed(*, tenant: Tenant, actor: Actor, agent_ids: list[int]) -> list[str]:
    if selectors.team_list(tenant=tenant, actor=actor).exists():
        return []
    hours = services.business_hours_create(
        tenant=tenant,
        actor=actor,
        name="Office hours",
        time_zone="Europe/Berlin",
        hours=[{"day": day, "start": "08:00", "end": "18:00"} for day in WEEKDAYS],
        holidays=[{"date": "2026-12-25", "name": "Christmas Day"}],
    )
    services.team_create(
        tenant=tenant,
        actor=actor,
        name="Support",
        description="First line: every request starts here.",
        assignment_method="round_robin",
        business_hours_id=hours.pk,
        member_ids=agent_ids,
    )
    services.sla_policy_create(
        tenant=tenant,
        actor=actor,
        name="Urgent",
        position=0,
        conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
        first_reply_minutes=60,
        resolution_minutes=8 * 60,
        business_hours=False,
    )
    services.sla_policy_create(
        tenant=tenant,
        actor=actor,
        name="Standard",
        position=1,
        first_reply_minutes=8 * 60,
        next_reply_minutes=16 * 60,
        resolution_minutes=5 * 8 * 60,
        business_hours=True,
    )
    return ["team Support", "office hours", "2 SLA policies"]
