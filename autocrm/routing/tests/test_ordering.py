"""Moving a rule up or down renumbers its list in steps of ten, with an event per moved row;
setting a team's members adds and removes with their events, all or nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services
from autocrm.routing.models import Team, TeamMember, Trigger
from autocrm.routing.tests.factories import SYSTEM, agents, team

pytestmark = pytest.mark.django_db


def _trigger(tenant: Tenant, name: str, position: int) -> Trigger:
    return services.trigger_create(
        tenant=tenant, actor=SYSTEM, name=name, on=["ticket.created"], position=position,
        actions=[{"type": "add_tags", "value": ["x"]}],
    )  # fmt: skip


def _order(tenant: Tenant) -> list[tuple[str, int]]:
    return list(
        Trigger.objects.filter(tenant=tenant)
        .order_by("position", "id")
        .values_list("name", "position")
    )


def test_a_move_swaps_neighbours_and_renumbers_ties_and_gaps(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        a, b, c = (
            _trigger(tenant_a, "a", 0),
            _trigger(tenant_a, "b", 0),
            _trigger(tenant_a, "c", 99),
        )
        services.rule_move(tenant=tenant_a, actor=SYSTEM, rule=c, direction="up")
        assert _order(tenant_a) == [("a", 10), ("c", 20), ("b", 30)]
        moved = Event.objects.filter(type="trigger.updated").order_by("id")
        assert {e.subject_id for e in moved} == {str(a.pk), str(b.pk), str(c.pk)}
        payloads = {e.subject_id: e.payload["changes"]["position"] for e in moved}
        assert payloads[str(c.pk)] == {"from": 99, "to": 20}
        services.rule_move(tenant=tenant_a, actor=SYSTEM, rule=a, direction="up")  # first: stays
        services.rule_move(tenant=tenant_a, actor=SYSTEM, rule=b, direction="down")  # last: stays
        assert _order(tenant_a) == [("a", 10), ("c", 20), ("b", 30)]
        services.rule_move(tenant=tenant_a, actor=SYSTEM, rule=a, direction="down")
        assert _order(tenant_a) == [("c", 10), ("a", 20), ("b", 30)]
        with pytest.raises(ValidationError):
            services.rule_move(tenant=tenant_a, actor=SYSTEM, rule=a, direction="left")  # type: ignore[arg-type]
        agent = actor_of(tenant_a, member(tenant_a, "agent"))
        with pytest.raises(PermissionDenied):
            services.rule_move(tenant=tenant_a, actor=agent, rule=a, direction="up")


def test_team_update_sets_members_with_its_fields(tenant_a: Tenant) -> None:
    x, y, z = agents(tenant_a, 3)
    billing = team(tenant_a, "Billing", members=[x, y], lead_id=x)
    with tenant_context(tenant_a):
        services.team_update(
            tenant=tenant_a, actor=SYSTEM, team=billing, changes={"offline_grace_minutes": 30},
            member_ids=[y, z],
        )  # fmt: skip
        assert set(TeamMember.objects.filter(team=billing).values_list("user_id", flat=True)) == {
            y,
            z,
        }
        billing.refresh_from_db()
        assert (billing.offline_grace_minutes, billing.lead_id) == (30, None)  # x left: no lead
        types = list(Event.objects.filter(type__startswith="team.").values_list("type", flat=True))
        assert types.count("team.member_added") == 3 and types.count("team.member_removed") == 1
        customer = member(tenant_a, "customer")
        with pytest.raises(ValidationError):
            services.team_update(
                tenant=tenant_a, actor=SYSTEM, team=billing, changes={"name": "Money"},
                member_ids=[y, customer.pk],
            )  # fmt: skip
        assert Team.objects.get(pk=billing.pk).name == "Billing"  # all or nothing
