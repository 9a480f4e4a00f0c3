"""The routing settings in headless Chromium: an admin adds business hours, a team, an SLA
policy and a trigger (previewing its matches), then edits the SLA policy and the trigger
(a looping edit refused beside the field), reorders policies and reads a ticket's log of
rules fired, with screenshots to be looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.tests.factories import dispatch_all
from autocrm.testing.browser import htmx_idle, screenshot, sign_in
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_sets_up_routing(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "admin", email="ana@acme.test", name="Ana Admin")
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    with tenant_context(tenant):
        ticket(tenant, subject="Refund for order 1234", body="Please refund me")
        ticket(tenant, subject="Login broken", body="Cannot sign in")
    page.set_default_timeout(60_000)  # the first pages of a live server on a loaded host
    sign_in(page, "ana@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/settings/business-hours/")
    page.get_by_label("Name", exact=True).fill("Berlin office")
    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_label("Holidays").fill("2026-12-25 Christmas")
    page.get_by_role("button", name="Save business hours").click()
    expect(page.get_by_role("cell", name="Berlin office", exact=True)).to_be_visible()
    screenshot(page, "routing-business-hours")

    page.goto("/acme/settings/teams/")
    page.get_by_label("Name", exact=True).fill("Billing")
    page.get_by_label("Assignment").select_option("round_robin")
    page.get_by_label("Business hours").select_option(label="Berlin office")
    page.get_by_label("Alex Agent").check()
    page.get_by_role("button", name="Create team").click()
    expect(page.locator("tr", has_text="Billing")).to_contain_text("Alex Agent")
    page.get_by_role("button", name="Online").click()
    expect(page.get_by_role("button", name="Online")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "routing-teams")

    page.goto("/acme/settings/sla/")
    page.get_by_label("Name", exact=True).fill("Urgent tickets")
    page.get_by_role("button", name="+ Add condition").click()
    htmx_idle(page)
    page.get_by_label("Condition 1: field").select_option("priority")
    htmx_idle(page)
    expect(page.get_by_label("Condition 1: value")).to_have_value("low")
    page.get_by_label("Condition 1: value").select_option("urgent")
    page.get_by_label("First reply (min)").fill("60")
    page.get_by_label("Resolution (min)").fill("480")
    page.get_by_label("Count business hours only").check()
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("cell", name="60 min")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Everything else")
    page.get_by_label("First reply (min)").fill("240")
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_role("cell", name="240 min")).to_be_visible()

    page.goto("/acme/settings/rules/")
    page.get_by_label("Name", exact=True).fill("Refunds to billing")
    page.get_by_label("Ticket created").check()
    page.get_by_label("Condition 1: field").select_option("text")
    htmx_idle(page)
    expect(page.get_by_label("Condition 1: operator")).to_have_value("contains")
    page.get_by_label("Condition 1: value").fill("refund")
    page.get_by_label("Action 1: what to do").select_option("add_tags")
    htmx_idle(page)
    page.get_by_label("Action 1: tags, comma-separated").fill("billing")
    page.get_by_role("button", name="Preview matches").click()
    expect(page.locator("#rule-preview")).to_contain_text("1 of the 2")
    expect(page.locator("#rule-preview")).to_contain_text("Refund for order 1234")
    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("button", name="Pause Refunds to billing")).to_be_visible()
    screenshot(page, "routing-rules")

    # Edit the SLA policy: a condition on an unknown field is refused beside the field.
    page.goto("/acme/settings/sla/")
    page.get_by_role("link", name="Edit Urgent tickets").click()
    expect(page.get_by_label("First reply (min)")).to_have_value("60")
    expect(page.get_by_label("Condition 1: value")).to_have_value("urgent")
    page.get_by_role("button", name="Advanced: edit as JSON").click()
    htmx_idle(page)
    conditions = page.get_by_label("Conditions")
    expect(conditions).to_have_value('[{"field": "priority", "op": "is", "value": "urgent"}]')
    conditions.fill('[{"field": "mood", "op": "is", "value": "angry"}]')
    page.get_by_role("button", name="Save SLA policy").click()
    expect(page.locator("#id_conditions_error")).to_contain_text("Unknown field 'mood'")
    conditions.fill('[{"field": "priority", "op": "in", "value": ["high", "urgent"]}]')
    page.get_by_label("First reply (min)").fill("30")
    page.get_by_label("On breach, do").fill('[{"type": "add_tags", "value": ["sla-breached"]}]')
    screenshot(page, "routing-sla-edit")
    page.get_by_role("button", name="Save SLA policy").click()
    expect(page.get_by_role("cell", name="30 min")).to_be_visible()
    expect(page.get_by_text("When priority is one of high, urgent")).to_be_visible()
    page.get_by_role("button", name="Move Everything else up").click()
    first_policy = page.locator("tbody tr").first
    expect(first_policy).to_contain_text("Everything else")

    # Edit the trigger: running it on updates would loop; refused, then saved differently.
    page.goto("/acme/settings/rules/")
    page.get_by_role("link", name="Edit Refunds to billing").click()
    page.get_by_label("Ticket updated").check()
    page.get_by_role("button", name="Remove condition 1").click()
    htmx_idle(page)
    expect(page.get_by_text("No conditions: every ticket matches.")).to_be_visible()
    page.get_by_role("button", name="Save trigger").click()
    expect(page.locator("#rb-actions-errors")).to_contain_text("endlessly")
    page.get_by_label("Ticket updated").uncheck()
    page.get_by_label("Message added").check()
    page.get_by_role("button", name="+ Add condition").click()
    htmx_idle(page)
    page.get_by_label("Condition 1: field").select_option("text")
    htmx_idle(page)
    expect(page.get_by_label("Condition 1: operator")).to_have_value("contains")
    page.get_by_label("Condition 1: value").fill("refund")
    page.get_by_role("button", name="+ Add action").click()
    htmx_idle(page)
    page.get_by_label("Action 2: what to do").select_option("set:priority")
    htmx_idle(page)
    expect(page.get_by_label("Action 2: value")).to_have_value("low")
    page.get_by_label("Action 2: value").select_option("high")
    page.get_by_role("button", name="Preview matches").click()
    expect(page.locator("#rule-preview")).to_contain_text("Refund for order 1234")
    screenshot(page, "routing-trigger-edit")
    page.get_by_role("button", name="Save trigger").click()
    expect(page.get_by_text("On ticket created or message added")).to_be_visible()

    # The trigger fires on a new ticket; its page shows which rule did what.
    with tenant_context(tenant):
        fired = ticket(tenant, subject="Refund of my second order", body="Please refund")
    dispatch_all(tenant)
    page.goto(f"/acme/agent/tickets/{fired.number}/")
    page.get_by_text("Rules fired").click()
    log = page.locator(".rule-log-body")
    expect(log).to_contain_text("Refunds to billing")
    expect(log).to_contain_text("add_tags billing · set priority high")
