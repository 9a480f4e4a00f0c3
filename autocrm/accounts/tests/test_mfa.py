"""TOTP two-factor: activate with a code from the secret, then sign-in asks for a code."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client, override_settings

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member, totp
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db


def log_in(client: Client, email: str) -> str:
    response = client.post("/accounts/login/", {"login": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return str(response["Location"])


def activate_totp(client: Client) -> str:
    # Changing security settings asks for the password again (allauth reauthentication).
    gate = client.get("/accounts/2fa/totp/activate/")
    assert gate["Location"].startswith("/accounts/reauthenticate/")
    assert "Confirm Access" in client.get(gate["Location"]).content.decode()
    client.post(gate["Location"], {"password": DEFAULT_PASSWORD})
    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200
    assert "Activate Authenticator App" in page.content.decode()
    secret = client.session[SECRET_SESSION_KEY]
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200 and "Incorrect code" in wrong.content.decode()
    done = client.post("/accounts/2fa/totp/activate/", {"code": totp(secret)})
    assert done.status_code == 302
    return str(secret)


@override_settings(MFA_TOTP_TOLERANCE=1)  # the sign-in uses the next period's code:
def test_after_activation_sign_in_requires_the_code(tenant_a: Tenant) -> None:  # codes are one-use
    user = member(tenant_a, "agent")
    client = Client()
    log_in(client, user.email)
    secret = activate_totp(client)
    assert Authenticator.objects.filter(user=user, type="totp").exists()
    index = client.get("/accounts/2fa/").content.decode()
    assert "Authentication using an authenticator app is active." in index

    client.post("/accounts/logout/")
    assert log_in(client, user.email) == "/accounts/2fa/authenticate/"
    # The password alone did not sign in.
    assert client.get("/acme/")["Location"].startswith("/accounts/login/")
    form = client.get("/accounts/2fa/authenticate/")
    assert "Two-Factor Authentication" in form.content.decode()
    refused = client.post("/accounts/2fa/authenticate/", {"code": "123456"})
    assert refused.status_code == 200 and "Incorrect code" in refused.content.decode()
    accepted = client.post("/accounts/2fa/authenticate/", {"code": totp(secret, offset=1)})
    assert accepted.status_code == 302
    assert client.get("/acme/").status_code == 200


def test_a_recovery_code_signs_in_once(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    client = Client()
    log_in(client, user.email)
    activate_totp(client)
    codes_page = client.get("/accounts/2fa/recovery-codes/")
    assert codes_page.status_code == 200
    code = RecoveryCodes(
        Authenticator.objects.get(user=user, type="recovery_codes")
    ).get_unused_codes()[0]
    assert code in codes_page.content.decode()

    for attempt in ("first", "second"):
        other = Client()
        assert log_in(other, user.email) == "/accounts/2fa/authenticate/"
        response = other.post("/accounts/2fa/authenticate/", {"code": code})
        if attempt == "first":
            assert response.status_code == 302
            assert other.get("/acme/").status_code == 200
        else:
            assert response.status_code == 200  # a used recovery code is refused


def test_deactivating_totp_turns_the_second_step_off(tenant_a: Tenant) -> None:
    user = member(tenant_a, "agent")
    client = Client()
    log_in(client, user.email)
    activate_totp(client)
    page = client.get("/accounts/2fa/totp/deactivate/")
    assert page.status_code == 200 and "Deactivate Authenticator App" in page.content.decode()
    assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=user, type="totp").exists()
    client.post("/accounts/logout/")
    assert log_in(client, user.email) == "/"
