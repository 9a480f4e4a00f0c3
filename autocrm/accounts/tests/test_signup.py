"""Sign-up creates the user and their tenant in one go, then opens the new workspace."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts import services
from autocrm.accounts.models import Membership, User
from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-secret-phrase"


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Olivia Owner",
        "email": "olivia@initech.test",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "organization": "Initech",
        "workspace_slug": "initech",
    }
    data.update(overrides)
    return data


def test_the_signup_page_asks_for_the_organisation(client: Client) -> None:
    body = client.get("/accounts/signup/").content.decode()
    for label in ["Your name", "Email", "Organization name", "Workspace address"]:
        assert f">{label}</label>" in body
    assert '<link rel="stylesheet" href="/static/css/app.css">' in body


def test_signup_creates_the_tenant_with_the_user_as_owner(client: Client) -> None:
    response = client.post("/accounts/signup/", signup_data())
    assert response.status_code == 302
    assert response["Location"] == "/initech/"
    user = User.objects.get(email="olivia@initech.test")
    assert user.name == "Olivia Owner"
    tenant = Tenant.objects.get(slug="initech")
    assert tenant.name == "Initech"
    with tenant_context(tenant):
        membership = Membership.objects.get()
        assert (membership.user_id, membership.role) == (user.pk, "owner")
        assert set(Event.objects.values_list("type", flat=True)) == {
            "tenant.created",
            "membership.created",
        }
    # Signed in, straight into the new workspace.
    assert client.get("/initech/").status_code == 200


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("api", "&#x27;api&#x27; is reserved."),
        ("Not A Slug", "Use 1-50 lowercase letters, digits and inner hyphens."),
    ],
)
def test_signup_shows_slug_errors_and_creates_nothing(
    client: Client, slug: str, message: str
) -> None:
    response = client.post("/accounts/signup/", signup_data(workspace_slug=slug))
    assert response.status_code in {200, 400}
    assert message in response.content.decode()
    assert not User.objects.filter(email="olivia@initech.test").exists()
    assert not Tenant.objects.exists()


def test_a_taken_slug_is_refused_and_the_user_is_not_created(
    client: Client, tenant_a: Tenant
) -> None:
    response = client.post("/accounts/signup/", signup_data(workspace_slug=tenant_a.slug))
    assert response.status_code == 400
    assert "&#x27;acme&#x27; is taken." in response.content.decode()
    assert not User.objects.filter(email="olivia@initech.test").exists()


def test_signup_from_an_invitation_joins_instead_of_creating_a_tenant(
    client: Client, tenant_a: Tenant
) -> None:
    _, token = services.invitation_create(
        tenant=tenant_a, actor=SYSTEM, role="agent", email="invitee@example.test", send=False
    )
    next_url = f"/invitations/{token}/"
    page = client.get(f"/accounts/signup/?next={next_url}").content.decode()
    assert "You were invited to join <strong>Acme</strong>" in page
    assert "Organization name" not in page
    response = client.post(
        "/accounts/signup/",
        {
            "email": "invitee@example.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "next": next_url,
        },
    )
    assert response.status_code == 302 and response["Location"] == next_url
    assert Tenant.objects.count() == 1
    accepted = client.post(next_url)
    assert accepted.status_code == 302 and accepted["Location"] == "/acme/"


def test_a_signed_in_user_creates_another_workspace(client: Client, tenant_a: Tenant) -> None:
    from autocrm.accounts.tests.factories import member

    client.force_login(member(tenant_a, "agent"))
    bad = client.post("/accounts/workspaces/new/", {"organization": "X", "workspace_slug": "acme"})
    assert bad.status_code == 400 and "&#x27;acme&#x27; is taken." in bad.content.decode()
    response = client.post(
        "/accounts/workspaces/new/", {"organization": "Umbrella", "workspace_slug": "umbrella"}
    )
    assert response.status_code == 302 and response["Location"] == "/umbrella/"
    assert client.get("/umbrella/settings/").status_code == 200  # as its owner


def test_the_workspace_address_is_lowercased(client: Client) -> None:
    response = client.post("/accounts/signup/", signup_data(workspace_slug="InitECH"))
    assert response.status_code == 302 and response["Location"] == "/initech/"
