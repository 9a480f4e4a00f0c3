"""Every webhooks list endpoint answers in a fixed number of queries: 1 row or 20 alike
(no N+1), and within a budget that fails when a list starts querying per row."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM, actor_of, api_key, bearer, member
from autocrm.core.models import Tenant
from autocrm.notifications import services
from autocrm.notifications.tests.helpers import make_event
from autocrm.testing.queries import assert_constant_queries, list_queries

pytestmark = pytest.mark.django_db

PUBLIC_URL = "http://93.184.215.14/hooks"
Seeder = Callable[[Tenant, int], str]  # makes n rows of a list, returns its path


def _webhooks(tenant: Tenant, n: int) -> str:
    admin = actor_of(tenant, member(tenant, "admin"))  # created_by is shown
    for i in range(n):
        services.webhook_subscription_create(
            tenant=tenant, actor=admin, url=f"{PUBLIC_URL}/{i}", description=f"Hook {i}"
        )
    return "/api/v1/webhooks"


def _deliveries(tenant: Tenant, n: int) -> str:
    subscription = services.webhook_subscription_create(
        tenant=tenant, actor=SYSTEM, url=PUBLIC_URL, event_types=["ticket.*"]
    )
    for _ in range(n):
        services.webhook_deliveries_create_for_event(
            tenant=tenant, actor=SYSTEM, event=make_event(tenant, "ticket.created")
        )
    return f"/api/v1/webhooks/{subscription.pk}/deliveries"


# list -> (seeder, the queries the request makes today, API-key auth and middleware
# included): more fails, so a new per-request or per-row query is noticed and justified.
LISTS: dict[str, tuple[Seeder, int]] = {
    "webhooks": (_webhooks, 6),
    "deliveries": (_deliveries, 7),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_costs_the_same_queries_for_1_row_and_20(
    client: Client, tenant_a: Tenant, tenant_b: Tenant, name: str
) -> None:
    seed, budget = LISTS[name]
    one = list_queries(client, seed(tenant_a, 1), bearer(api_key(tenant_a, "admin")))
    many = list_queries(client, seed(tenant_b, 20), bearer(api_key(tenant_b, "admin")))
    assert_constant_queries(name, one, many, budget)
