"""Routing rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant):
``{team_id}``, ``{business_hours_id}``, ``{sla_policy_id}``, ``{trigger_id}`` and
``{automation_id}`` paths are called with another tenant's real rows carrying the marker."""

from __future__ import annotations

from autocrm.core.models import Tenant
from autocrm.routing.tests.factories import agents, business_hours, team


def seed_routing(tenant: Tenant, marker: str) -> None:
    hours = business_hours(tenant, name=f"hours {marker}")
    team(tenant, name=f"team {marker}", members=agents(tenant, 1), business_hours_id=hours.pk)
