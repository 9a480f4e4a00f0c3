"""Customer accounts: sign-up under each policy, verification by the e-mailed link, never a
new tenant, the contact linked only after verification, the profile."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail, signing
from django.test import Client

from autocrm.accounts.models import Membership, User
from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, SYSTEM, invitation, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Contact
from autocrm.crm.services import contact_get_or_create
from autocrm.portal import customers

pytestmark = pytest.mark.django_db

SIGNUP = "/acme/help/account/signup/"
PASSWORD = "a-long-and-unusual-password"


def _signup(client: Client, email: str = "cora@customer.test", **extra: str):  # type: ignore[no-untyped-def]
    data = {"name": "Cora Customer", "email": email, "password": PASSWORD, **extra}
    return client.post(SIGNUP, data)


def _link() -> str:
    (message,) = mail.outbox
    match = re.search(r"https?://\S+/acme/help/account/verify/\S+/", str(message.body))
    assert match, message.body
    return match.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def _set(tenant: Tenant, **settings: object) -> None:
    tenant.settings.update(settings)
    tenant.save(update_fields=["settings"])


def test_sign_up_verify_sign_in(client: Client, tenant_a: Tenant) -> None:
    tenants_before = Tenant.objects.count()
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/acme/help/account/signup/sent/"
    assert "cora@customer.test" in client.get(response["Location"]).content.decode()
    user = User.objects.get(email="cora@customer.test")
    with tenant_context(tenant_a):
        assert not Membership.objects.filter(user=user).exists()  # not before verifying
    assert mail.outbox[0].subject == "Confirm your Acme account"

    response = client.get(_link())
    assert response.status_code == 302
    assert response["Location"].startswith("/acme/help/account/login/")
    assert EmailAddress.objects.get(user=user).verified
    with tenant_context(tenant_a):
        membership = Membership.objects.get(user=user)
        contact = Contact.objects.get(tenant=tenant_a, user=user)
        types = set(Event.objects.filter(tenant=tenant_a).values_list("type", flat=True))
    assert membership.role == "customer"
    assert contact.email == "cora@customer.test" and contact.name == "Cora Customer"
    assert {"membership.created", "contact.created", "contact.user_linked"} <= types
    assert Tenant.objects.count() == tenants_before  # a sign-up never creates a company

    page = client.get(response["Location"])
    assert 'value="cora@customer.test"' in page.content.decode()
    response = client.post(
        "/acme/help/account/login/", {"login": "cora@customer.test", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/acme/help/requests/"
    assert "Hello, Cora Customer" in client.get("/acme/help/account/").content.decode()


def test_verifying_links_an_existing_contact_with_its_history(
    client: Client, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        contact, _ = contact_get_or_create(tenant=tenant_a, actor=SYSTEM, email="old@customer.test")
    _signup(client, email="old@customer.test")
    with tenant_context(tenant_a):
        contact.refresh_from_db()
        assert contact.user_id is None  # an unverified sign-up links nothing
    client.get(_link())
    with tenant_context(tenant_a):
        contact.refresh_from_db()
    assert contact.user is not None and contact.user.email == "old@customer.test"


def test_a_reused_link_changes_nothing_and_says_so(client: Client, tenant_a: Tenant) -> None:
    _signup(client)
    link = _link()
    client.get(link)
    response = client.get(link, follow=True)
    assert "confirmed already" in response.content.decode()
    with tenant_context(tenant_a):
        assert Membership.objects.filter(user__email="cora@customer.test").count() == 1


def test_a_forged_or_foreign_link_is_refused(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user = member(tenant_b, "customer")
    for_b = signing.dumps(
        {"u": user.pk, "t": tenant_b.pk, "e": user.email}, salt=customers.VERIFY_SALT
    )
    for token in ["nonsense", for_b]:
        response = client.get(f"/acme/help/account/verify/{token}/")
        assert response.status_code == 400
        assert "This confirmation link is not valid." in response.content.decode()
    with tenant_context(tenant_a):
        assert not Membership.objects.filter(user=user).exists()


def test_an_expired_link_says_so(client: Client, tenant_a: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    _signup(client)
    link = _link()
    customers.VERIFY_MAX_AGE, old = -1, customers.VERIFY_MAX_AGE
    try:
        response = client.get(link)
    finally:
        customers.VERIFY_MAX_AGE = old
    assert response.status_code == 400
    assert "expired" in response.content.decode()


def test_an_existing_user_gets_the_same_answer_and_keeps_their_password(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user = member(tenant_b, "customer", email="known@customer.test")
    response = _signup(client, email="known@customer.test")
    assert response["Location"] == "/acme/help/account/signup/sent/"
    assert "existing account" in mail.outbox[0].body
    client.get(_link())
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    with tenant_context(tenant_a):
        assert Membership.objects.get(tenant=tenant_a, user=user).role == "customer"


def test_invitation_only_refuses_sign_ups(client: Client, tenant_a: Tenant) -> None:
    _set(tenant_a, help_signup_policy="invitation")
    invitation(tenant_a, email="invited@customer.test", role="customer")
    response = _signup(client, email="invited@customer.test")
    assert response.status_code == 400
    assert "by invitation only" in response.content.decode()
    assert "Use the link in the invitation" in response.content.decode()
    assert not User.objects.filter(email="invited@customer.test").exists()
    assert mail.outbox == []


def test_domain_policy(client: Client, tenant_a: Tenant) -> None:
    _set(tenant_a, help_signup_policy="domain", help_signup_domains=["customer.test"])
    refused = _signup(client, email="someone@elsewhere.test")
    assert refused.status_code == 400
    assert "organisation&#x27;s own domains" in refused.content.decode()
    assert _signup(client, email="someone@customer.test").status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"password": "123"}, "This password is too short"),
        ({"email": "not-an-address"}, "Enter a valid email address"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_sign_ups_are_form_errors(
    client: Client, tenant_a: Tenant, data: dict[str, str], message: str
) -> None:
    response = _signup(client, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert mail.outbox == []


def test_script_in_the_name_is_text(client: Client, tenant_a: Tenant) -> None:
    _signup(client, name="<script>alert(1)</script>")
    client.get(_link())
    client.post("/acme/help/account/login/", {"login": "cora@customer.test", "password": PASSWORD})
    body = client.get("/acme/help/account/").content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_profile_changes_the_name_on_the_contact_too(tenant_a: Tenant) -> None:
    user = member(tenant_a, "customer", name="Old Name")
    with tenant_context(tenant_a):
        contact, _ = contact_get_or_create(tenant=tenant_a, actor=SYSTEM, email=user.email)
        Contact.objects.filter(pk=contact.pk).update(user=user)
    client = Client()
    client.force_login(user)
    response = client.post("/acme/help/account/", {"name": "New Name"})
    assert response.status_code == 302
    user.refresh_from_db()
    with tenant_context(tenant_a):
        contact.refresh_from_db()
        event = Event.objects.get(tenant=tenant_a, type="help.customer.profile_updated")
    assert user.name == contact.name == "New Name"
    assert event.payload["changes"]["name"] == {"from": "Old Name", "to": "New Name"}


def test_customer_pages_send_visitors_to_the_help_sign_in(client: Client, tenant_a: Tenant) -> None:
    response = client.get("/acme/help/account/")
    assert response.status_code == 302
    assert response["Location"] == "/acme/help/account/login/?next=/acme/help/account/"
