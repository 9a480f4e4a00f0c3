"""End to end in headless Chromium: sign-up, sign-in, sign-out, and screenshots of the main
pages at desktop and phone widths (saved under var/screenshots/ to be looked at)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Browser, Page, expect

from autocrm.accounts import services
from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, SYSTEM, actor_of, member, totp
from autocrm.core.models import Tenant
from autocrm.testing.browser import MOBILE, new_page, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_creates_a_workspace_and_lands_on_its_dashboard(page: Page) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Your name").fill("Olivia Owner")
    page.get_by_label("Email").fill("olivia@initech.test")
    page.get_by_label("Password", exact=True).fill("a-long-secret-phrase")
    page.get_by_label("Password (again)").fill("a-long-secret-phrase")
    page.get_by_label("Organization name").fill("Initech Support")
    # The workspace address is suggested from the organisation's name.
    expect(page.get_by_label("Workspace address")).to_have_value("initech-support")
    page.get_by_role("button", name="Create workspace").click()

    expect(page).to_have_url(re.compile(r"/initech-support/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Initech Support")
    expect(page.get_by_text("Olivia Owner created the workspace Initech Support")).to_be_visible()
    assert Tenant.objects.filter(slug="initech-support").exists()

    # The verification email confirms the address in the same layout.
    from django.core import mail

    [message] = [m for m in mail.outbox if "olivia@initech.test" in m.to]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", str(message.body))
    assert link is not None
    page.goto(link.group(1))
    expect(page.locator("h1")).to_have_text("Confirm Email Address")
    screenshot(page, "email-confirm-desktop")
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("You have confirmed olivia@initech.test.")).to_be_visible()


def test_sign_up_shows_the_services_error_for_a_reserved_address(page: Page) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("someone@example.test")
    page.get_by_label("Password", exact=True).fill("a-long-secret-phrase")
    page.get_by_label("Password (again)").fill("a-long-secret-phrase")
    page.get_by_label("Organization name").fill("API")
    page.get_by_label("Workspace address").fill("api")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_text("'api' is reserved.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))


def test_sign_in_and_sign_out(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    user = member(tenant, "agent", email="agent@acme.test", name="Alex Agent")
    page.goto("/acme/")  # a tenant page sends an anonymous visitor to sign in first
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/acme/$"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/acme/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")

    page.locator("summary", has_text="Alex Agent").click()  # the user menu
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/acme/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/acme/$"))


def _seed(live_server: Any) -> tuple[Tenant, Any, Any]:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    owner = member(tenant, "owner", email="olivia@acme.test", name="Olivia Owner")
    # allauth lets only verified addresses turn on two-factor authentication.
    EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    member(tenant, "light_agent", email="lee@acme.test", name="Lee Light")
    customer = member(tenant, "customer", email="cora@client.test", name="Cora Customer")
    services.invitation_create(
        tenant=tenant,
        actor=actor_of(tenant, owner),
        email="new.agent@acme.test",
        role="agent",
        send=False,
    )
    services.api_key_create(
        tenant=tenant, actor=actor_of(tenant, owner), name="Billing sync", scope="write"
    )
    services.tenant_settings_update(
        tenant=tenant,
        actor=actor_of(tenant, owner),
        name="Acme Support",
        settings={"restrict_agents_to_own_teams": True},
    )
    return tenant, owner, customer


PAGES = [
    ("dashboard", "/acme/", "Acme Support"),
    ("settings", "/acme/settings/", "Settings"),
    ("settings-members", "/acme/settings/members/", "Settings"),
    ("settings-invitations", "/acme/settings/invitations/", "Settings"),
    ("settings-api-keys", "/acme/settings/api-keys/", "Settings"),
    ("account-email", "/accounts/email/", "Email Addresses"),
    ("account-password", "/accounts/password/change/", "Change Password"),
    ("account-mfa", "/accounts/2fa/", "Two-Factor Authentication"),
    ("account-sessions", "/accounts/sessions/", "Sessions"),
    ("account-workspace-create", "/accounts/workspaces/new/", "Create a workspace"),
]


@pytest.mark.parametrize("width", ["desktop", "mobile"])
def test_screenshots_of_the_main_pages(browser: Browser, live_server: Any, width: str) -> None:
    _tenant, owner, customer = _seed(live_server)
    viewport = MOBILE if width == "mobile" else {"width": 1280, "height": 800}

    _invitation, token = services.invitation_create(
        tenant=_tenant,
        actor=actor_of(_tenant, owner),
        email="sam@acme.test",
        role="agent",
        send=False,
    )
    anonymous = new_page(browser, live_server.url, viewport)
    for name, path in [
        ("login", "/accounts/login/"),
        ("signup", "/accounts/signup/"),
        ("password-reset", "/accounts/password/reset/"),
        ("invitation", f"/invitations/{token}/"),
    ]:
        anonymous.goto(path)
        expect(anonymous.locator("h1")).to_be_visible()
        screenshot(anonymous, f"{name}-{width}")
    anonymous.context.close()

    # The owner is also a customer of another organisation: "/" offers a choice.
    other = Tenant.objects.create(slug="globex", name="Globex Corporation")
    services.membership_create(tenant=other, actor=SYSTEM, user=owner, role="customer")
    page = new_page(browser, live_server.url, viewport)
    sign_in(page, owner.email, DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a workspace")
    screenshot(page, f"tenant-picker-{width}")
    for name, path, heading in PAGES:
        page.goto(path)
        expect(page.locator("h1").first).to_have_text(heading)
        screenshot(page, f"{name}-{width}")
    page.goto("/accounts/2fa/totp/activate/")
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("h1")).to_have_text("Activate Authenticator App")
    screenshot(page, f"account-mfa-activate-{width}")
    if width == "mobile":  # the top bar keeps its height on short pages too
        page.goto("/accounts/sessions/")
        bar = page.locator(".mobile-bar").bounding_box()
        assert bar is not None and bar["height"] < 80
    # Nothing on any page may be wider than the window.
    for path in ["/acme/", "/acme/settings/members/", "/acme/settings/api-keys/"]:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"], path
    if width == "mobile":
        page.goto("/acme/")
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("link", name="Settings")).to_be_visible()
        screenshot(page, "dashboard-menu-open-mobile")
    page.context.close()

    portal = new_page(browser, live_server.url, viewport)
    sign_in(portal, customer.email, DEFAULT_PASSWORD)
    expect(portal).to_have_url(re.compile(r"/acme/help/requests/$"))
    expect(portal.get_by_role("heading", level=1)).to_have_text("My requests")
    screenshot(portal, f"portal-{width}")
    portal.goto("/acme/settings/")
    expect(portal.get_by_role("heading", level=1)).to_have_text(
        "You don't have access to this page"
    )
    screenshot(portal, f"forbidden-{width}")
    portal.context.close()


def test_two_factor_sign_in_in_the_browser(page: Page, settings: Any) -> None:
    settings.MFA_TOTP_TOLERANCE = 1  # sign-in uses the next period's code (codes are one-use)
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    user = member(tenant, "admin", email="ada@acme.test", name="Ada Admin")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    sign_in(page, user.email, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Turn it on").click()
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)  # confirm access first
    page.get_by_role("button", name="Confirm").click()
    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp(secret))
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("h1")).to_have_text("Recovery Codes")
    screenshot(page, "account-mfa-recovery-codes-desktop")

    page.locator("summary", has_text="Ada Admin").click()
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, user.email, DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    screenshot(page, "account-mfa-authenticate-desktop")
    page.get_by_label("Code").fill(totp(secret, offset=1))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/acme/$"))
    expect(page.get_by_text("Two-factor authentication is off")).to_have_count(0)


def test_settings_through_the_ui(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme")
    owner = member(tenant, "owner", email="olivia@acme.test", name="Olivia Owner")
    sign_in(page, owner.email, DEFAULT_PASSWORD)
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Workspace name").fill("Acme Support")
    page.get_by_label("Agents see only their own teams' tickets").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.locator("#sidebar .sidebar-brand strong")).to_have_text("Acme Support")

    page.get_by_role("link", name="Invitations").click()
    page.get_by_label("Email address").fill("sam@acme.test")
    page.get_by_label("Role").select_option("light_agent")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to sam@acme.test.")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke invitation for sam@acme.test").click()
    expect(page.get_by_text("No pending invitations.")).to_be_visible()

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Key name").fill("Billing sync")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("new-api-key").inner_text()
    assert key.startswith("acrm_")
    screenshot(page, "settings-api-key-created-desktop")
    page.reload()
    expect(page.get_by_test_id("new-api-key")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.dismiss())  # "Cancel" keeps the key
    page.get_by_role("button", name="Revoke Billing sync").click()
    expect(page.get_by_role("button", name="Revoke Billing sync")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke Billing sync").click()
    expect(page.get_by_text("No active API keys.")).to_be_visible()


def test_keyboard_users_reach_a_visible_skip_link_and_focus_ring(page: Page) -> None:
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0  # moved into view when focused
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    email = page.get_by_label("Email")
    expect(email).to_be_focused()
    outline = email.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    screenshot(page, "login-keyboard-focus-desktop")


def test_password_reset_in_the_browser(page: Page) -> None:
    from django.core import mail

    tenant = Tenant.objects.create(slug="acme", name="Acme")
    user = member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    page.goto("/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_role("button", name="Send reset link").click()
    expect(page.locator("h1")).to_have_text("Password Reset")
    screenshot(page, "password-reset-done-desktop")
    [message] = mail.outbox
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", str(message.body))
    assert link is not None
    page.goto(link.group(1))
    expect(page.locator("h1")).to_have_text("Change Password")
    screenshot(page, "password-reset-from-key-desktop")
    page.get_by_label("New Password", exact=True).fill("a-brand-new-phrase-42")
    page.get_by_label("New Password (again)").fill("a-brand-new-phrase-42")
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_text("Your password is now changed.")).to_be_visible()
    sign_in(page, user.email, "a-brand-new-phrase-42")
    expect(page).to_have_url(re.compile(r"/acme/$"))
