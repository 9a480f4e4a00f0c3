"""The demo data's routing (``manage.py seed_demo``): a team that assigns, SLA timers, once."""

from __future__ import annotations

import pytest

from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import SlaPolicy, Team, TeamMember
from autocrm.testing.demo import seeded_demo_tenant
from autocrm.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_support_team_with_both_agents_and_sla_policies_once() -> None:
    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        (team,) = Team.objects.all()
        assert team.name == "Support" and team.assignment_method == "round_robin"
        assert team.business_hours is not None
        members = TeamMember.objects.filter(team=team).values_list("user__email", flat=True)
        assert sorted(members) == ["agent1@demo.example", "agent2@demo.example"]
        assert list(SlaPolicy.objects.order_by("position").values_list("name", flat=True)) == [
            "Urgent",
            "Standard",
        ]
        assert set(Ticket.objects.values_list("team_id", flat=True)) == {team.pk}
