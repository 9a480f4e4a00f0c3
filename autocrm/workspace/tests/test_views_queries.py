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
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services as webhook_services
from autocrm.tickets import config_services

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


def _views(tenant: Tenant, owner: User, n: int) -> list[str]:
    names = [f"View number {i}" for i in range(n)]
    for name in names:
        config_services.ticket_view_create(
            tenant=tenant, actor=actor_of(tenant, owner), name=name, query="status:open"
        )
    return names


def _macros(tenant: Tenant, owner: User, n: int) -> list[str]:
    agent = member(tenant, "agent", name=f"Assignee of {tenant.slug}")
    names = [f"Macro number {i}" for i in range(n)]
    for name in names:
        config_services.macro_create(
            tenant=tenant,
            actor=actor_of(tenant, owner),
            name=name,
            actions=[{"field": "assignee_id", "value": agent.pk}],
            shared=True,
        )
    return [*names, f"Assign to: Assignee of {tenant.slug}"]


def _tags(tenant: Tenant, owner: User, n: int) -> list[str]:
    names = [f"tag-number-{i}" for i in range(n)]
    for name in names:
        config_services.tag_create(tenant=tenant, actor=actor_of(tenant, owner), name=name)
    return names


def _custom_fields(tenant: Tenant, owner: User, n: int) -> list[str]:
    labels = [f"Field number {i}" for i in range(n)]
    for label in labels:
        config_services.custom_field_create(
            tenant=tenant, actor=actor_of(tenant, owner), label=label, field_type="text"
        )
    return labels


def _webhooks(tenant: Tenant, owner: User, n: int) -> list[str]:
    urls = [f"http://93.184.215.14/hook-{i}" for i in range(n)]
    for url in urls:
        webhook_services.webhook_subscription_create(
            tenant=tenant, actor=actor_of(tenant, owner), url=url
        )
    return urls


# page -> (seeder, its queries today, session and middleware included): more fails. Every
# agent page reads the newest event id it shows (realtime.selectors.page_snapshot), one query.
PAGES: dict[str, tuple[Seeder, int]] = {
    "members": (_members, 12),
    "invitations": (_invitations, 12),
    "api-keys": (_api_keys, 12),
    "views": (_views, 12),
    "macros": (_macros, 13),  # and the assignable agents (names of assign actions)
    "tags": (_tags, 12),
    "custom-fields": (_custom_fields, 12),
    "webhooks": (_webhooks, 12),
}


def _queries(tenant: Tenant, page: str, n: int) -> int:
    owner = member(tenant, "owner", email=f"owner@{tenant.slug}.test")
    with tenant_context(tenant):  # the configuration services run in the caller's context
        shown = PAGES[page][0](tenant, owner, n)
    return _page_queries(tenant, owner, f"/{tenant.slug}/settings/{page}/", shown, page)


def _page_queries(tenant: Tenant, owner: User, path: str, shown: list[str], page: str) -> int:
    client = Client()
    client.force_login(owner)
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


def _delivery_log_queries(tenant: Tenant, n: int) -> int:
    owner = member(tenant, "owner", email=f"owner@{tenant.slug}.test")
    sub = webhook_services.webhook_subscription_create(
        tenant=tenant, actor=actor_of(tenant, owner), url="http://93.184.215.14/log"
    )
    shown = []
    for i in range(n):
        with tenant_context(tenant):
            event = event_append(
                tenant=tenant,
                type="ticket.updated",
                subject=("test", i),
                actor=actor_of(tenant, owner),
                payload={},
            )
        [delivery] = webhook_services.webhook_deliveries_create_for_event(
            tenant=tenant, actor=actor_of(tenant, owner), event=event
        )
        shown.append(f'id="delivery-{delivery.pk}"')
    path = f"/{tenant.slug}/settings/webhooks/{sub.pk}/"
    return _page_queries(tenant, owner, path, shown, "webhook delivery log")


def test_the_webhook_delivery_log_costs_the_same_queries_for_1_delivery_and_20(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    one, many = _delivery_log_queries(tenant_a, 1), _delivery_log_queries(tenant_b, 20)
    assert one == many, f"delivery log: {one} queries for 1 row, {many} for 20"
    assert many <= 13, f"delivery log: {many} queries (budget 13)"
