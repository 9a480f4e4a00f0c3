"""allauth pages in AutoCRM's layouts; password reset by email; signing out other sessions;
sign-in and sign-out."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db

OUR_CSS = '<link rel="stylesheet" href="/static/css/app.css">'


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/accounts/login/", "Sign in"),
        ("/accounts/signup/", "Create your workspace"),
        ("/accounts/password/reset/", "Password Reset"),
        ("/accounts/password/reset/done/", "Password Reset"),
        ("/accounts/confirm-email/not-a-key/", "Confirm Email Address"),
    ],
)
def test_entrance_pages_use_the_auth_layout(client: Client, path: str, text: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert OUR_CSS in body and 'class="auth-card' in body
    assert 'href="#main">Skip to main content' in body
    assert text in body


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/accounts/email/", "Email Addresses"),
        ("/accounts/password/change/", "Change Password"),
        ("/accounts/2fa/", "Two-Factor Authentication"),
        ("/accounts/sessions/", "Sign out"),
        ("/accounts/logout/", "Are you sure you want to sign out?"),
    ],
)
def test_account_pages_use_the_agent_shell(tenant_a: Tenant, path: str, text: str) -> None:
    client = Client()
    client.force_login(member(tenant_a, "agent"))
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert OUR_CSS in body and 'class="sidebar"' in body
    assert text in body
    assert 'href="/acme/"' in body  # the workspace switcher leads back to the tenant


def test_reauthentication_is_a_centered_card(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(member(tenant_a, "agent"))
    body = client.get("/accounts/reauthenticate/").content.decode()
    assert 'class="auth-card' in body and "Confirm Access" in body


def test_every_input_on_the_auth_pages_has_a_label(client: Client) -> None:
    for path in ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
        body = client.get(path).content.decode()
        ids = re.findall(r'<input[^>]*type="(?:text|email|password)"[^>]*id="([^"]+)"', body)
        assert ids, path
        for input_id in ids:
            assert f'<label for="{input_id}">' in body, (path, input_id)


def test_sign_in_then_sign_out(client: Client, tenant_a: Tenant) -> None:
    user = member(tenant_a, "admin")
    bad = client.post("/accounts/login/", {"login": user.email, "password": "wrong-password"})
    assert bad.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        bad.content.decode()
    )
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/")["Location"] == "/acme/"
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/acme/")["Location"] == "/accounts/login/?next=/acme/"


def test_password_reset_by_email(client: Client, tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", str(message.body))
    assert link is not None, message.body

    stage = client.get(link.group(1))  # allauth moves the key into the session
    assert stage.status_code == 302
    form = client.get(stage["Location"])
    assert form.status_code == 200 and "Change Password" in form.content.decode()
    new_password = "a-brand-new-phrase-42"
    done = client.post(stage["Location"], {"password1": new_password, "password2": new_password})
    assert done.status_code == 302
    assert done["Location"] == "/accounts/password/reset/key/done/"
    assert "Your password is now changed." in client.get(done["Location"]).content.decode()
    user.refresh_from_db()
    assert user.check_password(new_password)
    # The link works once.
    assert "Bad Token" in client.get(link.group(1), follow=True).content.decode()


def test_password_reset_for_an_unknown_address_sends_no_reset_link(client: Client) -> None:
    client.post("/accounts/password/reset/", {"email": "nobody@example.test"})
    assert all("/accounts/password/reset/key/" not in m.body for m in mail.outbox)


def test_sign_out_other_sessions(tenant_a: Tenant) -> None:
    user: User = member(tenant_a, "agent")
    laptop, phone = Client(), Client(HTTP_USER_AGENT="Phone browser")
    for browser in (laptop, phone):
        assert (
            browser.post(
                "/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD}
            ).status_code
            == 302
        )
    page = laptop.get("/accounts/sessions/").content.decode()
    assert "Phone browser" in page and "Sign out other sessions" in page
    assert laptop.post("/accounts/sessions/").status_code == 302
    assert phone.get("/acme/")["Location"] == "/accounts/login/?next=/acme/"
    assert laptop.get("/acme/").status_code == 200
    assert "Sign out other sessions" not in laptop.get("/accounts/sessions/").content.decode()


def test_password_change(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    client = Client()
    client.force_login(user)
    mismatch = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "another-long-phrase",
            "password2": "different-long-phrase",
        },
    )
    assert mismatch.status_code == 200
    assert "You must type the same password each time." in mismatch.content.decode()
    ok = client.post(
        "/accounts/password/change/",
        {
            "oldpassword": DEFAULT_PASSWORD,
            "password1": "another-long-phrase",
            "password2": "another-long-phrase",
        },
    )
    assert ok.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-phrase")


def test_signup_sends_a_verification_email_that_confirms_the_address(client: Client) -> None:
    password = "a-long-secret-phrase"
    client.post(
        "/accounts/signup/",
        {
            "email": "vera@example.test",
            "password1": password,
            "password2": password,
            "organization": "Vera Co",
            "workspace_slug": "vera",
        },
    )
    [message] = [m for m in mail.outbox if "vera@example.test" in m.to]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", str(message.body))
    assert link is not None, message.body
    page = client.get(link.group(1))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Confirm Email Address" in body and "vera@example.test" in body
    assert client.post(link.group(1)).status_code == 302
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email="vera@example.test").verified


def test_pages_link_static_files_that_exist(client: Client) -> None:
    from django.contrib.staticfiles import finders

    body = client.get("/accounts/login/").content.decode()
    paths = re.findall(r'(?:href|src)="/static/([^"]+)"', body)
    assert {
        "css/app.css",
        "vendor/inter/index.css",
        "vendor/htmx/htmx.min.js",
        "img/favicon.svg",
    } <= set(paths)
    for path in paths:
        assert finders.find(path), path
