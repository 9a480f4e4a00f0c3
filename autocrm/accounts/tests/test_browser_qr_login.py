"""QR login in headless Chromium with two browser contexts: a desktop browser shows the code,
a phone (already signed in) decodes the code from a screenshot of it, approves, and the
desktop page signs itself in without a reload (screenshots under var/screenshots/)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core import ratelimit
from autocrm.core.models import Tenant
from autocrm.testing.browser import MOBILE, new_page, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def scan(page: Page) -> str:
    """Read the QR code on ``page`` the way a camera does: from its pixels."""
    image = page.locator("[data-qr-image]")
    expect(image).to_be_visible()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.screenshot())))
    assert len(found) == 1
    return str(found[0].text)


def test_qr_login_with_two_browsers(page: Page, browser: Browser, live_server: Any) -> None:
    ratelimit.rate_limit_reset()
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    phone = new_page(browser, live_server.url, MOBILE)
    try:
        # The live server's first request imports and compiles a lot: slow on a busy machine.
        phone.goto("/accounts/login/", timeout=60_000)
        sign_in(phone, "alex@acme.test", DEFAULT_PASSWORD)
        expect(phone).to_have_url(f"{live_server.url}/acme/")

        page.goto("/accounts/login/")
        expect(page.get_by_role("heading", name="Or sign in with your phone")).to_be_visible()
        expect(page.get_by_role("status").last).to_contain_text("Waiting for your phone")
        screenshot(page, "qr-login-page")
        address = scan(page)
        assert address.startswith(f"{live_server.url}/accounts/qr/approve/")

        phone.goto(address)
        expect(phone.get_by_role("heading", level=1)).to_have_text("Sign in on another browser?")
        expect(phone.locator(".qr-request")).to_contain_text("HeadlessChrome")
        expect(phone.locator(".qr-request")).to_contain_text("UTC")
        screenshot(phone, "qr-login-approve")
        phone.get_by_role("button", name="Approve").click()
        expect(phone.get_by_role("heading", level=1)).to_have_text("Sign-in approved")

        # The desktop page notices by itself (its poll) and lands in the workspace.
        page.wait_for_url(f"{live_server.url}/acme/", timeout=15_000)
        expect(page.get_by_text("Alex Agent").first).to_be_visible()

        # The same code again, e.g. from a photo of the screen: refused.
        phone.goto(address)
        expect(phone.get_by_role("heading", level=1)).to_have_text("This code was already used")
    finally:
        phone.context.close()
