"""Data migrations of the tickets app, run against rows written the way they went wrong."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.models import Tag, Ticket
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


def test_0009_clears_due_dates_psycopg_cannot_read_and_keeps_the_rest(
    client: Client, tenant_a: Tenant
) -> None:
    migration = importlib.import_module(
        "autocrm.tickets.migrations.0009_clear_unrepresentable_due_at"
    ).Migration
    with tenant_context(tenant_a):
        bad_low, bad_high, edge_low, edge_high = (ticket(tenant_a) for _ in range(4))
        with connection.cursor() as cursor:
            # What the API used to store for these inputs.
            for row, value in [
                (bad_low, "0001-01-01T00:00:00+14:00"),
                (bad_high, "9999-12-31T23:00:00-05:00"),
                (edge_low, "0001-01-01T00:00:00Z"),
                (edge_high, "9999-12-31T23:59:59Z"),
            ]:
                cursor.execute(
                    "UPDATE tickets_ticket SET due_at = %s::timestamptz WHERE id = %s",
                    [value, row.pk],
                )
    raw = api_key(tenant_a, scope="admin")
    # The failure the migration repairs: psycopg cannot read the row back.
    assert client.get("/api/v1/tickets", headers=bearer(raw)).status_code == 500

    with tenant_context(tenant_a), connection.cursor() as cursor:
        for operation in migration.operations:
            cursor.execute(operation.sql)

    response = client.get("/api/v1/tickets", headers=bearer(raw))
    assert response.status_code == 200
    with tenant_context(tenant_a):
        due = dict(Ticket.objects.values_list("pk", "due_at"))
    assert due[bad_low.pk] is None and due[bad_high.pk] is None
    low, high = due[edge_low.pk], due[edge_high.pk]
    assert low is not None and low.year == 1
    assert high is not None and high.year == 9999


def test_0010_defines_the_tags_tickets_already_carry(tenant_a: Tenant, tenant_b: Tenant) -> None:
    migration = importlib.import_module("autocrm.tickets.migrations.0010_tags_in_use").Migration
    with tenant_context(tenant_a):
        carrying = ticket(tenant_a)
        # Before tags were defined by use: the ticket carries tags no definition lists.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM tickets_tag WHERE tenant_id = %s", [tenant_a.pk])
            cursor.execute(
                "UPDATE tickets_ticket SET tags = ARRAY['billing', 'vip'] WHERE id = %s",
                [carrying.pk],
            )
        Tag.objects.create(tenant=tenant_a, name="vip", color="#ff0000")
    with tenant_context(tenant_a), connection.cursor() as cursor:
        for operation in migration.operations:
            cursor.execute(operation.sql)
    with tenant_context(tenant_a):
        assert dict(Tag.objects.values_list("name", "color")) == {"billing": "", "vip": "#ff0000"}
    with tenant_context(tenant_b):
        assert not Tag.objects.exists()
