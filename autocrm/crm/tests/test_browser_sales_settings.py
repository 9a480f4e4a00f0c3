"""Headless Chromium: an admin makes an activity template and two assignment rules and puts
the second first; an agent on a ticket schedules a follow-up from that template and logs a
call in the CRM panel (screenshots under var/screenshots/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Activity, DealAssignmentRule
from autocrm.crm.tests.factories import activity, company, contact, deal, pipeline
from autocrm.testing.browser import screenshot, sign_in
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_templates_and_rules_then_a_follow_up_from_the_ticket(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Sales")
    member(tenant, "admin", email="boss@acme.test", name="Bo Boss")
    kim = member(tenant, "agent", email="kim@acme.test", name="Kim Seller")
    pipeline(tenant, name="Sales")
    page.goto("/accounts/login/", timeout=60_000)  # the live server's first request is slow
    sign_in(page, "boss@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/settings/sales/")
    page.get_by_role("link", name="Activity templates").click()
    page.get_by_label("Name").fill("Check-in call")
    page.get_by_label("Kind").select_option("call")
    page.get_by_label("Subject").fill("Check in with the customer")
    page.get_by_label("Due in (days)").fill("2")
    page.get_by_label("Duration (minutes)").fill("20")
    page.get_by_label("Remind (minutes before)").fill("15")
    page.get_by_role("button", name="Create template").click()
    expect(page.locator(".alert-success")).to_contain_text("Check-in call")
    expect(page.locator("table")).to_contain_text("In 2 days")
    # The same name again: an error on the field, nothing saved.
    page.get_by_label("Name").fill("check-in CALL")
    page.get_by_label("Kind").select_option("task")
    page.get_by_label("Subject").fill("Again")
    page.get_by_role("button", name="Create template").click()
    expect(page.locator("#id_name_error")).to_contain_text("A template named")
    expect(page.locator("table tbody tr")).to_have_count(1)
    screenshot(page, "crm-settings-templates")

    page.get_by_role("link", name="Assignment rules").click()
    for name, amount in (("Everything", ""), ("Big deals", "10000")):
        page.get_by_label("Name").fill(name)
        page.get_by_label("Amount at least").fill(amount)
        page.get_by_label("Kim Seller").check()
        page.get_by_role("button", name="Create rule").click()
        expect(page.locator("table")).to_contain_text(name)
    page.get_by_role("button", name="Move Big deals up").click()
    expect(page.locator("table tbody tr").first).to_contain_text("Big deals")
    with tenant_context(tenant):
        order = list(DealAssignmentRule.objects.order_by("position").values_list("name", flat=True))
    assert order == ["Big deals", "Everything"]
    screenshot(page, "crm-settings-assignment")

    # An agent on a ticket: the CRM panel, a follow-up from the template, a logged call.
    initech = company(tenant, name="Initech", domains=["initech.test"])
    milton = contact(tenant, name="Milton Waddams", email="milton@initech.test")
    bill = contact(tenant, name="Bill Lumbergh", email="bill@initech.test")
    deal(tenant, title="Initech renewal", amount="24000", currency="EUR", contact_id=bill.pk)
    activity(
        tenant,
        kind="meeting",
        subject="Quarterly review",
        company_id=initech.pk,
        owner_id=kim.pk,
        due_at=timezone.now() + dt.timedelta(days=3),
    )
    with tenant_context(tenant):
        t = ticket(tenant, subject="Where is my stapler?", requester_email="milton@initech.test")
    page.context.clear_cookies()
    sign_in(page, "kim@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/tickets/{t.number}/")
    panel = page.locator(".crm-panel")
    expect(panel).to_contain_text("Initech renewal")
    expect(panel).to_contain_text("Quarterly review")
    panel.locator("summary", has_text="Schedule follow-up").click()
    panel.get_by_label("Template").select_option(label="Check-in call")
    panel.get_by_role("button", name="Schedule").click()
    expect(page.locator(".crm-panel")).to_contain_text("Check in with the customer")
    page.locator(".crm-panel summary", has_text="Log activity").click()
    page.locator("#crm-log-subject").fill("Called about the stapler")
    page.locator("#crm-log-body").fill("He will look in the basement.")
    page.locator(".crm-panel").get_by_role("button", name="Log activity").click()
    recent = page.locator(".crm-panel ul[aria-labelledby=crm-panel-recent]")
    expect(recent).to_contain_text("Called about the stapler")
    with tenant_context(tenant):
        rows = list(Activity.objects.filter(ticket=t).order_by("id"))
    assert [(a.subject, a.contact_id, a.done_at is not None) for a in rows] == [
        ("Check in with the customer", milton.pk, False),
        ("Called about the stapler", milton.pk, True),
    ]
    page.locator(".crm-panel").scroll_into_view_if_needed()
    screenshot(page, "crm-ticket-panel")
