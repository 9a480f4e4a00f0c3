"""The routing settings in headless Chromium: an admin adds business hours, a team, an SLA
policy and a trigger (previewing its matches), with screenshots to be looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.testing.browser import screenshot, sign_in
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_sets_up_routing(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "admin", email="ana@acme.test", name="Ana Admin")
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    with tenant_context(tenant):
        ticket(tenant, subject="Refund for order 1234", body="Please refund me")
        ticket(tenant, subject="Login broken", body="Cannot sign in")
    sign_in(page, "ana@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/settings/business-hours/")
    page.get_by_label("Name", exact=True).fill("Berlin office")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Holidays").fill("2026-12-25 Christmas")
    page.get_by_role("button", name="Save business hours").click()
    expect(page.get_by_role("cell", name="Berlin office")).to_be_visible()
    screenshot(page, "routing-business-hours")

    page.goto("/acme/settings/teams/")
    page.get_by_label("Name", exact=True).fill("Billing")
    page.get_by_label("Assignment").select_option("round_robin")
    page.get_by_label("Business hours").select_option(label="Berlin office")
    page.get_by_label("Alex Agent").check()
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("cell", name="Alex Agent")).to_be_visible()
    page.get_by_role("button", name="Online").click()
    expect(page.get_by_role("button", name="Online")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "routing-teams")

    page.goto("/acme/settings/sla/")
    page.get_by_label("Name", exact=True).fill("Urgent tickets")
    page.get_by_label("For priority").select_option("urgent")
    page.get_by_label("First reply (min)").fill("60")
    page.get_by_label("Resolution (min)").fill("480")
    page.get_by_label("Count business hours only").check()
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("cell", name="60 min")).to_be_visible()

    page.goto("/acme/settings/rules/")
    page.get_by_label("Name", exact=True).fill("Refunds to billing")
    page.get_by_label("Ticket created").check()
    page.get_by_role("button", name="Preview matches").click()
    expect(page.locator("#rule-preview")).to_contain_text("1 of the 2")
    expect(page.locator("#rule-preview")).to_contain_text("Refund for order 1234")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("button", name="Pause Refunds to billing")).to_be_visible()
    screenshot(page, "routing-rules")
