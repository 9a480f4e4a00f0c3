"""The deal board in headless Chromium: drag a card to another stage with the mouse, then
move one with the keyboard alone; the moves are saved (a reload shows them). Also the
calendar and the forecast (screenshots under var/screenshots/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Deal
from autocrm.crm.tests.factories import activity, company, contact, deal, pipeline
from autocrm.testing.browser import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _stage_of(tenant: Tenant, deal_id: int) -> str:
    with tenant_context(tenant):
        return Deal.objects.select_related("stage").get(pk=deal_id).stage.name


def test_move_deals_on_the_board_by_mouse_and_by_keyboard(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Sales")
    kim = member(tenant, "agent", email="kim@acme.test", name="Kim Seller")
    pipeline(tenant, name="Sales")
    initech = company(tenant, name="Initech", domains=["initech.test"])
    bill = contact(tenant, name="Bill Lumbergh", email="bill@initech.test")
    close = timezone.localdate() + dt.timedelta(days=20)
    renewal = deal(
        tenant,
        title="Initech renewal",
        amount="24000",
        currency="EUR",
        contact_id=bill.pk,
        owner_id=kim.pk,
        expected_close_date=close,
    )
    upsell = deal(
        tenant, title="Printer upsell", amount="3500", currency="EUR", company_id=initech.pk
    )
    deal(tenant, title="Chotchkie's pilot", amount="900", currency="USD", kind="lead")
    activity(
        tenant,
        kind="meeting",
        subject="Renewal review",
        owner_id=kim.pk,
        deal_id=renewal.pk,
        due_at=timezone.now() + dt.timedelta(days=1),
    )
    sign_in(page, "kim@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/agent/deals/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Deals")
    columns = page.locator(".deal-column")
    expect(columns).to_have_count(5)
    expect(columns.nth(0).locator(".deal-card")).to_have_count(3)

    # Mouse: drag the renewal onto "Proposal sent".
    card = page.locator(f'.deal-card[data-deal-id="{renewal.pk}"]')
    card.drag_to(columns.nth(2).locator(".deal-cards"))
    expect(card).to_have_attribute("data-moved", "true")
    expect(columns.nth(2).locator(".deal-card")).to_have_count(1)
    assert _stage_of(tenant, renewal.pk) == "Proposal sent"

    # Keyboard: focus the upsell, pick it up, two stages right, drop.
    upsell_card = page.locator(f'.deal-card[data-deal-id="{upsell.pk}"]')
    upsell_card.focus()
    page.keyboard.press("Space")
    expect(upsell_card).to_have_class("deal-card is-grabbed")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    expect(upsell_card).to_have_attribute("data-moved", "true")
    expect(page.locator("#board-status")).to_have_text("Printer upsell moved to Proposal sent.")
    expect(upsell_card).to_be_focused()
    assert _stage_of(tenant, upsell.pk) == "Proposal sent"
    # Escape puts a picked-up card back without saving.
    page.keyboard.press("Space")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Escape")
    expect(columns.nth(2).locator(".deal-card")).to_have_count(2)
    assert _stage_of(tenant, upsell.pk) == "Proposal sent"
    with tenant_context(tenant):
        assert Event.objects.filter(type="deal.stage_changed").count() == 2

    page.reload()
    expect(columns.nth(2).locator(".deal-card")).to_have_count(2)
    expect(columns.nth(2)).to_contain_text("EUR 27,500")
    screenshot(page, "crm-deal-board")

    page.get_by_role("link", name="Table").click()
    expect(page.locator(".crm-table tbody tr")).to_have_count(3)

    page.goto(f"/acme/agent/deals/{renewal.pk}/")
    expect(page.locator(".crm-main")).to_contain_text("Renewal review")
    expect(page.locator(".crm-main")).to_contain_text("Moved: Qualified → Proposal sent")
    screenshot(page, "crm-deal")

    page.goto("/acme/agent/deals/forecast/")
    expect(page.locator(".forecast-table")).to_contain_text("Kim Seller")
    expect(page.locator(".forecast-table")).to_contain_text("12,000")  # 24,000 x 50 %
    screenshot(page, "crm-forecast")

    page.goto("/acme/agent/calendar/")
    expect(page.locator(".calendar")).to_contain_text("Renewal review")
    # "Add an activity" is a side card of its own: no divider line across its top, and its
    # title lines up with the card's other content (one inset, the card's).
    card = page.locator(".side-card:has(.activity-new)")
    form = card.locator(".activity-new")
    assert form.evaluate("e => getComputedStyle(e).borderTopWidth") == "0px"
    card_box, title_box = card.bounding_box(), form.locator("summary").bounding_box()
    assert card_box is not None and title_box is not None
    card_padding = card.evaluate("e => parseFloat(getComputedStyle(e).paddingLeft)")
    assert abs(title_box["x"] - card_box["x"] - 1 - card_padding) < 1  # 1: the card's border
    screenshot(page, "crm-calendar")


def test_sales_settings_page(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Sales")
    member(tenant, "admin", email="boss@acme.test", name="Bo Boss")
    pipeline(tenant, name="Sales")
    sign_in(page, "boss@acme.test", DEFAULT_PASSWORD)
    page.goto("/acme/settings/sales/")
    page.get_by_label("Rules").fill("amount_at_least, 10000, +20\nhas_company, +10")
    page.get_by_role("button", name="Save rules").click()
    expect(page.get_by_label("Rules")).to_have_value(
        "amount_at_least, 10000, +20\nhas_company, +10"
    )
    expect(page.get_by_label("Stages").first).to_contain_text("Qualified, 10")
    screenshot(page, "crm-sales-settings")
