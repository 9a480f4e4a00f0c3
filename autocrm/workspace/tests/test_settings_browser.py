"""The ticket-configuration settings in headless Chromium: an admin creates a macro and a
custom field, then redelivers a webhook delivery in place (htmx), with screenshots under
var/screenshots/ to be looked at."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, SYSTEM, member
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services as webhook_services
from autocrm.notifications.models import DeliveryStatus, WebhookDelivery
from autocrm.testing.browser import screenshot, sign_in
from autocrm.tickets import config_services
from autocrm.tickets.models import Macro
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed() -> tuple[Tenant, int, int]:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "admin", email="ana@acme.test", name="Ana Admin")
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    with tenant_context(tenant):
        config_services.tag_create(tenant=tenant, actor=SYSTEM, name="vip", color="#b42318")
        config_services.ticket_view_create(
            tenant=tenant, actor=SYSTEM, name="VIP open", query="status:open tag:vip", shared=True
        )
    sub = webhook_services.webhook_subscription_create(
        tenant=tenant, actor=SYSTEM, url="http://93.184.215.14/hooks", description="Billing sync"
    )
    with tenant_context(tenant):
        event = event_append(
            tenant=tenant, type="ticket.updated", subject=("test", 1), actor=SYSTEM, payload={}
        )
    [delivery] = webhook_services.webhook_deliveries_create_for_event(
        tenant=tenant, actor=SYSTEM, event=event
    )
    with tenant_context(tenant):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.ABANDONED, attempt_count=6, response_status=503, error="HTTP 503"
        )
    return tenant, sub.pk, delivery.pk


def test_admin_manages_macros_fields_and_redelivers_a_webhook(page: Page) -> None:
    tenant, sub_id, delivery_id = _seed()
    sign_in(page, "ana@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/settings/macros/")
    page.get_by_label("Name", exact=True).fill("Waiting for customer")
    page.get_by_label("Set status").select_option("pending")
    page.get_by_label("Assign to").select_option(label="Alex Agent")
    page.get_by_label("Add tags").fill("needs-info")
    page.get_by_label("Reply", exact=True).fill("Hi {{requester.name}}, could you tell us more?")
    page.get_by_role("button", name="Create macro").click()
    expect(page.get_by_role("alert").or_(page.get_by_role("status")).first).to_contain_text(
        "Waiting for customer"
    )
    expect(page.get_by_text("Assign to: Alex Agent")).to_be_visible()
    screenshot(page, "settings-macros-desktop")
    with tenant_context(tenant):
        assert Macro.objects.get().actions[0] == {"field": "status", "value": "pending"}

    page.get_by_role("link", name="Fields").click()
    page.get_by_label("Label").fill("Plan")
    page.get_by_label("Type").select_option("dropdown")
    page.get_by_label("Options").fill("Free\nPro")
    page.get_by_role("button", name="Add field").click()
    expect(page.get_by_role("cell", name="plan", exact=True)).to_be_visible()

    page.goto(f"/acme/settings/webhooks/{sub_id}/")
    row = page.locator(f"#delivery-{delivery_id}")
    expect(row).to_contain_text("Abandoned")
    row.get_by_role("button", name="Redeliver").click()
    expect(row).to_contain_text("Queued again.")
    expect(row).to_contain_text("Pending")
    screenshot(page, "settings-webhook-desktop")
    with tenant_context(tenant):
        assert WebhookDelivery.objects.get(pk=delivery_id).status == DeliveryStatus.PENDING


def test_agent_sets_custom_fields_and_merges_from_the_ticket_page(page: Page) -> None:
    tenant, _, _ = _seed()
    with tenant_context(tenant):
        config_services.custom_field_create(
            tenant=tenant,
            actor=SYSTEM,
            label="Plan",
            field_type="dropdown",
            options=["Free", "Pro"],
        )
        config_services.custom_field_create(
            tenant=tenant, actor=SYSTEM, label="Seats", field_type="number"
        )
        source = ticket(tenant, subject="Printer still broken")
        target = ticket(tenant, subject="Printer on fire in the Berlin office")
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/tickets/{source.number}/")
    page.get_by_label("Type").select_option("incident")
    page.get_by_label("Plan").select_option("Pro")
    page.get_by_label("Seats").fill("25")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    expect(page.get_by_label("Plan")).to_have_value("Pro")
    screenshot(page, "agent-ticket-properties-desktop")
    with tenant_context(tenant):
        source.refresh_from_db()
    assert source.type == "incident" and source.custom_fields == {"plan": "Pro", "seats": 25}

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_label("Merge this ticket into #").fill(str(target.number))
    page.get_by_role("button", name="Merge", exact=True).click()
    expect(page).to_have_url(re.compile(f"/agent/tickets/{target.number}/$"))
    expect(page.get_by_text(f"Merged from #{source.number}")).to_be_visible()


def test_g_v_goes_to_the_views_and_the_theme_toggle_turns_dark(page: Page) -> None:
    tenant, _, _ = _seed()
    with tenant_context(tenant):
        t = ticket(tenant, subject="Printer on fire")
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/tickets/{t.number}/")
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("g")
    page.keyboard.press("v")
    expect(page).to_have_url(re.compile(r"/acme/agent/#views$"))
    focused = page.locator("#queue-nav a:focus")
    expect(focused).to_have_count(1)
    expect(focused).to_contain_text("All unsolved")

    # The theme: system (light here) -> light -> dark, kept across pages.
    root = page.locator("html")
    expect(root).to_have_attribute("data-theme", "light")
    page.locator(".user-menu summary").click()
    toggle = page.get_by_role("button", name=re.compile("^Theme:"))
    toggle.click()
    toggle.click()
    expect(root).to_have_attribute("data-theme", "dark")
    page.goto(f"/acme/agent/tickets/{t.number}/")
    expect(root).to_have_attribute("data-theme", "dark")
    screenshot(page, "agent-ticket-dark-desktop")


def test_the_system_dark_preference_is_followed(browser: Any, live_server: Any) -> None:
    _seed()
    context = browser.new_context(base_url=live_server.url, color_scheme="dark")
    page = context.new_page()
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto("/acme/agent/")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "agent-queue-dark-desktop")
    context.close()
