"""Routing rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant):
``{team_id}``, ``{business_hours_id}``, ``{sla_policy_id}``, ``{trigger_id}`` and
``{automation_id}`` paths are called with another tenant's real rows carrying the marker."""

from __future__ import annotations

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services
from autocrm.routing.tests.factories import SYSTEM, agents, business_hours, team


def seed_routing(tenant: Tenant, marker: str) -> None:
    hours = business_hours(tenant, name=f"hours {marker}")
    team(tenant, name=f"team {marker}", members=agents(tenant, 1), business_hours_id=hours.pk)
    with tenant_context(tenant):
        services.sla_policy_create(
            tenant=tenant, actor=SYSTEM, name=f"sla {marker}", first_reply_minutes=60
        )
        services.trigger_create(
            tenant=tenant,
            actor=SYSTEM,
            name=f"trigger {marker}",
            on=["ticket.created"],
            actions=[{"type": "add_tags", "value": [marker]}],
        )
        services.automation_create(
            tenant=tenant,
            actor=SYSTEM,
            name=f"automation {marker}",
            conditions=[{"field": "hours_since_updated", "op": "gt", "value": 1}],
            actions=[{"type": "add_tags", "value": [marker]}],
        )
