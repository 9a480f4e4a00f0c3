"""Ticket numbers: one sequence per tenant, drawn inside the INSERT."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.testing.database import runtime_connection
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db(transaction=True)


def test_creates_in_one_tenant_do_not_wait_for_each_others_commit(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        first = ticket(tenant_a)
    # Another request has drawn its number and not committed yet.
    with runtime_connection() as other, other.transaction():
        other.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
        row = other.execute("SELECT autocrm_ticket_number_next(%s)", [tenant_a.pk]).fetchone()
        assert row is not None and row[0] == first.number + 1
        with tenant_context(tenant_a):
            with connection.cursor() as cursor:  # waiting would fail the test, not hang it
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            second = ticket(tenant_a)
        assert second.number == first.number + 2


def test_a_rolled_back_create_leaves_a_gap_and_numbers_stay_unique(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        first = ticket(tenant_a)
    with pytest.raises(RuntimeError), tenant_context(tenant_a):
        ticket(tenant_a)
        raise RuntimeError("the request failed after the insert")
    with tenant_context(tenant_a):
        third = ticket(tenant_a)
        assert [t.number for t in Ticket.objects.order_by("number")] == [1, 3]
    assert (first.number, third.number) == (1, 3)


def test_numbers_are_per_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with tenant_context(tenant_a):
        assert [ticket(tenant_a).number for _ in range(3)] == [1, 2, 3]
    with tenant_context(tenant_b):
        assert ticket(tenant_b).number == 1


def test_the_runtime_role_cannot_draw_another_tenants_numbers(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with (
        pytest.raises(DatabaseError, match="out of reach"),
        tenant_context(tenant_a),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT autocrm_ticket_number_next(%s)", [tenant_b.pk])
    with tenant_context(tenant_b):
        assert ticket(tenant_b).number == 1  # nothing was drawn from tenant B's sequence


def test_the_runtime_role_reaches_number_sequences_only_through_the_function(
    tenant_a: Tenant,
) -> None:
    with tenant_context(tenant_a):
        ticket(tenant_a)
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        tenant_context(tenant_a),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT nextval(%s)", [f"tickets_number_{tenant_a.pk}"])
    with (
        pytest.raises(DatabaseError, match="permission denied"),
        tenant_context(tenant_a),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT autocrm_ticket_number_reset(%s)", [tenant_a.pk])
