"""The routing settings list pages render in a fixed number of queries: 1 row or 20 alike
(no N+1), within a budget."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services

pytestmark = pytest.mark.django_db

# Makes n more rows of a page's list in the tenant, acting as the signed-in owner; returns
# what the page shows of each row.
Seeder = Callable[[Tenant, User, int], list[str]]
HOURS = [{"day": "mon", "start": "09:00", "end": "17:00"}]
AFTER_3_DAYS = [{"field": "hours_since_updated", "op": "gt", "value": 72}]


def _teams(tenant: Tenant, owner: User, n: int) -> list[str]:
    actor, shown = actor_of(tenant, owner), []
    hours = services.business_hours_create(
        tenant=tenant, actor=actor, name="Office", time_zone="UTC", hours=HOURS
    )
    for i in range(n):
        agent = member(tenant, "agent", name=f"Agent number {i}")
        services.agent_profile_update(
            tenant=tenant, actor=actor, user_id=agent.pk,
            changes={"skills": [f"skill:{i}"], "channel_capacity": {"chat": i + 1}},
        )  # fmt: skip
        services.team_create(
            tenant=tenant, actor=actor, name=f"Team number {i}", member_ids=[agent.pk],
            lead_id=agent.pk, business_hours_id=hours.pk,
        )  # fmt: skip
        shown += [f"Team number {i}", f"skill:{i}", f"chat {i + 1}"]
    return shown


def _business_hours(tenant: Tenant, owner: User, n: int) -> list[str]:
    actor, shown = actor_of(tenant, owner), []
    for i in range(n):
        hours = services.business_hours_create(
            tenant=tenant, actor=actor, name=f"Hours number {i}", time_zone="UTC", hours=HOURS
        )
        services.team_create(
            tenant=tenant, actor=actor, name=f"Team number {i}", business_hours_id=hours.pk
        )
        shown += [f"Hours number {i}", f"Team number {i}"]
    return shown


def _sla(tenant: Tenant, owner: User, n: int) -> list[str]:
    actor = actor_of(tenant, owner)
    hours = services.business_hours_create(
        tenant=tenant, actor=actor, name="Office", time_zone="UTC", hours=HOURS
    )
    for i in range(n):
        services.sla_policy_create(
            tenant=tenant, actor=actor, name=f"Policy number {i}", first_reply_minutes=60,
            business_hours=True, calendar_id=hours.pk,
        )  # fmt: skip
    return [f"Policy number {i}" for i in range(n)]


def _rules(tenant: Tenant, owner: User, n: int) -> list[str]:
    actor = actor_of(tenant, owner)
    for i in range(n):
        services.trigger_create(
            tenant=tenant, actor=actor, name=f"Trigger number {i}", on=["ticket.created"],
            conditions=[], actions=[{"type": "add_tags", "value": ["new"]}],
        )  # fmt: skip
        services.automation_create(
            tenant=tenant, actor=actor, name=f"Automation number {i}", conditions=AFTER_3_DAYS,
            actions=[{"type": "add_tags", "value": ["old"]}],
        )  # fmt: skip
    return [f"{kind} number {i}" for i in range(n) for kind in ("Trigger", "Automation")]


# page -> (seeder, its queries today, session and middleware included): more fails.
PAGES: dict[str, tuple[Seeder, int]] = {
    # the teams, their members, the staff, the signed-in agent's and every agent's profile
    "teams": (_teams, 18),
    "business-hours": (_business_hours, 13),  # and the teams' coverage
    # and the rule builder's pickers: teams, staff, shared macros, tags, custom fields and
    # the first companies (one query each, whatever the number of rules)
    "sla": (_sla, 19),
    "rules": (_rules, 19),
}


def _queries(tenant: Tenant, page: str, n: int) -> int:
    owner = member(tenant, "owner", email=f"owner@{tenant.slug}.test")
    with tenant_context(tenant):
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
def test_a_routing_settings_page_costs_the_same_queries_for_1_row_and_20(
    tenant_a: Tenant, tenant_b: Tenant, page: str
) -> None:
    one, many = _queries(tenant_a, page, 1), _queries(tenant_b, page, 20)
    assert one == many, f"{page}: {one} queries for 1 row, {many} for 20"
    assert many <= PAGES[page][1], f"{page}: {many} queries (budget {PAGES[page][1]})"
