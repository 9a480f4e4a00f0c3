"""allauth's account pages wear the help centre's look for people who came from it: the
password reset (through the e-mailed link, in a fresh browser too), the e-mail, password,
two-factor and session pages of a signed-in customer. Staff and the workspace's own
sign-in keep the workspace's look."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.portal.tests.helpers import BRAND, customer, signed_in

pytestmark = pytest.mark.django_db


def is_help_look(html: str) -> bool:
    return 'class="help-root"' in html and BRAND in html and 'class="auth-brand"' not in html


def test_password_reset_from_the_help_centre_keeps_its_look_to_the_end(branded: Tenant) -> None:
    user = customer(branded)
    browser = Client()
    start = browser.get(f"/{branded.slug}/help/account/go/password-reset/")
    assert start.status_code == 302 and start["Location"] == "/accounts/password/reset/"
    page = browser.get(start["Location"]).content.decode()
    assert is_help_look(page)
    assert f'href="/{branded.slug}/help/account/login/"' in page  # "Remembered it? Sign in"
    sent = browser.post("/accounts/password/reset/", {"email": user.email})
    assert sent.status_code == 302
    assert is_help_look(browser.get(sent["Location"]).content.decode())
    link = re.search(r"https?://[^/\s]+(/\S+)", str(mail.outbox[-1].body))
    assert link is not None and link.group(1).startswith(
        f"/{branded.slug}/help/account/link/password-reset/"
    )
    # The link opened in another browser: the help centre comes with it.
    other = Client()
    response = other.get(link.group(1), follow=True)
    assert response.status_code == 200 and is_help_look(response.content.decode())
    form = response.content.decode()
    assert 'name="password1"' in form
    done = other.post(
        response.redirect_chain[-1][0],
        {"password1": "a-New-passw0rd-42", "password2": "a-New-passw0rd-42"},
        follow=True,
    )
    assert is_help_look(done.content.decode()) and "Password changed" in done.content.decode()


def test_a_signed_in_customers_account_pages_wear_the_help_look(branded: Tenant) -> None:
    client = signed_in(customer(branded))
    account = client.get(f"/{branded.slug}/help/account/").content.decode()
    assert f"/{branded.slug}/help/account/go/email/" in account
    for page in ("email", "password", "sessions", "two-factor"):
        response = client.get(f"/{branded.slug}/help/account/go/{page}/", follow=True)
        assert response.status_code == 200, page
        assert is_help_look(response.content.decode()), page


def test_staff_and_the_workspace_sign_in_keep_the_workspace_look(branded: Tenant) -> None:
    agent = signed_in(member(branded, "agent"))
    agent.get(f"/{branded.slug}/help/account/go/email/")  # remembered, but staff
    assert not is_help_look(agent.get("/accounts/email/").content.decode())
    visitor = Client()
    visitor.get(f"/{branded.slug}/help/account/login/")
    assert not is_help_look(visitor.get("/accounts/login/").content.decode())
    assert is_help_look(visitor.get("/accounts/password/reset/").content.decode())
    # Without a help centre, allauth's pages look as they always did.
    assert not is_help_look(Client().get("/accounts/password/reset/").content.decode())


def test_unknown_pages_and_links_are_404(branded: Tenant) -> None:
    client = Client()
    assert client.get(f"/{branded.slug}/help/account/go/admin/").status_code == 404
    assert client.get(f"/{branded.slug}/help/account/link/other/abc/").status_code == 404
    assert client.get("/nope-tenant/help/account/go/email/").status_code == 404
