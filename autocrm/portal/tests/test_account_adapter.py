"""allauth's e-mails name the help centre (subject, greeting, sign-off, sender) for visitors
and customers who came from it; the workspace and staff keep allauth's own wording."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.portal.tests.helpers import BRAND, customer, signed_in

pytestmark = pytest.mark.django_db


def test_the_password_reset_mail_names_the_help_centre(branded: Tenant) -> None:
    user = customer(branded)
    browser = Client()
    browser.get(f"/{branded.slug}/help/account/go/password-reset/")
    assert browser.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
    sent = mail.outbox[-1]
    assert sent.to == [user.email]
    assert sent.subject == f"[{BRAND}] Password Reset Email"
    body = str(sent.body)
    assert f"Hello from {BRAND}!" in body and f"Thank you for using {BRAND}!" in body
    assert f"/{branded.slug}/help/" in body.rsplit(BRAND, 1)[-1]  # the help centre's address
    assert "testserver!" not in body
    assert sent.from_email == f"{BRAND} <no-reply@autocrm.local>"


def test_a_customers_address_confirmation_names_the_help_centre(branded: Tenant) -> None:
    client = signed_in(customer(branded))
    client.get(f"/{branded.slug}/help/account/go/email/")
    response = client.post("/accounts/email/", {"action_add": "", "email": "second@example.test"})
    assert response.status_code == 302
    sent = mail.outbox[-1]
    assert sent.to == ["second@example.test"]
    assert sent.subject.startswith(f"[{BRAND}] ") and "Confirm" in sent.subject
    assert f"Hello from {BRAND}!" in str(sent.body)
    assert f"/{branded.slug}/help/account/link/confirm-email/" in str(sent.body)


def test_a_custom_domain_is_the_address_in_the_mail(branded: Tenant) -> None:
    branded.settings["help_custom_domain"] = "help.acme.test"
    branded.save()
    user = customer(branded)
    browser = Client()
    browser.get(f"/{branded.slug}/help/account/go/password-reset/")
    browser.post("/accounts/password/reset/", {"email": user.email})
    assert "://help.acme.test/" in str(mail.outbox[-1].body)


def test_staff_and_the_workspace_keep_allauths_wording(branded: Tenant) -> None:
    agent = member(branded, "agent")
    Client().post("/accounts/password/reset/", {"email": agent.email})
    assert mail.outbox[-1].subject == "[testserver] Password Reset Email"
    assert BRAND not in str(mail.outbox[-1].body)

    staff = signed_in(agent)
    staff.get(f"/{branded.slug}/help/account/go/email/")  # remembered, but staff
    staff.post("/accounts/email/", {"action_add": "", "email": "agent2@example.test"})
    assert mail.outbox[-1].to == ["agent2@example.test"]
    assert BRAND not in mail.outbox[-1].subject
