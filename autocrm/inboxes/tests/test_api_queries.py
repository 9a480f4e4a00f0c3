"""Every inboxes list endpoint answers in a fixed number of queries: 1 row or 20 alike
(no N+1), and within a budget that fails when a list starts querying per row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.testing.queries import assert_constant_queries, list_queries

pytestmark = pytest.mark.django_db

Seeder = Callable[[Tenant, int], str]  # makes n rows of a list, returns its path


def _inboxes(tenant: Tenant, n: int) -> str:
    for i in range(n):
        inbox(tenant, address=f"box{i}@{tenant.slug}.test", name=f"Box {i}")
    return "/api/v1/inboxes"


def _emails(tenant: Tenant, n: int) -> str:
    box = inbox(tenant, address=f"support@{tenant.slug}.test")
    with tenant_context(tenant):
        for i in range(n):
            raw = mail(to=box.address, subject=f"Question {i}", sender=f"p{i}@customer.test")
            email_import(tenant=tenant, inbox=box, raw=raw)
    return f"/api/v1/inboxes/{box.pk}/emails"


# list -> (seeder, the queries the request makes today, API-key auth and middleware
# included): more fails, so a new per-request or per-row query is noticed and justified.
LISTS: dict[str, tuple[Seeder, int]] = {
    "inboxes": (_inboxes, 6),
    "emails": (_emails, 7),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_costs_the_same_queries_for_1_row_and_20(
    client: Client, tenant_a: Tenant, tenant_b: Tenant, name: str
) -> None:
    seed, budget = LISTS[name]
    one = list_queries(client, seed(tenant_a, 1), bearer(api_key(tenant_a, "admin")))
    many = list_queries(client, seed(tenant_b, 20), bearer(api_key(tenant_b, "admin")))
    assert_constant_queries(name, one, many, budget)
