"""Every accounts list endpoint answers in a fixed number of queries: 1 row or 20 alike
(no N+1), and within a budget that fails when a list starts querying per row."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts import services
from autocrm.accounts.tests.factories import actor_of, api_key, bearer, member
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db

# Makes the rows of a list in a tenant (n of them, each with the relations the list shows),
# returns its path and the raw admin key that reads it.
Seeder = Callable[[Tenant, int], tuple[str, str]]


def _users(tenant: Tenant, n: int) -> tuple[str, str]:
    for i in range(n):
        member(tenant, "agent", email=f"member{i}@{tenant.slug}.test")
    return "/api/v1/users", api_key(tenant, "admin")


def _invitations(tenant: Tenant, n: int) -> tuple[str, str]:
    admin = actor_of(tenant, member(tenant, "admin"))  # invited_by is shown
    for i in range(n):
        services.invitation_create(
            tenant=tenant, actor=admin, email=f"invitee{i}@example.test", role="agent", send=False
        )
    return "/api/v1/users/invitations", api_key(tenant, "admin")


def _api_keys(tenant: Tenant, n: int) -> tuple[str, str]:
    admin = actor_of(tenant, member(tenant, "admin"))  # created_by is shown
    _key, raw = services.api_key_create(tenant=tenant, actor=admin, name="reader", scope="admin")
    for i in range(n - 1):  # the reading key is listed too
        services.api_key_create(tenant=tenant, actor=admin, name=f"key {i}")
    return "/api/v1/api-keys", raw


# list -> (seeder, the queries the request makes today, API-key auth and middleware
# included): more fails, so a new per-request or per-row query is noticed and justified.
LISTS: dict[str, tuple[Seeder, int]] = {
    "users": (_users, 6),
    "invitations": (_invitations, 6),
    "api_keys": (_api_keys, 6),
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
    one = _queries(client, *seed(tenant_a, 1))
    many = _queries(client, *seed(tenant_b, 20))
    assert (one[1], many[1]) == (1, 20), (one, many)
    assert one[0] == many[0], f"{name}: {one[0]} queries for 1 row, {many[0]} for 20"
    assert many[0] <= budget, f"{name}: {many[0]} queries (budget {budget})"
