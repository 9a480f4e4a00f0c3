"""The help-centre shell: public home, branding, the account page, the old /portal/ paths."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_help_centre_is_public(client: Client, tenant_a: Tenant) -> None:
    response = client.get("/acme/help/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Acme" in body
    assert 'href="/acme/help/account/login/"' in body
    assert 'href="/acme/help/account/signup/"' in body


def test_an_unknown_tenant_has_no_help_centre(client: Client, tenant_a: Tenant) -> None:
    assert client.get("/nobody/help/").status_code == 404


@pytest.mark.parametrize("role", ["owner", "admin", "agent", "light_agent", "customer"])
def test_every_member_opens_their_account_page(tenant_a: Tenant, role: str) -> None:
    response = signed_in(member(tenant_a, role, name="Pat Person")).get("/acme/help/account/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, Pat Person" in body
    assert ('href="/acme/">Agent workspace</a>' in body) == (role != "customer")


def test_the_account_page_reports_two_factor_status(tenant_a: Tenant) -> None:
    from allauth.mfa.models import Authenticator

    user = member(tenant_a, "customer")
    client = signed_in(user)
    assert "Turn on two-factor" in client.get("/acme/help/account/").content.decode()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    body = client.get("/acme/help/account/").content.decode()
    assert "Two-factor authentication protects your account." in body


def test_the_account_page_of_another_tenant_is_404(tenant_a: Tenant, tenant_b: Tenant) -> None:
    client = signed_in(member(tenant_b, "customer"))
    assert client.get("/acme/help/account/").status_code == 404


def test_an_unverified_address_is_asked_to_verify_before_two_factor(tenant_a: Tenant) -> None:
    from allauth.account.models import EmailAddress

    user = member(tenant_a, "customer")
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    body = signed_in(user).get("/acme/help/account/").content.decode()
    assert "Verify your email address first" in body
    assert 'href="/accounts/2fa/totp/activate/"' not in body


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/acme/portal/", "/acme/help/"),
        ("/acme/portal/account/", "/acme/help/account/"),
        ("/acme/portal/search?q=reset+password", "/acme/help/search?q=reset+password"),
    ],
)
def test_portal_addresses_redirect_to_the_help_centre(
    client: Client, tenant_a: Tenant, old: str, new: str
) -> None:
    response = client.get(old)
    assert response.status_code == 301
    assert response["Location"] == new


def test_the_portal_redirect_never_leaves_the_site(client: Client, tenant_a: Tenant) -> None:
    response = client.get("/acme/portal//evil.example/")
    assert response["Location"].startswith("/acme/help/")
