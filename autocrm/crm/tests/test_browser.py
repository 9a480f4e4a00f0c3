"""The CRM pages in headless Chromium: search the contact list, open a contact's timeline,
edit them, and see the CRM record beside a ticket (screenshots under var/screenshots/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.services import PhoneInput
from autocrm.crm.tests.factories import company, contact
from autocrm.testing.browser import screenshot, sign_in
from autocrm.tickets import services as ticket_services
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_contacts_list_page_edit_and_ticket_panel(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    agent = member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    initech = company(tenant, name="Initech", domains=["initech.test"], tags=["enterprise"])
    company(tenant, name="Initrode", parent_id=initech.pk)
    milton = contact(
        tenant,
        name="Milton Waddams",
        email="milton@initech.test",
        emails=["milton@home.test"],
        phones=[PhoneInput("+1 415 555 0100", "desk")],
        title="Collator",
        tags=["stapler", "vip"],
        owner_id=agent.pk,
        custom_fields={"plan": "enterprise"},
        consent_email=True,
    )
    for name in ("Peter Gibbons", "Samir Nagheenanajar", "Michael Bolton"):
        contact(tenant, name=name, email=f"{name.split()[0].lower()}@initech.test")
    with tenant_context(tenant):
        t = ticket(
            tenant,
            subject="My stapler was taken",
            body="I was told I could keep my stapler.",
            requester_email="milton@initech.test",
        )
        ticket_services.ticket_message_add(
            tenant=tenant,
            actor=actor_of(tenant, agent),
            ticket_id=t.pk,
            body="Found it in the storage room; returning it today.",
            public=True,
        )
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/agent/contacts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
    expect(page.locator(".crm-table tbody tr")).to_have_count(4)
    screenshot(page, "crm-contacts")
    page.get_by_label("Search").fill("miltn")  # a typo still finds him
    page.get_by_role("button", name="Filter").click()
    expect(page.locator(".crm-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="Milton Waddams").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Milton Waddams")
    expect(page.locator(".crm-timeline")).to_contain_text("My stapler was taken")
    expect(page.locator(".crm-timeline")).to_contain_text("Found it in the storage room")
    expect(page.locator(".facts")).to_contain_text("+1 415-555-0100")
    screenshot(page, "crm-contact")

    page.get_by_text("Edit contact").click()
    page.get_by_label("Job title").fill("Senior collator")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Milton Waddams")
    expect(page.locator(".page-header")).to_contain_text("Senior collator")
    expect(page.locator(".crm-timeline")).to_contain_text("Contact changed")

    page.get_by_role("link", name="Initech").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech")
    expect(page.locator(".crm-people li")).to_have_count(4)
    screenshot(page, "crm-company")

    page.goto(f"/acme/agent/tickets/{t.number}/")
    panel = page.locator(".crm-panel")
    expect(panel).to_contain_text("Senior collator")
    expect(panel).to_contain_text("Alex Agent")
    expect(panel).to_contain_text("stapler")
    assert milton.pk
    screenshot(page, "crm-ticket-panel")


def test_show_more_loads_the_next_page_of_a_company_timeline(page: Page) -> None:
    """htmx: the button gives way to the next entries and, while there are more, to a new
    button of its own; the page itself stays (no navigation)."""
    from autocrm.crm.timeline import PAGE_LENGTH

    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    initech = company(tenant, name="Initech", domains=["initech.test"])
    with tenant_context(tenant):
        for i in range(PAGE_LENGTH):  # a ticket and its first message each: 40, and 1 change
            ticket(tenant, subject=f"Stapler {i:02d}", requester_email=f"p{i}@initech.test")
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/companies/{initech.pk}/")
    entries = page.locator(".crm-timeline .crm-entry")
    expect(entries).to_have_count(PAGE_LENGTH)
    screenshot(page, "crm-company-timeline")
    url = page.url
    page.get_by_role("link", name="Show more").click()
    expect(entries).to_have_count(2 * PAGE_LENGTH)
    page.get_by_role("link", name="Show more").click()
    expect(entries).to_have_count(2 * PAGE_LENGTH + 1)
    expect(page.get_by_role("link", name="Show more")).to_have_count(0)
    expect(entries.last).to_contain_text("Company created")
    assert page.url == url
    screenshot(page, "crm-company-timeline-more")
