"""The notification template editor in headless Chromium: preview, save, reset."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.testing.browser import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def test_edit_preview_and_reset_a_template(page: Page, tenant_a: Tenant) -> None:
    admin = member(tenant_a, "admin", email="ada@acme.test", name="Ada Admin")
    sign_in(page, admin.email, DEFAULT_PASSWORD)
    page.goto("/acme/settings/notifications/templates/")
    page.get_by_test_id("kind-ticket_solved").get_by_role("link", name="de Ticket solved").click()
    page.get_by_label("Subject", exact=True).fill("Erledigt: {{ ticket.subject }}")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text(
        "Erledigt: Printer on floor 3 is offline"
    )
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_text("The template was saved.")).to_be_visible()
    shot = screenshot(page, "settings-notification-template")
    page.get_by_role("button", name="Reset to default").click()
    expect(page.get_by_text("The template is back to the default.")).to_be_visible()
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, DOCS / "settings-notification-template.png")
