"""The customer portal home: any member may open it; others may not see it exists."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["owner", "admin", "agent", "light_agent", "customer"])
def test_every_member_opens_the_portal(tenant_a: Tenant, role: str) -> None:
    client = Client()
    client.force_login(member(tenant_a, role))
    response = client.get("/acme/portal/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "the Acme customer portal" in body
    assert ('href="/acme/">Agent workspace</a>' in body) == (role != "customer")


def test_the_portal_reports_two_factor_status(tenant_a: Tenant) -> None:
    from allauth.mfa.models import Authenticator

    user = member(tenant_a, "customer")
    client = Client()
    client.force_login(user)
    assert "Turn on two-factor" in client.get("/acme/portal/").content.decode()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    assert (
        "Two-factor authentication protects your account."
        in client.get("/acme/portal/").content.decode()
    )


def test_the_portal_of_another_tenant_is_404(tenant_a: Tenant, tenant_b: Tenant) -> None:
    client = Client()
    client.force_login(member(tenant_b, "customer"))
    assert client.get("/acme/portal/").status_code == 404


def test_an_unverified_address_is_asked_to_verify_before_two_factor(tenant_a: Tenant) -> None:
    from allauth.account.models import EmailAddress

    user = member(tenant_a, "customer")
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    client = Client()
    client.force_login(user)
    body = client.get("/acme/portal/").content.decode()
    assert "Verify your email address first" in body
    assert 'href="/accounts/2fa/totp/activate/"' not in body
