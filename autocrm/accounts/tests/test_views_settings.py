"""Settings pages: general settings, members, invitations and API keys, through the UI."""

from __future__ import annotations

import re
from typing import Any, cast

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from autocrm.accounts import selectors
from autocrm.accounts.models import ApiKey, Invitation, Membership, User
from autocrm.accounts.tests.factories import SYSTEM, actor_of, invitation, member, membership_of
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(tenant_a: Tenant) -> Client:
    client = Client()
    client.force_login(member(tenant_a, "admin", email="ada@acme.test", name="Ada Admin"))
    return client


def test_general_settings_rename_and_toggle_with_an_audit_event(
    admin_client: Client, tenant_a: Tenant
) -> None:
    page = admin_client.get("/acme/settings/").content.decode()
    assert 'value="Acme"' in page and 'name="restrict_agents_to_own_teams"' in page
    response = admin_client.post(
        "/acme/settings/",
        {"name": "Acme Support", "restrict_agents_to_own_teams": "on", "default_locale": "en"},
    )
    assert response.status_code == 302 and response["Location"] == "/acme/settings/"
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Acme Support"
    assert tenant_a.setting("restrict_agents_to_own_teams") is True
    with tenant_context(tenant_a):
        event = Event.objects.get(type="tenant.settings_updated")
    assert event.payload["changes"] == {
        "name": {"from": "Acme", "to": "Acme Support"},
        "settings.restrict_agents_to_own_teams": {"from": False, "to": True},
    }
    page = admin_client.get("/acme/settings/").content.decode()
    assert "Settings saved." in page and "checked" in page
    dashboard = admin_client.get("/acme/").content.decode()
    assert "Ada Admin</strong> changed name from “Acme” to “Acme Support”" in dashboard


