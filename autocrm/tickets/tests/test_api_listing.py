"""The ticket list body written directly equals what its declared schema makes of the page."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from ninja.renderers import JSONRenderer

from autocrm.accounts.tests.factories import member
from autocrm.core.api import page_of
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import Team
from autocrm.tickets import selectors, services
from autocrm.tickets.api.listing import ticket_page_response
from autocrm.tickets.query import parse_query
from autocrm.tickets.schemas import TicketListItemOut
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db


def schema_body(page: selectors.TicketPage) -> object:
    """What ninja would answer: validation through the schema, then its JSON renderer."""
    model = page_of(TicketListItemOut)
    validated = model.model_validate({"items": page.items, "next_cursor": page.next_cursor})
    rendered = JSONRenderer().render(None, validated.model_dump(), response_status=200)  # type: ignore[arg-type]
    return json.loads(rendered)


@pytest.mark.parametrize("query", ["", "refund", "sort:-number"])
def test_the_direct_body_is_the_schema_body(tenant_a, query: str) -> None:  # type: ignore[no-untyped-def]
    agent = member(tenant_a, "agent")
    with tenant_context(tenant_a):
        team = Team.objects.create(tenant=tenant_a, name="Billing")
        plain = ticket(tenant_a, subject="Refund for order 1234", tags=["billing", "vip"])
        services.ticket_update(
            tenant=tenant_a,
            actor=SYSTEM,
            ticket_id=plain.pk,
            changes={
                "assignee_id": agent.pk,
                "team_id": team.pk,
                "priority": "urgent",
                "due_at": dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC),
            },
        )
        ticket(tenant_a, subject="Refund <b>again</b>", body="Please refund me.")
        ticket(tenant_a, subject="Shipping", body="Where is my parcel?")
        page = selectors.ticket_list(
            tenant=tenant_a, actor=SYSTEM, filters=parse_query(query), limit=2
        )
    body = json.loads(ticket_page_response(page).content)
    assert body == schema_body(page)
    assert len(body["items"]) == 2
