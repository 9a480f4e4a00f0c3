"""The CRM panel beside a ticket: the requester's and their companies' activities (upcoming
and recent) and open deals; logging an activity and scheduling a follow-up from the ticket
(linked to contact and ticket); the panel's two statements, whatever the record holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from autocrm.accounts.tests.factories import SYSTEM, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import services
from autocrm.crm.models import Activity
from autocrm.crm.tests.factories import activity, company, contact, deal, pipeline
from autocrm.testing.queries import all_statements
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(tenant_a: Tenant, client: Client) -> Any:
    user = member(tenant_a, "agent", email="alex@acme.test", name="Alex Agent")
    client.force_login(user)
    return user


def _page(client: Client, number: int) -> str:
    page = client.get(f"/acme/agent/tickets/{number}/")
    assert page.status_code == 200
    html = page.content.decode()
    return html[html.index('id="crm-panel-title"') :]


def test_the_panel_shows_activities_and_open_deals_of_the_requester_and_company(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    pipeline(tenant_a, name="Sales")
    initech = company(tenant_a, name="Initech", domains=["initech.test"])
    milton = contact(tenant_a, name="Milton", email="milton@initech.test")
    bill = contact(tenant_a, name="Bill", email="bill@initech.test")
    stranger = contact(tenant_a, name="Stranger", email="s@else.test")
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="Stapler", requester_email="milton@initech.test")
        other = ticket(tenant_a, subject="Other", requester_email="s@else.test")
    soon = timezone.now() + dt.timedelta(days=1)
    activity(tenant_a, subject="Call Milton back", contact_id=milton.pk, due_at=soon)
    activity(tenant_a, subject="Company review", kind="meeting", company_id=initech.pk, due_at=soon)
    activity(tenant_a, subject="About the stapler", kind="note", ticket_id=t.pk)
    done = activity(tenant_a, subject="Sent the quote", contact_id=milton.pk)
    with tenant_context(tenant_a):
        services.activity_update(
            tenant=tenant_a, actor=SYSTEM, activity=done, changes={"done": True}
        )
    activity(tenant_a, subject="Stranger task", contact_id=stranger.pk)
    activity(tenant_a, subject="Other ticket note", kind="note", ticket_id=other.pk)
    deal(tenant_a, title="Initech renewal", amount="24000", currency="EUR", contact_id=bill.pk)
    deal(tenant_a, title="Milton's stapler", amount="30", contact_id=milton.pk)
    lost = deal(tenant_a, title="Lost printer deal", contact_id=milton.pk)
    with tenant_context(tenant_a):
        services.deal_close(tenant=tenant_a, actor=SYSTEM, deal=lost, status="lost", reason="x")
    deal(tenant_a, title="Stranger deal", contact_id=stranger.pk)

    panel = _page(client, t.number)
    upcoming = panel[panel.index("Upcoming activities") : panel.index("Recent activities")]
    recent = panel[panel.index("Recent activities") :]
    assert "Call Milton back" in upcoming and "Company review" in upcoming
    assert "About the stapler" in recent and "Sent the quote" in recent
    assert "Sent the quote" not in upcoming
    # The company's deal (through Bill) shows beside Milton's own; closed ones do not.
    assert "Initech renewal" in panel and "EUR 24,000" in panel and "Milton&#x27;s stapler" in panel
    assert "Lost printer deal" not in panel
    for theirs in ("Stranger task", "Other ticket note", "Stranger deal"):
        assert theirs not in panel


def test_log_an_activity_and_schedule_a_follow_up_from_the_ticket(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    milton = contact(tenant_a, name="Milton", email="milton@initech.test")
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="Stapler", requester_email="milton@initech.test")
        template = services.activity_template_create(
            tenant=tenant_a,
            actor=SYSTEM,
            name="Check in",
            kind="call",
            subject="Check-in call",
            due_in_days=2,
            remind_minutes_before=15,
        )
    here = f"/acme/agent/tickets/{t.number}/"
    panel = _page(client, t.number)
    assert "Log activity" in panel and "Schedule follow-up" in panel and "Check in" in panel

    logged = client.post(
        "/acme/agent/activities/new/",
        {
            "kind": "call",
            "subject": "Talked about the stapler",
            "body": "He wants it back.",
            "done": "1",
            "contact": milton.pk,
            "ticket": t.pk,
            "next": here,
        },
    )
    assert logged.status_code == 302 and logged["Location"] == here
    followed = client.post(
        "/acme/agent/activities/new/",
        {"template": template.pk, "remind": "", "contact": milton.pk, "ticket": t.pk, "next": here},
    )
    assert followed.status_code == 302
    with tenant_context(tenant_a):
        call, follow = Activity.objects.order_by("id")
        created = list(Event.objects.filter(type="activity.created").order_by("id"))
    assert (call.contact_id, call.ticket_id, call.owner_id) == (milton.pk, t.pk, agent.pk)
    assert call.done_at is not None and call.due_at is None
    assert (follow.kind, follow.subject, follow.contact_id, follow.ticket_id) == (
        "call",
        "Check-in call",
        milton.pk,
        t.pk,
    )
    assert follow.done_at is None and follow.due_at is not None
    assert follow.remind_at == follow.due_at - dt.timedelta(minutes=15)
    assert created[0].payload["done"] is True and created[1].payload["template_id"] == template.pk

    panel = _page(client, t.number)
    recent = panel[panel.index("Recent activities") :]
    assert "Talked about the stapler" in recent
    upcoming = panel[panel.index("Upcoming activities") : panel.index("Recent activities")]
    assert "Check-in call" in upcoming
    # Done from the ticket, back on the ticket.
    finished = client.post(f"/acme/agent/activities/{follow.pk}/done/", {"next": here})
    assert finished["Location"] == here
    with tenant_context(tenant_a):
        follow.refresh_from_db()
    assert follow.done_at is not None


def test_a_follow_up_without_a_subject_says_so_and_saves_nothing(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    milton = contact(tenant_a, name="Milton", email="milton@initech.test")
    with tenant_context(tenant_a):
        t = ticket(tenant_a, requester_email="milton@initech.test")
    here = f"/acme/agent/tickets/{t.number}/"
    for bad in (
        {"kind": "task", "subject": ""},
        {"kind": "task", "subject": "Due when?", "due_at": "next tuesday"},
        {"kind": "fax", "subject": "Fax him"},
    ):
        response = client.post(
            "/acme/agent/activities/new/",
            {**bad, "contact": milton.pk, "ticket": t.pk, "next": here},
            follow=True,
        )
        assert response.status_code == 200
        assert "The activity was not added." in response.content.decode()
    with tenant_context(tenant_a):
        assert not Activity.objects.exists()


def test_light_agents_see_the_panel_without_its_forms(client: Client, tenant_a: Tenant) -> None:
    milton = contact(tenant_a, name="Milton", email="milton@initech.test")
    activity(tenant_a, subject="Call Milton back", contact_id=milton.pk)
    with tenant_context(tenant_a):
        t = ticket(tenant_a, requester_email="milton@initech.test")
    client.force_login(member(tenant_a, "light_agent", email="light@acme.test"))
    panel = _page(client, t.number)
    assert "Call Milton back" in panel
    assert "Log activity" not in panel and "Mark Call Milton back done" not in panel


def _statements(client: Client, number: int) -> tuple[int, int]:
    """(statements of the ticket page, of them the CRM panel's)."""
    client.get(f"/acme/agent/tickets/{number}/")
    with all_statements() as sql:  # the panel's statements are prepared (core.sql)
        assert client.get(f"/acme/agent/tickets/{number}/").status_code == 200
    panel = [s for s in sql if "crm_deal" in s or ("crm_activity" in s and "UNION" in s)]
    return len(sql), len(panel)


def test_the_panel_costs_two_statements_however_much_the_record_holds(
    client: Client, tenant_a: Tenant, agent: Any
) -> None:
    pipeline(tenant_a, name="Sales")
    # A primary company from the start: the customer card reads it (one statement either way).
    home = company(tenant_a, name="Initech", domains=["initech.test"])
    milton = contact(tenant_a, name="Milton", email="milton@initech.test")
    with tenant_context(tenant_a):
        t = ticket(tenant_a, requester_email="milton@initech.test")
    empty = _statements(client, t.number)
    assert empty[1] == 2
    soon = timezone.now() + dt.timedelta(days=1)
    firms: list[int] = [home.pk]
    for i in range(3):
        firm = company(tenant_a, name=f"Firm {i}")
        firms.append(firm.pk)
        with tenant_context(tenant_a):
            services.contact_update(
                tenant=tenant_a, actor=SYSTEM, contact=milton, changes={"company_ids": firms}
            )
        colleague = contact(tenant_a, name=f"Colleague {i}", company_ids=[firm.pk])
        deal(tenant_a, title=f"Deal {i}", contact_id=colleague.pk)
        activity(tenant_a, subject=f"Firm task {i}", company_id=firm.pk, due_at=soon)
        activity(tenant_a, subject=f"Note {i}", kind="note", ticket_id=t.pk)
        with tenant_context(tenant_a):
            services.activity_template_create(
                tenant=tenant_a, actor=SYSTEM, name=f"T{i}", kind="task", subject="x"
            )
    full = _statements(client, t.number)
    assert full == empty, (empty, full)
    panel = _page(client, t.number)
    assert "Firm task 2" in panel and "Deal 2" in panel and "Firm 2" in panel and "T2" in panel
