"""Every tickets list endpoint answers in a fixed number of queries: 1 row or 20 alike
(no N+1), and within a budget that fails when a list starts querying per row."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import Team
from autocrm.testing.queries import assert_constant_queries, list_queries
from autocrm.tickets import attachments, config_services, services
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.api_client import Api
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db

Seeder = Callable[[Tenant, int], str]  # makes n rows, returns the list's path


def _tickets(tenant: Tenant, n: int) -> str:
    agent = member(tenant, "agent")
    with tenant_context(tenant):
        team = Team.objects.create(tenant=tenant, name=f"Team {n}")
        for i in range(n):
            ticket(
                tenant,
                requester_email=f"r{i}@example.test",
                assignee_id=agent.pk,
                team_id=team.pk,
                tags=["listed"],
            )
    return "/tickets?tag=listed"


def _search(tenant: Tenant, n: int) -> str:
    _tickets(tenant, n)
    return "/tickets?q=password"  # free text: highlights for the page too


def _view_tickets(tenant: Tenant, n: int) -> str:
    _tickets(tenant, n)
    with tenant_context(tenant):
        view = config_services.ticket_view_create(
            tenant=tenant, actor=SYSTEM, name="Listed", query="tag:listed", shared=True
        )
    return f"/views/{view.pk}/tickets"


def _one_ticket(tenant: Tenant) -> Ticket:
    with tenant_context(tenant):
        return ticket(tenant)


def _messages(tenant: Tenant, n: int) -> str:
    t = _one_ticket(tenant)
    agent = member(tenant, "agent")
    with tenant_context(tenant):
        for i in range(n - 1):  # the request is the first message
            services.ticket_message_add(
                tenant=tenant, actor=SYSTEM, ticket_id=t.pk, body=f"Reply {i}", public=i % 2 == 0
            )
        if n > 1:
            from autocrm.tickets.models import Message

            Message.objects.filter(ticket=t, author_user=None, author_contact=None).update(
                author_user=agent
            )
    return f"/tickets/{t.pk}/messages"


def _events(tenant: Tenant, n: int) -> str:
    t = _one_ticket(tenant)
    with tenant_context(tenant):
        for i in range(n - 1):  # ticket.created is the first
            services.ticket_update(
                tenant=tenant, actor=SYSTEM, ticket_id=t.pk, changes={"subject": f"Subject {i}"}
            )
    return f"/tickets/{t.pk}/events"


def _attachments(tenant: Tenant, n: int) -> str:
    t = _one_ticket(tenant)
    with tenant_context(tenant):
        for i in range(n):
            data = f"file {i}".encode()
            attachments.attachment_create(
                tenant=tenant,
                actor=SYSTEM,
                ticket_id=t.pk,
                upload=io.BytesIO(data),
                filename=f"f{i}.txt",
                size=len(data),
            )
    return f"/tickets/{t.pk}/attachments"


def _tags(tenant: Tenant, n: int) -> str:
    with tenant_context(tenant):
        for i in range(n):
            config_services.tag_create(tenant=tenant, actor=SYSTEM, name=f"tag-{i}")
    return "/tags"


def _custom_fields(tenant: Tenant, n: int) -> str:
    with tenant_context(tenant):
        for i in range(n):
            config_services.custom_field_create(
                tenant=tenant, actor=SYSTEM, label=f"Field {i}", field_type="text"
            )
    return "/custom-fields"


def _views(tenant: Tenant, n: int) -> str:
    with tenant_context(tenant):
        for i in range(n):
            config_services.ticket_view_create(
                tenant=tenant, actor=SYSTEM, name=f"View {i}", query="status:open"
            )
    return "/views"


def _macros(tenant: Tenant, n: int) -> str:
    with tenant_context(tenant):
        for i in range(n):
            config_services.macro_create(
                tenant=tenant, actor=SYSTEM, name=f"Macro {i}", actions=[], reply_body="Hi"
            )
    return "/macros"


# list -> (seeder, the queries the request makes today, API-key auth and middleware
# included): more fails, so a new per-request or per-row query is noticed and justified.
LISTS: dict[str, tuple[Seeder, int]] = {
    "tickets": (_tickets, 5),
    "tickets_search": (_search, 10),
    "views_tickets": (_view_tickets, 6),
    "messages": (_messages, 7),
    "events": (_events, 7),
    "attachments": (_attachments, 7),
    "tags": (_tags, 6),
    "custom_fields": (_custom_fields, 6),
    "views": (_views, 6),
    "macros": (_macros, 6),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_costs_the_same_queries_for_1_row_and_20(
    api: Api, tenant_a: Tenant, tenant_b: Tenant, name: str
) -> None:
    from autocrm.accounts.tests.factories import api_key

    seed, budget = LISTS[name]
    one = list_queries(api.client, f"/api/v1{seed(tenant_a, 1)}", api.headers)
    other = Api(api.client, api_key(tenant_b, scope="admin"))
    many = list_queries(other.client, f"/api/v1{seed(tenant_b, 20)}", other.headers)
    assert_constant_queries(name, one, many, budget)
