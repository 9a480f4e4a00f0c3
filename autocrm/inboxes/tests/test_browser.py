"""The inbox settings in headless Chromium against a real Dovecot: create an inbox, test
its IMAP connection (htmx, nothing saved), save, and see the fetch status."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes import imap
from autocrm.inboxes.models import Inbox
from autocrm.inboxes.tests.conftest import PASSWORD, USER
from autocrm.inboxes.tests.factories import mail
from autocrm.testing.browser import screenshot, sign_in
from autocrm.testing.imap import Dovecot, dovecot_available

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not dovecot_available(), reason="Dovecot is not installed"),
]
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def test_set_up_an_imap_inbox_in_the_settings(
    page: Page, dovecot: Dovecot, tenant_a: Tenant
) -> None:
    tenant = tenant_a
    admin = member(tenant, "admin", email="ada@acme.test", name="Ada Admin")
    dovecot.deliver(USER, mail(subject="Where is my order?", message_id="<o1@customer.test>"))
    sign_in(page, admin.email, DEFAULT_PASSWORD)
    page.goto("/acme/settings/inboxes/")
    page.get_by_role("link", name="New inbox").click()
    page.get_by_label("Name", exact=True).fill("Support")
    page.get_by_label("Address", exact=True).fill(USER)
    page.get_by_label("Signature", exact=True).fill("The Acme support team")
    page.get_by_role("button", name="Create inbox").click()
    expect(page.get_by_text(f"The inbox {USER} was created.")).to_be_visible()

    page.get_by_label("IMAP server", exact=True).fill("127.0.0.1")
    page.get_by_label("Port", exact=True).fill(str(dovecot.port))
    page.get_by_label("Security", exact=True).select_option("none")
    page.get_by_label("User name", exact=True).fill(USER)
    page.get_by_label("Password", exact=True).fill("wrong")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#imap-test-result")).to_contain_text("The server refused the login")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#imap-test-result")).to_contain_text("holds 1 message")
    with tenant_context(tenant):
        assert Inbox.objects.get(address=USER).imap_host == ""  # a test saves nothing

    page.get_by_label("Fetch mail by IMAP", exact=True).check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("The inbox was saved.")).to_be_visible()
    with tenant_context(tenant):
        box = Inbox.objects.get(address=USER)
    assert imap.imap_fetch(tenant=tenant, actor=imap.FETCH, inbox_id=box.pk).imported == 1
    page.reload()
    expect(page.get_by_test_id("fetch-health")).to_contain_text("Last fetched")
    shot = screenshot(page, "settings-inbox")
    page.goto("/acme/settings/inboxes/")
    expect(page.get_by_test_id("fetch-status")).to_contain_text("OK")
    screenshot(page, "settings-inboxes")
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, DOCS / "settings-inbox.png")


def test_settings_inbox_page_fits_a_phone(mobile_page: Page, tenant_a: Tenant) -> None:
    admin = member(tenant_a, "admin", email="ada@acme.test")
    sign_in(mobile_page, admin.email, DEFAULT_PASSWORD)
    mobile_page.goto("/acme/settings/inboxes/new/")
    expect(mobile_page.get_by_role("button", name="Create inbox")).to_be_visible()
    assert mobile_page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(mobile_page, "settings-inbox-new-mobile")
