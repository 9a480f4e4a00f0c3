"""ticket_visibility (the realtime sockets' test on team and assignee) agrees with
ticket_scope (every query's filter) for every staff role and both tenant settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import access
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.factories import scoped_staff, ticket


@pytest.fixture
def ctx(tenant_a: Tenant) -> Iterator[Tenant]:
    with tenant_context(tenant_a):
        yield tenant_a


@pytest.mark.parametrize("restricted", [False, True])
def test_visibility_agrees_with_the_scope(ctx: Tenant, restricted: bool) -> None:
    staff = scoped_staff(ctx, restricted=restricted)
    agent, light, admin, mine, theirs = (
        staff.agent,
        staff.light,
        staff.admin,
        staff.mine,
        staff.theirs,
    )
    tickets = [
        ticket(ctx, team_id=mine.pk),
        ticket(ctx, team_id=theirs.pk),
        ticket(ctx, team_id=theirs.pk, assignee_id=agent.pk),
        ticket(ctx),
    ]
    for user in (agent, light, admin):
        actor = actor_of(ctx, user)
        visibility = access.ticket_visibility(tenant=ctx, actor=actor)
        scoped = set(
            Ticket.objects.filter(access.ticket_scope(tenant=ctx, actor=actor)).values_list(
                "pk", flat=True
            )
        )
        for t in tickets:
            assert visibility.sees(team_id=t.team_id, assignee_id=t.assignee_id) == (
                t.pk in scoped
            ), (user, t.pk)


def test_customers_have_no_socket_visibility(ctx: Tenant) -> None:
    from django.core.exceptions import PermissionDenied

    customer = member(ctx, "customer")
    with pytest.raises(PermissionDenied):
        access.ticket_visibility(tenant=ctx, actor=actor_of(ctx, customer))
