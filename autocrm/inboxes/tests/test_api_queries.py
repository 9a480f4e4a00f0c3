"""Every inboxes list endpoint answers in a fixed number of queries: 1 row or 20 alike
(no N+1), and within a budget that fails when a list starts querying per row."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.tests.factories import inbox, mail

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


def _queries(client: Client, path: str, raw_key: str) -> tuple[int, int]:
    """(queries, items) of one request, after a warm-up request (so per-process caches and
    the key's once-a-minute last-used write do not count)."""
    headers = bearer(raw_key)
    assert client.get(path, headers=headers).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.content
    return len(captured.captured_queries), len(json.loads(response.content)["items"])


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_costs_the_same_queries_for_1_row_and_20(
    client: Client, tenant_a: Tenant, tenant_b: Tenant, name: str
) -> None:
    seed, budget = LISTS[name]
    one = _queries(client, seed(tenant_a, 1), api_key(tenant_a, "admin"))
    many = _queries(client, seed(tenant_b, 20), api_key(tenant_b, "admin"))
    assert (one[1], many[1]) == (1, 20), (one, many)
    assert one[0] == many[0], f"{name}: {one[0]} queries for 1 row, {many[0]} for 20"
    assert many[0] <= budget, f"{name}: {many[0]} queries (budget {budget})"
