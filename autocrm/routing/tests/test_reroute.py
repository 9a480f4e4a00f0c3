"""Re-route on offline grace: an agent offline past their team's grace time loses the
team's new and open tickets to the team's assignment; the worker's job does it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services, tasks
from autocrm.routing.models import AgentProfile
from autocrm.routing.services.reroute import reroute_offline_run
from autocrm.routing.tests.factories import SYSTEM, agents, team
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.api_client import Api
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db
LATER = dt.timedelta(minutes=31)


def go_offline(tenant: Tenant, user_id: int) -> None:
    with tenant_context(tenant):
        services.agent_availability_set(
            tenant=tenant, actor=SYSTEM, user_id=user_id, availability="offline"
        )


def assignee(tenant: Tenant, ticket_id: int) -> int | None:
    with tenant_context(tenant):
        return Ticket.objects.values_list("assignee_id", flat=True).get(pk=ticket_id)


def test_open_tickets_of_an_agent_offline_past_the_grace_go_to_another(tenant_a: Tenant) -> None:
    gone, there = agents(tenant_a, 2)
    support = team(
        tenant_a, members=[gone, there], assignment_method="round_robin", offline_grace_minutes=30
    )
    with tenant_context(tenant_a):
        held = [ticket(tenant_a, team_id=support.pk, assignee_id=gone).pk for _ in range(2)]
        waiting = ticket(tenant_a, team_id=support.pk, assignee_id=gone).pk
        ticket_services.ticket_change_status(
            tenant=tenant_a, actor=SYSTEM, ticket_id=waiting, status="pending"
        )
    go_offline(tenant_a, gone)
    # Within the grace time nothing moves.
    assert reroute_offline_run(tenant=tenant_a, now=timezone.now() + dt.timedelta(minutes=5)) == 0
    assert [assignee(tenant_a, t) for t in held] == [gone, gone]

    assert reroute_offline_run(tenant=tenant_a, now=timezone.now() + LATER) == 2
    assert [assignee(tenant_a, t) for t in held] == [there, there]
    assert assignee(tenant_a, waiting) == gone  # pending: waits for the customer
    with tenant_context(tenant_a):
        reasons = [
            e.payload.get("reason")
            for e in Event.objects.filter(type="ticket.routed", subject_id=str(held[0]))
        ]
    assert "agent_offline" in reasons
    # Done once: a second run finds nothing.
    assert reroute_offline_run(tenant=tenant_a, now=timezone.now() + LATER) == 0


def test_nobody_online_leaves_the_ticket_in_the_team_queue(tenant_a: Tenant) -> None:
    [gone] = agents(tenant_a, 1)
    support = team(
        tenant_a, members=[gone], assignment_method="least_loaded", offline_grace_minutes=10
    )
    with tenant_context(tenant_a):
        held = ticket(tenant_a, team_id=support.pk, assignee_id=gone).pk
    go_offline(tenant_a, gone)
    assert reroute_offline_run(tenant=tenant_a, now=timezone.now() + LATER) == 1
    assert assignee(tenant_a, held) is None


def test_no_grace_time_an_agent_back_online_or_never_online_keep_their_tickets(
    tenant_a: Tenant,
) -> None:
    gone, back, there = agents(tenant_a, 3)
    [never] = agents(tenant_a, 1, online=False)  # never went offline: no change time
    no_grace = team(tenant_a, "No grace", members=[gone, there], assignment_method="round_robin")
    grace = team(
        tenant_a, members=[back, never, there], assignment_method="round_robin",
        offline_grace_minutes=30,
    )  # fmt: skip
    with tenant_context(tenant_a):
        kept = ticket(tenant_a, team_id=no_grace.pk, assignee_id=gone).pk
        back_ticket = ticket(tenant_a, team_id=grace.pk, assignee_id=back).pk
        never_ticket = ticket(tenant_a, team_id=grace.pk, assignee_id=never).pk
    go_offline(tenant_a, gone)
    go_offline(tenant_a, back)
    with tenant_context(tenant_a):
        services.agent_availability_set(
            tenant=tenant_a, actor=SYSTEM, user_id=back, availability="online"
        )
    assert reroute_offline_run(tenant=tenant_a, now=timezone.now() + LATER) == 0
    assert assignee(tenant_a, kept) == gone
    assert assignee(tenant_a, back_ticket) == back
    assert assignee(tenant_a, never_ticket) == never


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_worker_job_reroutes_every_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    moved = []
    for tenant in (tenant_a, tenant_b):
        gone, there = agents(tenant, 2)
        support = team(
            tenant, members=[gone, there], assignment_method="round_robin",
            offline_grace_minutes=1,
        )  # fmt: skip
        with tenant_context(tenant):
            moved.append((tenant, ticket(tenant, team_id=support.pk, assignee_id=gone).pk, there))
        go_offline(tenant, gone)
        with tenant_context(tenant):
            # Offline since two minutes ago (the job runs on the clock).
            AgentProfile.objects.filter(user_id=gone).update(
                availability_changed_at=timezone.now() - dt.timedelta(minutes=2)
            )
    assert tasks.reroute_offline(0) == 2
    for tenant, ticket_id, there in moved:
        assert assignee(tenant, ticket_id) == there


def test_grace_time_over_the_api(api: Api) -> None:
    created = api.call("post", "/teams", {"name": "Night", "offline_grace_minutes": 15})
    assert created.status_code == 201, created.content
    assert created.json()["offline_grace_minutes"] == 15
    team_id = created.json()["id"]
    bad = api.call("patch", f"/teams/{team_id}", {"offline_grace_minutes": 0})
    assert bad.status_code == 422
    cleared = api.call("patch", f"/teams/{team_id}", {"offline_grace_minutes": None})
    assert cleared.json()["offline_grace_minutes"] is None
