"""The ticket page's property panel beyond the basics: type, the tenant's custom fields as
typed inputs, linked (merged, split) tickets and merging from the page."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.tickets import config_services, services
from autocrm.tickets.models import CustomField, Ticket
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def agent(ctx: Tenant) -> Any:
    return member(ctx, "agent", email="alex@acme.test", name="Alex Agent")


@pytest.fixture
def fields(ctx: Tenant) -> None:
    for label, kind, options in [
        ("Plan", "dropdown", ["Free", "Pro"]),
        ("Seats", "number", []),
        ("Renewal", "date", []),
        ("VIP", "checkbox", []),
        ("Products", "multi_select", ["CRM", "Desk", "Chat"]),
        ("Order ref", "text", []),
    ]:
        config_services.custom_field_create(
            tenant=ctx, actor=SYSTEM, label=label, field_type=kind, options=options
        )


def _props(t: Ticket, **changes: Any) -> dict[str, Any]:
    data = {
        "version": t.version,
        "status": t.status,
        "priority": t.priority_name,
        "type": t.type,
        "assignee": t.assignee_id or "",
        "team": t.team_id or "",
        "tags": " ".join(t.tags),
    }
    data.update(changes)
    return data


def test_custom_fields_are_typed_inputs(
    client: Client, ctx: Tenant, agent: Any, fields: None
) -> None:
    t = ticket(ctx, custom_fields={"plan": "Pro", "seats": 12})
    client.force_login(agent)
    body = client.get(f"/acme/agent/tickets/{t.number}/").content.decode()
    assert '<option value="Pro" selected>Pro</option>' in body
    assert 'type="number" name="cf_seats" value="12"' in body
    assert 'type="date" name="cf_renewal"' in body
    assert 'type="checkbox" name="cf_vip"' in body
    assert 'type="checkbox" name="cf_products" value="Desk"' in body
    assert 'name="type"' in body and '<option value="incident">Incident</option>' in body


def test_saving_type_and_custom_fields(
    client: Client, ctx: Tenant, agent: Any, fields: None
) -> None:
    t = ticket(ctx, custom_fields={"plan": "Free", "order_ref": "A-1"})
    client.force_login(agent)
    response = client.post(
        f"/acme/agent/tickets/{t.number}/properties/",
        _props(
            t,
            type="incident",
            cf_plan="Pro",
            cf_seats="7",
            cf_renewal="2027-01-31",
            cf_vip="on",
            cf_products=["Chat", "CRM"],
            cf_order_ref="",
        ),
        headers=HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    t.refresh_from_db()
    assert t.type == "incident"
    assert t.custom_fields == {
        "plan": "Pro",
        "seats": 7,
        "renewal": "2027-01-31",
        "vip": True,
        "products": ["CRM", "Chat"],
    }
    history = client.get(f"/acme/agent/tickets/{t.number}/").content.decode()
    assert "set plan to Pro" in history and "set vip to yes" in history
    assert "cleared order_ref" in history and "changed the type from none to incident" in history


def test_a_bad_custom_value_is_an_inline_error_and_nothing_is_saved(
    client: Client, ctx: Tenant, agent: Any, fields: None
) -> None:
    t = ticket(ctx)
    client.force_login(agent)
    response = client.post(
        f"/acme/agent/tickets/{t.number}/properties/",
        _props(t, status="open", cf_seats="many"),
        headers=HTMX,
    )
    assert response.status_code == 400
    assert "Seats must be a number" in response.content.decode()
    t.refresh_from_db()
    assert t.status == "new" and t.custom_fields == {}


def test_an_untouched_value_survives_its_option_being_removed(
    client: Client, ctx: Tenant, agent: Any, fields: None
) -> None:
    t = ticket(ctx, custom_fields={"plan": "Pro"})
    field = CustomField.objects.get(key="plan")
    config_services.custom_field_update(
        tenant=ctx, actor=SYSTEM, field=field, changes={"options": ["Free", "Enterprise"]}
    )
    client.force_login(agent)
    page = client.get(f"/acme/agent/tickets/{t.number}/").content.decode()
    assert '<option value="Pro" selected>Pro</option>' in page
    response = client.post(
        f"/acme/agent/tickets/{t.number}/properties/",
        _props(t, priority="high", cf_plan="Pro"),
        headers=HTMX,
    )
    assert response.status_code == 200
    t.refresh_from_db()
    assert t.priority_name == "high" and t.custom_fields == {"plan": "Pro"}


def test_a_stale_panel_is_still_refused_with_custom_fields(
    client: Client, ctx: Tenant, agent: Any, fields: None
) -> None:
    t = ticket(ctx)
    client.force_login(agent)
    stale = _props(t, cf_plan="Pro")
    services.ticket_update(tenant=ctx, actor=SYSTEM, ticket_id=t.pk, changes={"status": "open"})
    response = client.post(f"/acme/agent/tickets/{t.number}/properties/", stale, headers=HTMX)
    assert response.status_code == 409
    t.refresh_from_db()
    assert t.custom_fields == {}


def test_merge_from_the_page_and_both_sides_show_the_link(
    client: Client, ctx: Tenant, agent: Any
) -> None:
    source = ticket(ctx, subject="Printer again")
    target = ticket(ctx, subject="Printer on fire")
    client.force_login(agent)
    response = client.post(
        f"/acme/agent/tickets/{source.number}/merge/", {"into": target.number}, headers=HTMX
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/acme/agent/tickets/{target.number}/"
    source.refresh_from_db()
    assert source.merged_into_id == target.pk and source.status == "closed"
    body = client.get(f"/acme/agent/tickets/{target.number}/").content.decode()
    assert f'Merged from <a href="/acme/agent/tickets/{source.number}/">#{source.number}</a>' in (
        body
    )
    body = client.get(f"/acme/agent/tickets/{source.number}/").content.decode()
    assert f'Merged into <a href="/acme/agent/tickets/{target.number}/">#{target.number}</a>' in (
        body
    )
    assert "Printer on fire" in body


def test_split_tickets_link_both_ways(client: Client, ctx: Tenant, agent: Any) -> None:
    original = ticket(ctx, subject="Two problems")
    note = services.ticket_message_add(
        tenant=ctx, actor=SYSTEM, ticket_id=original.pk, body="Second problem", public=True
    )
    new = services.ticket_split(
        tenant=ctx, actor=SYSTEM, ticket_id=original.pk, message_ids=[note.pk]
    )
    client.force_login(agent)
    body = client.get(f"/acme/agent/tickets/{original.number}/").content.decode()
    assert f'Split into <a href="/acme/agent/tickets/{new.number}/">' in body
    body = client.get(f"/acme/agent/tickets/{new.number}/").content.decode()
    assert f'Split from <a href="/acme/agent/tickets/{original.number}/">' in body


@pytest.mark.parametrize(
    ("into", "message", "status"),
    [("999999", "There is no ticket #999999.", 400), ("", "Give the number", 400)],
)
def test_merge_into_a_missing_ticket_is_an_inline_error(
    client: Client, ctx: Tenant, agent: Any, into: str, message: str, status: int
) -> None:
    t = ticket(ctx)
    client.force_login(agent)
    response = client.post(f"/acme/agent/tickets/{t.number}/merge/", {"into": into}, headers=HTMX)
    assert response.status_code == status
    assert message in response.content.decode()
    t.refresh_from_db()
    assert t.merged_into_id is None


def test_merge_into_itself_is_refused(client: Client, ctx: Tenant, agent: Any) -> None:
    t = ticket(ctx)
    client.force_login(agent)
    response = client.post(
        f"/acme/agent/tickets/{t.number}/merge/", {"into": t.number}, headers=HTMX
    )
    assert (
        response.status_code == 400 and "cannot be merged into itself" in response.content.decode()
    )


def test_a_light_agent_cannot_merge(client: Client, ctx: Tenant) -> None:
    a, b = ticket(ctx), ticket(ctx)
    client.force_login(member(ctx, "light_agent"))
    assert "merge-into" not in client.get(f"/acme/agent/tickets/{a.number}/").content.decode()
    response = client.post(
        f"/acme/agent/tickets/{a.number}/merge/", {"into": b.number}, headers=HTMX
    )
    assert response.status_code == 403
    a.refresh_from_db()
    assert a.merged_into_id is None


def test_fields_and_links_cost_no_statement_per_field_or_link(
    client: Client, ctx: Tenant, agent: Any, fields: None
) -> None:
    t = ticket(ctx)
    client.force_login(agent)

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/acme/agent/tickets/{t.number}/").status_code == 200
        return len(captured.captured_queries)

    statements()
    first = ticket(ctx)
    services.ticket_merge(tenant=ctx, actor=SYSTEM, source_id=first.pk, target_id=t.pk)
    one_link = statements()
    for _ in range(3):
        other = ticket(ctx)
        services.ticket_merge(tenant=ctx, actor=SYSTEM, source_id=other.pk, target_id=t.pk)
    config_services.custom_field_create(tenant=ctx, actor=SYSTEM, label="More", field_type="text")
    statements()  # the changed definitions load once per process, then come from the cache
    assert statements() == one_link
