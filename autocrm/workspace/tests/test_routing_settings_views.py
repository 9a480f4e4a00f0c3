"""The routing settings pages: teams and availability, business hours, SLA policies,
triggers and automations, as admins and agents see them."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import AgentProfile, BusinessHours, SlaPolicy, Team, Trigger
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client, tenant_a: Tenant) -> Client:
    client.force_login(member(tenant_a, "admin"))
    return client


def test_an_admin_creates_a_team_with_members(admin: Client, tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent", name="Alex Agent")
    assert admin.get("/acme/settings/teams/").status_code == 200
    response = admin.post(
        "/acme/settings/teams/",
        {"name": "Billing", "assignment_method": "round_robin", "members": [agent.pk]},
    )
    assert response.status_code == 302
    page = admin.get("/acme/settings/teams/").content.decode()
    assert "Billing" in page and "Alex Agent" in page and "Round-robin" in page
    assert (
        admin.post(
            "/acme/settings/teams/", {"name": "Billing", "assignment_method": "manual"}
        ).status_code
        == 400
    )
    with tenant_context(tenant_a):
        team = Team.objects.get(name="Billing")
    assert admin.post(f"/acme/settings/teams/{team.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not Team.objects.exists()


def test_an_agent_toggles_availability_but_cannot_configure(
    client: Client, tenant_a: Tenant
) -> None:
    agent = member(tenant_a, "agent")
    client.force_login(agent)
    assert "Your availability" in client.get("/acme/settings/teams/").content.decode()
    assert (
        client.post("/acme/settings/availability/", {"availability": "online"}).status_code == 302
    )
    with tenant_context(tenant_a):
        assert AgentProfile.objects.get(user=agent).availability == "online"
    assert (
        client.post(
            "/acme/settings/teams/", {"name": "X", "assignment_method": "manual"}
        ).status_code
        == 403
    )
    for url in ("/acme/settings/business-hours/", "/acme/settings/sla/", "/acme/settings/rules/"):
        assert client.get(url).status_code in (403, 404)


def test_business_hours_form_reports_overlaps(admin: Client, tenant_a: Tenant) -> None:
    form = {
        "name": "Berlin",
        "time_zone": "Europe/Berlin",
        "mon": "09:00-12:00, 11:00-17:00",
        "holidays": "2026-12-25 Christmas",
    }
    bad = admin.post("/acme/settings/business-hours/", form)
    assert bad.status_code == 400 and "overlaps" in bad.content.decode()
    bad_zone = admin.post(
        "/acme/settings/business-hours/", {**form, "mon": "09:00-17:00", "time_zone": "Mars/Base"}
    )
    assert bad_zone.status_code == 400 and "Unknown time zone" in bad_zone.content.decode()
    assert (
        admin.post(
            "/acme/settings/business-hours/", {**form, "mon": "09:00-12:00, 13:00-17:00"}
        ).status_code
        == 302
    )
    with tenant_context(tenant_a):
        hours = BusinessHours.objects.get()
    assert hours.hours == [
        {"day": "mon", "start": "09:00", "end": "12:00"},
        {"day": "mon", "start": "13:00", "end": "17:00"},
    ]
    assert hours.holidays == [{"date": "2026-12-25", "name": "Christmas"}]
    assert "Christmas" in admin.get("/acme/settings/business-hours/").content.decode()


def test_sla_policy_form(admin: Client, tenant_a: Tenant) -> None:
    form = {"name": "Urgent", "active": "on", "match": "all", "warn_before_minutes": 30}
    form["position"] = 0
    assert admin.post("/acme/settings/sla/", form).status_code == 400  # no target
    response = admin.post(
        "/acme/settings/sla/",
        {
            **form,
            "conditions": '[{"field": "priority", "op": "is", "value": "urgent"}]',
            "first_reply_minutes": 60,
        },
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert SlaPolicy.objects.get().conditions == [
            {"field": "priority", "op": "is", "value": "urgent"}
        ]
    assert "priority is urgent" in admin.get("/acme/settings/sla/").content.decode()


def test_rules_form_preview_and_toggle(admin: Client, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        ticket(tenant_a, subject="Refund please")
    rule = {
        "kind": "trigger",
        "name": "Refunds",
        "active": "on",
        "on": ["ticket.created"],
        "match": "all",
        "conditions": '[{"field": "text", "op": "contains", "value": "refund"}]',
        "actions": '[{"type": "add_tags", "value": ["billing"]}]',
        "position": 0,
    }
    looping = admin.post(
        "/acme/settings/rules/", {**rule, "on": ["ticket.updated"], "conditions": "[]"}
    )
    assert looping.status_code == 400 and "endlessly" in looping.content.decode()
    assert admin.post("/acme/settings/rules/", {**rule, "actions": "not json"}).status_code == 400
    assert admin.post("/acme/settings/rules/", rule).status_code == 302
    preview = admin.post(
        "/acme/settings/rules/preview/", {"conditions": rule["conditions"], "match": "all"}
    )
    assert "1 of the 1" in preview.content.decode() and "Refund please" in preview.content.decode()
    bad = admin.post(
        "/acme/settings/rules/preview/", {"conditions": '[{"field": "x", "op": "is"}]'}
    )
    assert "Unknown field" in bad.content.decode()
    with tenant_context(tenant_a):
        trigger = Trigger.objects.get()
    assert admin.post(f"/acme/settings/rules/triggers/{trigger.pk}/toggle/").status_code == 302
    with tenant_context(tenant_a):
        trigger.refresh_from_db()
        assert trigger.active is False
    assert "paused" in admin.get("/acme/settings/rules/").content.decode()
    automation = {
        **rule,
        "kind": "automation",
        "name": "Old pending",
        "conditions": '[{"field": "hours_since_updated", "op": "gt", "value": 72}]',
    }
    assert admin.post("/acme/settings/rules/", automation).status_code == 302
    assert User.objects.exists()


def test_the_ticket_page_shows_its_sla_timers(admin: Client, tenant_a: Tenant) -> None:
    from autocrm.routing import services
    from autocrm.routing.tests.factories import SYSTEM, dispatch_all

    with tenant_context(tenant_a):
        services.sla_policy_create(
            tenant=tenant_a, actor=SYSTEM, name="All", first_reply_minutes=90
        )
        t = ticket(tenant_a)
    dispatch_all(tenant_a)
    page = admin.get(f"/acme/agent/tickets/{t.number}/").content.decode()
    assert 'id="sla-title"' in page and "First reply" in page and "Due in" in page


def test_the_ticket_page_links_the_log_of_rules_that_fired(
    client: Client, tenant_a: Tenant
) -> None:
    from autocrm.routing import services
    from autocrm.routing.tests.factories import SYSTEM, dispatch_all

    with tenant_context(tenant_a):
        trigger = services.trigger_create(
            tenant=tenant_a, actor=SYSTEM, name="Refunds to billing", on=["ticket.created"],
            conditions=[{"field": "text", "op": "contains", "value": "refund"}],
            actions=[{"type": "add_tags", "value": ["billing"]},
                     {"type": "set", "field": "priority", "value": "high"}],
        )  # fmt: skip
        refund = ticket(tenant_a, subject="Refund please", body="Please refund order 12")
        other = ticket(tenant_a, subject="Login broken")
    dispatch_all(tenant_a)
    agent = member(tenant_a, "agent")
    client.force_login(agent)
    page = client.get(f"/acme/agent/tickets/{refund.number}/").content.decode()
    url = f"/acme/agent/tickets/{refund.number}/rules/"
    assert 'id="rules-fired-title"' in page and f'hx-get="{url}"' in page
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment and "Refunds to billing" in fragment
    assert "add_tags billing · set priority high" in fragment
    assert f"/rules/triggers/{trigger.pk}/" not in fragment  # agents get no edit link
    full = client.get(url).content.decode()
    assert "Rules fired on #" in full and "Refunds to billing" in full
    nothing = client.get(
        f"/acme/agent/tickets/{other.number}/rules/", headers={"HX-Request": "true"}
    )
    assert "No trigger, automation or SLA escalation" in nothing.content.decode()
    assert client.get("/acme/agent/tickets/99999/rules/").status_code == 404
    admin = member(tenant_a, "admin")
    client.force_login(admin)
    assert f"/rules/triggers/{trigger.pk}/" in client.get(url).content.decode()
    client.force_login(member(tenant_a, "customer"))
    assert client.get(url).status_code == 403
