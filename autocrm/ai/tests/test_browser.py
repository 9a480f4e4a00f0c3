"""The AI pages in headless Chromium: the dashboard reached from the workspace navigation,
and a ticket's summary asked for from its AI panel (screenshots under var/screenshots/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.ai.tests.factories import category_field, draft, long_ticket, triaged
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.testing.browser import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_and_summary(page: Page) -> None:
    page.set_default_timeout(60_000)  # the first pages of a live server on a loaded host
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    with tenant_context(tenant):
        category_field(tenant)
        solved = {"status": "solved"}
        for category in ("refund", "refund", "shipping", "billing"):
            triaged(tenant, "applied", category, custom_fields={"category": category}, **solved)
        triaged(tenant, "applied", "refund", custom_fields={"category": "shipping"}, **solved)
        triaged(tenant, "corrected", "billing", final="refund")
        triaged(tenant, "review", "billing")
        draft(tenant, "accepted")
        draft(tenant, "edited", edit_distance=40)
        draft(tenant, "rejected")
        t = long_ticket(tenant)
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/agent/")
    page.get_by_role("link", name="AI dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AI dashboard")
    expect(page.locator("[data-ai-accuracy]")).to_have_text("67%")  # 4 of 6 kept
    expect(page.locator("[data-ai-review-queue]")).to_have_text("1")
    screenshot(page, "ai-dashboard")

    page.goto(f"/acme/agent/tickets/{t.number}/")
    page.get_by_role("button", name="Summarise").click()
    summary = page.locator("[data-ai-summary]")
    expect(summary).to_have_attribute("data-ai-summary", "extractive")
    expect(summary).to_contain_text("cracked screen")
    screenshot(page, "ai-summary")
