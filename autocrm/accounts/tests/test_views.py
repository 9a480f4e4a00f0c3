"""The start page, tenant access rules (anonymous / non-member / wrong role), dashboard,
portal and error pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts import services
from autocrm.accounts.tests.factories import (
    SYSTEM,
    UserFactory,
    actor_of,
    api_key,
    invitation,
    member,
)
from autocrm.core.models import Tenant

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_home_sends_anonymous_visitors_to_login(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_home_takes_a_staff_member_of_one_tenant_to_its_dashboard(tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent")
    response = signed_in(agent).get("/")
    assert response.status_code == 302 and response["Location"] == "/acme/"


def test_home_takes_a_customer_to_the_portal(tenant_a: Tenant) -> None:
    customer = member(tenant_a, "customer")
    response = signed_in(customer).get("/")
    assert response.status_code == 302 and response["Location"] == "/acme/help/requests/"


def test_home_lets_a_member_of_several_tenants_choose(tenant_a: Tenant, tenant_b: Tenant) -> None:
    user = member(tenant_a, "admin")
    services.membership_create(tenant=tenant_b, actor=SYSTEM, user=user, role="customer")
    response = signed_in(user).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose a workspace" in body
    assert 'href="/acme/"' in body and 'href="/globex/help/requests/"' in body


def test_home_without_memberships_offers_to_create_a_workspace(db: None) -> None:
    response = signed_in(UserFactory()).get("/")
    assert response.status_code == 200
    assert "No workspace yet" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/acme/",
        "/acme/settings/",
        "/acme/settings/members/",
        "/acme/settings/api-keys/",
    ],
)
def test_tenant_pages_send_anonymous_visitors_to_login(
    client: Client, tenant_a: Tenant, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize(
    "path", ["/acme/", "/acme/help/account/", "/acme/settings/", "/acme/settings/invitations/"]
)
def test_tenant_pages_are_404_for_non_members(
    tenant_a: Tenant, tenant_b: Tenant, path: str
) -> None:
    outsider = member(tenant_b, "owner")
    response = signed_in(outsider).get(path)
    assert response.status_code == 404
    assert "Acme" not in response.content.decode()


def test_an_unknown_tenant_is_404_like_a_foreign_one(tenant_a: Tenant) -> None:
    user = member(tenant_a, "owner")
    assert signed_in(user).get("/no-such-tenant/").status_code == 404


@pytest.mark.parametrize("role", ["agent", "light_agent", "customer"])
def test_settings_are_403_below_admin(tenant_a: Tenant, role: str) -> None:
    user = member(tenant_a, role)
    client = signed_in(user)
    for path in [
        "/acme/settings/",
        "/acme/settings/members/",
        "/acme/settings/invitations/",
        "/acme/settings/api-keys/",
    ]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert "You don't have access to this page" in response.content.decode()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_settings_open_for_admins_and_owners(tenant_a: Tenant, role: str) -> None:
    client = signed_in(member(tenant_a, role))
    for path in [
        "/acme/settings/",
        "/acme/settings/members/",
        "/acme/settings/invitations/",
        "/acme/settings/api-keys/",
    ]:
        assert client.get(path).status_code == 200, path


def test_a_customer_is_sent_from_the_dashboard_to_the_portal(tenant_a: Tenant) -> None:
    response = signed_in(member(tenant_a, "customer")).get("/acme/")
    assert response.status_code == 302 and response["Location"] == "/acme/help/requests/"


def test_dashboard_shows_real_counts_and_a_readable_timeline(tenant_a: Tenant) -> None:
    admin = member(tenant_a, "admin", name="Ada Admin")
    member(tenant_a, "agent")
    member(tenant_a, "customer")
    services.invitation_create(
        tenant=tenant_a,
        actor=actor_of(tenant_a, admin),
        email="new@example.test",
        role="agent",
        send=False,
    )
    api_key(tenant_a, scope="read", name="Integration")
    response = signed_in(admin).get("/acme/")
    assert response.status_code == 200
    ctx = response.context
    assert ctx["staff_count"] == 2
    assert ctx["customer_count"] == 1
    assert ctx["pending_invitations"] == 1
    assert ctx["api_key_count"] == 1
    body = response.content.decode()
    assert "Ada Admin</strong> invited new@example.test as agent" in body
    assert "created the API key “Integration” (read)" in body


def test_dashboard_timeline_shows_only_this_tenants_events(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    services.invitation_create(
        tenant=tenant_b, actor=SYSTEM, email="secret@globex.test", role="agent", send=False
    )
    response = signed_in(member(tenant_a, "agent")).get("/acme/")
    assert "secret@globex.test" not in response.content.decode()
    assert response.context["api_key_count"] is None  # agents do not see key counts


def test_agent_shell_links_only_to_pages_the_role_may_open(tenant_a: Tenant) -> None:
    agent_page = signed_in(member(tenant_a, "agent")).get("/acme/").content.decode()
    admin_page = signed_in(member(tenant_a, "admin")).get("/acme/").content.decode()
    assert 'href="/acme/settings/"' not in agent_page
    assert 'href="/acme/settings/"' in admin_page
    assert "Acme" in agent_page  # tenant name in the shell


def test_portal_greets_a_customer(tenant_a: Tenant) -> None:
    customer = member(tenant_a, "customer", name="Cora Customer")
    response = signed_in(customer).get("/acme/help/account/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Hello, Cora Customer" in body
    assert "Agent workspace" not in body
    # Account pages open in the help centre's look (through account/go/).
    assert 'href="/acme/help/account/go/two-factor-setup/"' in body


def test_settings_write_urls_refuse_get(tenant_a: Tenant) -> None:
    admin = member(tenant_a, "admin")
    _, _token = invitation(tenant_a)
    assert signed_in(admin).get("/acme/settings/members/1/remove/").status_code == 405


@pytest.mark.parametrize("role", ["owner", "admin", "agent", "light_agent"])
def test_every_staff_role_opens_the_dashboard(tenant_a: Tenant, role: str) -> None:
    response = signed_in(member(tenant_a, role)).get("/acme/")
    assert response.status_code == 200
    assert response.context["membership"].role == role


def test_staff_can_preview_the_portal_and_go_back(tenant_a: Tenant) -> None:
    body = signed_in(member(tenant_a, "agent")).get("/acme/help/account/").content.decode()
    assert 'href="/acme/">Agent workspace</a>' in body


def test_the_agent_shell_has_a_skip_link_and_labelled_navigation(tenant_a: Tenant) -> None:
    body = signed_in(member(tenant_a, "admin")).get("/acme/").content.decode()
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in body
    assert '<main class="main" id="main"' in body
    assert 'aria-current="page">' in body  # the dashboard link is marked current
    assert 'aria-label="Primary"' in body


def test_dashboard_and_members_page_queries_do_not_grow_with_the_team(
    tenant_a: Tenant, django_assert_max_num_queries: Any
) -> None:
    admin = member(tenant_a, "admin")
    client = signed_in(admin)
    client.get("/acme/")  # warm the session and caches

    def queries(path: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    small = {path: queries(path) for path in ["/acme/", "/acme/settings/members/"]}
    for _ in range(8):
        member(tenant_a, "agent")
    for path, count in small.items():
        with django_assert_max_num_queries(count):
            client.get(path)


def test_dashboard_two_factor_prompt_follows_the_email_state(tenant_a: Tenant) -> None:
    from allauth.account.models import EmailAddress

    admin = member(tenant_a, "admin")
    client = signed_in(admin)
    assert (
        'href="/accounts/2fa/totp/activate/">Turn it on</a>'
        in client.get("/acme/").content.decode()
    )
    address = EmailAddress.objects.create(
        user=admin, email=admin.email, verified=False, primary=True
    )
    body = client.get("/acme/").content.decode()
    assert 'href="/accounts/email/">Verify your email address</a>' in body
    address.verified = True
    address.save()
    assert "Turn it on" in client.get("/acme/").content.decode()
