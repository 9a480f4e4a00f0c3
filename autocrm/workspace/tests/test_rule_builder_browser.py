"""The guided rule builder in headless Chromium: an admin builds a trigger with two conditions
and two actions row by row (fields change their operators and value inputs, rows are added
and removed, focus follows), the list summarises it in a sentence, the stored JSON is what
the API would take, and the trigger fires on a new ticket. Screenshots at desktop and tablet
width, to be looked at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import Trigger
from autocrm.routing.tests.factories import dispatch_all, team
from autocrm.testing.browser import htmx_idle, screenshot, sign_in
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUMMARY = (
    "When subject or new message contains “refund” and priority is urgent "
    "→ assign to team Billing, add tag vip"
)


def test_a_trigger_built_row_by_row_is_summarised_and_fires(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "admin", email="ana@acme.test", name="Ana Admin")
    billing = team(tenant, "Billing")
    page.set_default_timeout(60_000)  # the first pages of a live server on a loaded host
    sign_in(page, "ana@acme.test", DEFAULT_PASSWORD)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # signed in before moving on

    page.goto("/acme/settings/rules/")
    page.get_by_label("Name", exact=True).fill("Urgent refunds")
    page.get_by_label("Ticket created").check()

    # Condition 1 starts as "status is new"; another field brings its own operators.
    page.get_by_label("Condition 1: field").select_option("text")
    htmx_idle(page)
    expect(page.get_by_label("Condition 1: operator")).to_have_value("contains")
    page.get_by_label("Condition 1: value").fill("refund")
    page.get_by_role("button", name="+ Add condition").click()
    htmx_idle(page)
    expect(page.get_by_label("Condition 2: field")).to_be_focused()
    page.get_by_label("Condition 2: field").select_option("priority")
    htmx_idle(page)
    expect(page.get_by_label("Condition 2: operator")).to_contain_text("is at least")
    page.get_by_label("Condition 2: value").select_option("urgent")
    expect(page.get_by_label("Condition 1: value")).to_have_value("refund")  # kept

    # A third row added by mistake is removed again; focus stays in the list.
    page.get_by_role("button", name="+ Add condition").click()
    htmx_idle(page)
    page.get_by_role("button", name="Remove condition 3").click()
    htmx_idle(page)
    expect(page.get_by_label("Condition 3: field")).to_have_count(0)
    expect(page.locator("#rb-status")).to_have_text("Condition 3 removed.")

    # Action 1 starts as "set priority high": make it a team, and add a tag action.
    page.get_by_label("Action 1: what to do").select_option("set:team_id")
    htmx_idle(page)
    page.get_by_label("Action 1: value").select_option(label="Billing")
    page.get_by_role("button", name="+ Add action").click()
    htmx_idle(page)
    expect(page.get_by_label("Action 2: what to do")).to_have_value("add_tags")  # the default
    page.get_by_label("Action 2: tags, comma-separated").fill("VIP")
    screenshot(page, "rule-builder")
    page.set_viewport_size({"width": 820, "height": 1180})
    page.locator("#rule-form").scroll_into_view_if_needed()
    screenshot(page, "rule-builder-tablet")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("cell", name=SUMMARY)).to_be_visible()
    with tenant_context(tenant):
        trigger = Trigger.objects.get(name="Urgent refunds")
    assert trigger.on == ["ticket.created"]
    assert trigger.conditions == [
        {"field": "text", "op": "contains", "value": "refund"},
        {"field": "priority", "op": "is", "value": "urgent"},
    ]
    assert trigger.actions == [
        {"type": "set", "field": "team_id", "value": billing.pk},
        {"type": "add_tags", "value": ["vip"]},
    ]

    # Editing shows the same rows again.
    page.get_by_role("link", name="Edit Urgent refunds").click()
    expect(page.get_by_label("Condition 2: value")).to_have_value("urgent")
    expect(page.get_by_label("Action 1: value")).to_have_value(str(billing.pk))
    screenshot(page, "rule-builder-edit")

    # It fires on a new ticket that matches, and not on one that does not.
    with tenant_context(tenant):
        fired = ticket(tenant, subject="Refund for order 1234", priority="urgent")
        quiet = ticket(tenant, subject="Refund for order 99", priority="low")
    dispatch_all(tenant)
    with tenant_context(tenant):
        fired.refresh_from_db()
        quiet.refresh_from_db()
    assert (fired.team_id, fired.tags) == (billing.pk, ["vip"])
    assert (quiet.team_id, quiet.tags) == (None, [])


def test_a_refused_row_says_why_beside_it_and_keyboard_adds_rows(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "admin", email="ana@acme.test", name="Ana Admin")
    page.set_default_timeout(60_000)
    sign_in(page, "ana@acme.test", DEFAULT_PASSWORD)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # signed in before moving on

    page.goto("/acme/settings/rules/")
    # "Runs on" (ticket events) is a trigger's alone: hidden while "Automation" is chosen.
    runs_on = page.get_by_text("Runs on", exact=True)
    expect(runs_on).to_be_visible()
    page.get_by_label("Kind").select_option("automation")
    expect(runs_on).to_be_hidden()
    expect(page.get_by_label("Ticket created")).to_be_hidden()
    page.get_by_label("Kind").select_option("trigger")
    expect(runs_on).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Out of hours")
    page.get_by_label("Ticket created").check()
    page.get_by_label("Condition 1: field").select_option("time_of_day")
    htmx_idle(page)
    expect(page.get_by_label("Condition 1: operator")).to_have_value("between")
    page.get_by_label("Condition 1: operator").select_option("not_between")
    htmx_idle(page)
    expect(page.get_by_label("Condition 1: operator")).to_have_value("not_between")
    page.get_by_label("Condition 1: time zone").fill("Mars/Olympus")
    # Keyboard only: Enter on "+ Add condition" adds a row and puts focus in it.
    page.get_by_role("button", name="+ Add condition").focus()
    page.keyboard.press("Enter")
    htmx_idle(page)
    expect(page.get_by_label("Condition 2: field")).to_be_focused()
    page.get_by_label("Condition 2: value").select_option("open")
    page.get_by_label("Action 1: what to do").select_option("add_tags")
    htmx_idle(page)
    page.get_by_label("Action 1: tags, comma-separated").fill("after-hours")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("#rb-conditions-0")).to_contain_text("Mars/Olympus")
    expect(page.get_by_label("Condition 1: from")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "rule-builder-error")
    page.get_by_label("Condition 1: time zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Save rule").click()
    summary = (
        "When time of day is not between 09:00 and 17:00 (Europe/Berlin) and status is open "
        "→ add tag after-hours"
    )
    expect(page.get_by_role("cell", name=summary)).to_be_visible()
