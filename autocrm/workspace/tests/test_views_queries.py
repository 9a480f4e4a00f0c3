"""The settings pages that list rows (members, invitations, API keys) render in a fixed
number of queries: 1 row or 20 alike (no N+1), within a budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts import services
from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db

# Makes n more rows of a page's list in the tenant, acting as the signed-in owner; returns
# what the page shows of each row, by row.
Seeder = Callable[[Tenant, User, int], list[str]]


def _members(tenant: Tenant, owner: User, n: int) -> list[str]:
    emails = [f"member{i}@{tenant.slug}.test" for i in range(n)]
    for email in emails:
        member(tenant, "agent", email=email)
    return emails


def _invitations(tenant: Tenant, owner: User, n: int) -> list[str]:
    emails = [f"invitee{i}@example.test" for i in range(n)]
    for email in emails:
        services.invitation_create(
            tenant=tenant, actor=actor_of(tenant, owner), email=email, role="agent", send=False
        )
    return emails


def _api_keys(tenant: Tenant, owner: User, n: int) -> list[str]:
    names = [f"Key number {i}" for i in range(n)]
    for name in names:
        services.api_key_create(tenant=tenant, actor=actor_of(tenant, owner), name=name)
    return names


# page -> (seeder, its queries today, session and middleware included): more fails.
PAGES: dict[str, tuple[Seeder, int]] = {
    "members": (_members, 11),
    "invitations": (_invitations, 11),
    "api-keys": (_api_keys, 11),
}


def _queries(tenant: Tenant, page: str, n: int) -> int:
    owner = member(tenant, "owner", email=f"owner@{tenant.slug}.test")
    shown = PAGES[page][0](tenant, owner, n)
    client = Client()
    client.force_login(owner)
    path = f"/{tenant.slug}/settings/{page}/"
    assert client.get(path).status_code == 200  # warm-up: session and caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert all(row in html for row in shown), f"{page}: not every row is listed"
    return len(captured.captured_queries)


@pytest.mark.parametrize("page", sorted(PAGES))
def test_a_settings_list_page_costs_the_same_queries_for_1_row_and_20(
    tenant_a: Tenant, tenant_b: Tenant, page: str
) -> None:
    one, many = _queries(tenant_a, page, 1), _queries(tenant_b, page, 20)
    assert one == many, f"{page}: {one} queries for 1 row, {many} for 20"
    assert many <= PAGES[page][1], f"{page}: {many} queries (budget {PAGES[page][1]})"