def test_general_settings_show_field_errors(admin_client: Client, tenant_a: Tenant) -> None:
    response = admin_client.post("/acme/settings/", {"name": "   "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Acme"


def test_saving_unchanged_settings_records_no_event(admin_client: Client, tenant_a: Tenant) -> None:
    admin_client.post("/acme/settings/", {"name": "Acme", "default_locale": "en"})
    with tenant_context(tenant_a):
        assert not Event.objects.filter(type="tenant.settings_updated").exists()


def test_members_change_role_and_remove(admin_client: Client, tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent", email="alex@acme.test")
    m = membership_of(tenant_a, agent)
    page = admin_client.get("/acme/settings/members/").content.decode()
    assert "alex@acme.test" in page and "ada@acme.test" in page
    response = admin_client.post(f"/acme/settings/members/{m.pk}/role/", {"role": "admin"})
    assert response.status_code == 302
    assert membership_of(tenant_a, agent).role == "admin"
    response = admin_client.post(f"/acme/settings/members/{m.pk}/remove/")
    assert response.status_code == 302
    assert membership_of(tenant_a, agent) is None


def test_the_last_owner_cannot_be_demoted_from_the_page(tenant_a: Tenant) -> None:
    owner = member(tenant_a, "owner")
    owner_client = Client()
    owner_client.force_login(owner)
    m = membership_of(tenant_a, owner)
    response = owner_client.post(f"/acme/settings/members/{m.pk}/role/", {"role": "agent"})
    assert response.status_code == 400
    assert "A tenant must keep at least one owner." in response.content.decode()
    assert membership_of(tenant_a, owner).role == "owner"


def test_members_of_another_tenant_cannot_be_touched(
    admin_client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    foreign = member(tenant_b, "agent")
    m = membership_of(tenant_b, foreign)
    assert admin_client.post(f"/acme/settings/members/{m.pk}/remove/").status_code == 404
    assert (
        admin_client.post(f"/acme/settings/members/{m.pk}/role/", {"role": "admin"}).status_code
        == 404
    )
    assert membership_of(tenant_b, foreign).role == "agent"


def test_an_agent_cannot_post_to_settings(tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent")
    client = Client()
    client.force_login(agent)
    m = membership_of(tenant_a, agent)
    assert client.post(f"/acme/settings/members/{m.pk}/role/", {"role": "owner"}).status_code == 403
    assert (
        client.post("/acme/settings/api-keys/", {"name": "x", "scope": "admin"}).status_code == 403
    )
    assert membership_of(tenant_a, agent).role == "agent"


def test_invite_list_and_revoke(
    admin_client: Client, tenant_a: Tenant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/acme/settings/invitations/", {"email": "New@Example.test", "role": "light_agent"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.test"]
    assert re.search(r"/invitations/[\w-]+/", str(mail.outbox[0].body))
    page = admin_client.get("/acme/settings/invitations/").content.decode()
    assert "Invitation sent to new@example.test." in page
    assert "new@example.test" in page and "Light agent" in page
    with tenant_context(tenant_a):
        pending = selectors.invitation_list_pending(tenant=tenant_a, actor=SYSTEM).get()
    response = admin_client.post(f"/acme/settings/invitations/{pending.pk}/revoke/")
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert Invitation.objects.get(pk=pending.pk).revoked_at is not None
    assert (
        "No pending invitations."
        in admin_client.get("/acme/settings/invitations/").content.decode()
    )


def test_inviting_a_member_or_a_bad_role_shows_errors(admin_client: Client) -> None:
    taken = admin_client.post(
        "/acme/settings/invitations/", {"email": "ada@acme.test", "role": "agent"}
    )
    assert taken.status_code == 400
    assert "ada@acme.test is already a member." in taken.content.decode()
    owner = admin_client.post(
        "/acme/settings/invitations/", {"email": "x@example.test", "role": "owner"}
    )
    assert owner.status_code == 400
    assert "Select a valid choice." in owner.content.decode()


def test_api_key_is_shown_once_then_listed_by_prefix(
    admin_client: Client, tenant_a: Tenant
) -> None:
    response = admin_client.post(
        "/acme/settings/api-keys/", {"name": "Billing sync", "scope": "write"}
    )
    assert response.status_code == 302
    first = admin_client.get("/acme/settings/api-keys/").content.decode()
    raw = re.search(r'data-testid="new-api-key">(acrm_[\w-]+)<', first)
    assert raw is not None
    found = selectors.api_key_authenticate(raw_key=raw.group(1))
    assert found is not None and found[0] == tenant_a and found[1].name == "Billing sync"
    with tenant_context(tenant_a):
        key = ApiKey.objects.get()
    assert raw.group(1) not in key.key_hash
    second = admin_client.get("/acme/settings/api-keys/").content.decode()
    assert raw.group(1) not in second
    assert f"acrm_{key.prefix}_" in second and "Read and write" in second


def test_api_key_revoke(admin_client: Client, tenant_a: Tenant) -> None:
    admin_client.post("/acme/settings/api-keys/", {"name": "Old", "scope": "read"})
    with tenant_context(tenant_a):
        key = ApiKey.objects.get()
    assert admin_client.post(f"/acme/settings/api-keys/{key.pk}/revoke/").status_code == 302
    with tenant_context(tenant_a):
        assert ApiKey.objects.get().revoked_at is not None
    assert "No active API keys." in admin_client.get("/acme/settings/api-keys/").content.decode()


def test_api_key_needs_a_name(admin_client: Client) -> None:
    response = admin_client.post("/acme/settings/api-keys/", {"name": "", "scope": "read"})
    assert response.status_code == 400 and "This field is required." in (response.content.decode())


def test_a_key_shown_in_one_tenant_is_not_shown_in_another(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user = member(tenant_a, "owner")
    from autocrm.accounts import services

    services.membership_create(tenant=tenant_b, actor=SYSTEM, user=user, role="owner")
    client = Client()
    client.force_login(user)
    client.post("/acme/settings/api-keys/", {"name": "A key", "scope": "read"})
    other = client.get("/globex/settings/api-keys/").content.decode()
    assert 'data-testid="new-api-key"' not in other
    assert 'data-testid="new-api-key"' in client.get("/acme/settings/api-keys/").content.decode()


def test_invitation_page_flow(client: Client, tenant_a: Tenant) -> None:
    _, token = invitation(tenant_a, email="invitee@example.test", role="agent")
    url = f"/invitations/{token}/"
    anonymous = client.get(url).content.decode()
    assert "Join Acme" in anonymous and "agent" in anonymous
    assert f'href="/accounts/signup/?next=/invitations/{token}/"' in anonymous
    assert f'href="/accounts/login/?next=/invitations/{token}/"' in anonymous

    someone_else = member(tenant_a, "customer", email="other@example.test")
    client.force_login(someone_else)
    wrong = client.get(url).content.decode()
    assert "this invitation was sent to" in wrong and "invitee@example.test" in wrong
    refused = client.post(url)
    assert refused.status_code == 403

    from autocrm.accounts.tests.factories import UserFactory

    invitee = cast(User, UserFactory(email="invitee@example.test"))
    client.force_login(invitee)
    assert "Accept invitation" in client.get(url).content.decode()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/acme/"
    assert membership_of(tenant_a, invitee).role == "agent"
    # Used: the link is no longer valid.
    assert client.get(url).status_code == 404


def test_unknown_invitation_token_is_404(client: Client) -> None:
    response = client.get("/invitations/this-token-does-not-exist-at-all/")
    assert response.status_code == 404
    assert "This invitation is not valid" in response.content.decode()


def test_membership_counts_are_per_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    member(tenant_a, "agent")
    member(tenant_b, "agent")
    member(tenant_b, "agent")
    with tenant_context(tenant_a):
        assert selectors.membership_role_counts(tenant=tenant_a, actor=SYSTEM) == {"agent": 1}
        assert Membership.objects.count() == 1


def test_the_lists_refuse_whoever_may_not_read_them(tenant_a: Tenant, tenant_b: Tenant) -> None:
    customer = actor_of(tenant_a, member(tenant_a, "customer"))
    agent = actor_of(tenant_a, member(tenant_a, "agent"))
    admin_elsewhere = actor_of(tenant_b, member(tenant_b, "admin"))
    with tenant_context(tenant_a):
        for actor in (customer, admin_elsewhere):
            for read in (
                selectors.membership_list,
                selectors.invitation_list_pending,
                selectors.membership_role_counts,
            ):
                with pytest.raises(PermissionDenied):
                    read(tenant=tenant_a, actor=actor)
        assert selectors.membership_list(tenant=tenant_a, actor=agent).count() == 2
        with pytest.raises(PermissionDenied, match="API keys"):
            selectors.api_key_list(tenant=tenant_a, actor=agent)
        with pytest.raises(PermissionDenied, match="API keys"):
            selectors.api_key_get(tenant=tenant_a, actor=agent, api_key_id=1)


def test_tenant_settings_update_validates_and_checks_the_role(tenant_a: Tenant) -> None:
    from django.core.exceptions import PermissionDenied, ValidationError

    from autocrm.accounts import services

    agent = member(tenant_a, "agent")
    with pytest.raises(PermissionDenied):
        services.tenant_settings_update(
            tenant=tenant_a, actor=actor_of(tenant_a, agent), name="X", settings={}
        )
    with pytest.raises(ValidationError, match="Unknown setting"):
        services.tenant_settings_update(
            tenant=tenant_a, actor=SYSTEM, name="Acme", settings={"nonsense": True}
        )
    with pytest.raises(ValidationError, match="must be a bool"):
        services.tenant_settings_update(
            tenant=tenant_a,
            actor=SYSTEM,
            name="Acme",
            settings={"restrict_agents_to_own_teams": "yes"},
        )
    tenant_a.refresh_from_db()
    assert tenant_a.settings == {} and tenant_a.name == "Acme"


def test_an_admin_who_steps_down_leaves_the_settings(tenant_a: Tenant) -> None:
    member(tenant_a, "owner")
    admin = member(tenant_a, "admin")
    client = Client()
    client.force_login(admin)
    m = membership_of(tenant_a, admin)
    response = client.post(f"/acme/settings/members/{m.pk}/role/", {"role": "agent"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/acme/settings/").status_code == 403
    assert client.get("/acme/").status_code == 200


def test_an_admin_who_removes_themselves_loses_access(tenant_a: Tenant) -> None:
    member(tenant_a, "owner")
    admin = member(tenant_a, "admin")
    client = Client()
    client.force_login(admin)
    m = membership_of(tenant_a, admin)
    response = client.post(f"/acme/settings/members/{m.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/acme/").status_code == 404
