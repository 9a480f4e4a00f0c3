"""Every accounts list endpoint answers in a fixed number of queries: 1 row or 20 alike
(no N+1), and within a budget that fails when a list starts querying per row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from autocrm.accounts import services
from autocrm.accounts.tests.factories import actor_of, api_key, bearer, member
from autocrm.core.models import Tenant
from autocrm.testing.queries import assert_constant_queries, list_queries

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


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_costs_the_same_queries_for_1_row_and_20(
    client: Client, tenant_a: Tenant, tenant_b: Tenant, name: str
) -> None:
    seed, budget = LISTS[name]
    path_a, key_a = seed(tenant_a, 1)
    path_b, key_b = seed(tenant_b, 20)
    one = list_queries(client, path_a, bearer(key_a))
    many = list_queries(client, path_b, bearer(key_b))
    assert_constant_queries(name, one, many, budget)
