"""Only owners grant or remove ownership (issue 9): in the services, so the API and the
members page refuse alike. Admins still manage everyone else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from autocrm.accounts import services
from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import (
    actor_of,
    api_key,
    bearer,
    make_user,
    member,
    membership_of,
)
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _patch_role(client: Client, user: User, role: str, **headers: str) -> Any:
    return client.patch(
        f"/api/v1/users/{user.pk}",
        json.dumps({"role": role}),
        content_type="application/json",
        headers=headers,
    )


def _role(tenant: Tenant, user: User) -> str | None:
    membership = membership_of(tenant, user)
    return None if membership is None else membership.role


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.content)
    return body


# --- services -----------------------------------------------------------------------------------


def test_an_admin_can_neither_grant_nor_take_ownership_in_the_services(tenant_a: Tenant) -> None:
    owner = member(tenant_a, "owner")
    admin = member(tenant_a, "admin")
    agent = member(tenant_a, "agent")
    as_admin = actor_of(tenant_a, admin)
    for target, role in ((admin, "owner"), (agent, "owner"), (owner, "admin")):
        with pytest.raises(PermissionDenied, match="Only owners"):
            services.membership_change_role(
                tenant=tenant_a,
                actor=as_admin,
                membership=membership_of(tenant_a, target),
                role=role,
            )
    with pytest.raises(PermissionDenied, match="Only owners"):
        services.membership_remove(
            tenant=tenant_a, actor=as_admin, membership=membership_of(tenant_a, owner)
        )
    with pytest.raises(PermissionDenied, match="Only owners"):
        services.membership_create(tenant=tenant_a, actor=as_admin, user=make_user(), role="owner")
    assert (_role(tenant_a, owner), _role(tenant_a, admin), _role(tenant_a, agent)) == (
        "owner",
        "admin",
        "agent",
    )


def test_an_owner_grants_and_removes_ownership_and_the_event_names_them(tenant_a: Tenant) -> None:
    owner = member(tenant_a, "owner", email="olga@acme.test")
    agent = member(tenant_a, "agent")
    as_owner = actor_of(tenant_a, owner)
    services.membership_change_role(
        tenant=tenant_a, actor=as_owner, membership=membership_of(tenant_a, agent), role="owner"
    )
    assert _role(tenant_a, agent) == "owner"
    services.membership_remove(
        tenant=tenant_a, actor=as_owner, membership=membership_of(tenant_a, agent)
    )
    assert _role(tenant_a, agent) is None
    with tenant_context(tenant_a):
        labels = set(
            Event.objects.filter(
                type__in=["membership.role_changed", "membership.removed"]
            ).values_list("actor_label", flat=True)
        )
    assert labels == {"olga@acme.test"}


# --- API --------------------------------------------------------------------------------------


def test_through_the_api_an_admin_cannot_promote_to_owner_or_touch_an_owner(
    tenant_a: Tenant,
) -> None:
    owner = member(tenant_a, "owner")
    admin = member(tenant_a, "admin")
    agent = member(tenant_a, "agent")
    client = _client(admin)
    for target, role in ((admin, "owner"), (agent, "owner"), (owner, "agent")):
        body = _problem(_patch_role(client, target, role), 403)
        assert "Only owners" in body["detail"]
    _problem(client.delete(f"/api/v1/users/{owner.pk}"), 403)
    assert (_role(tenant_a, owner), _role(tenant_a, admin), _role(tenant_a, agent)) == (
        "owner",
        "admin",
        "agent",
    )
    # Everyone else stays an admin's to manage.
    response = _patch_role(client, agent, "light_agent")
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["role"] == "light_agent"
    assert client.delete(f"/api/v1/users/{agent.pk}").status_code == 204
    assert _role(tenant_a, agent) is None


def test_through_the_api_an_admin_key_cannot_touch_ownership_either(tenant_a: Tenant) -> None:
    owner = member(tenant_a, "owner")
    agent = member(tenant_a, "agent")
    headers = bearer(api_key(tenant_a, "admin"))
    _problem(_patch_role(Client(), agent, "owner", **headers), 403)
    _problem(Client().delete(f"/api/v1/users/{owner.pk}", headers=headers), 403)
    assert (_role(tenant_a, owner), _role(tenant_a, agent)) == ("owner", "agent")


def test_through_the_api_an_owner_grants_and_removes_ownership(tenant_a: Tenant) -> None:
    owner = member(tenant_a, "owner")
    agent = member(tenant_a, "agent")
    client = _client(owner)
    response = _patch_role(client, agent, "owner")
    assert response.status_code == 200, response.content
    assert json.loads(response.content) | {"joined_at": None} == {
        "id": agent.pk,
        "email": agent.email,
        "name": agent.name,
        "role": "owner",
        "joined_at": None,
    }
    assert client.delete(f"/api/v1/users/{agent.pk}").status_code == 204
    # The last owner cannot step down: 422, not a workspace without an owner.
    body = _problem(_patch_role(client, owner, "admin"), 422)
    assert "at least one owner" in body["detail"]
    assert _role(tenant_a, owner) == "owner"


def test_member_endpoints_need_admin_and_a_member_of_this_tenant(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    agent = member(tenant_a, "agent")
    colleague = member(tenant_a, "light_agent")
    _problem(_patch_role(_client(agent), colleague, "agent"), 403)
    foreign = member(tenant_b, "agent")
    admin_client = _client(member(tenant_a, "admin"))
    _problem(_patch_role(admin_client, foreign, "admin"), 404)
    _problem(admin_client.delete(f"/api/v1/users/{foreign.pk}"), 404)
    assert _role(tenant_b, foreign) == "agent"
    _problem(_patch_role(admin_client, colleague, "superuser"), 422)


# --- the members page ----------------------------------------------------------------------------


def test_on_the_members_page_an_admin_cannot_promote_to_owner_or_touch_an_owner(
    tenant_a: Tenant,
) -> None:
    owner = member(tenant_a, "owner")
    admin = member(tenant_a, "admin")
    agent = member(tenant_a, "agent")
    client = _client(admin)
    page = client.get("/acme/settings/members/").content.decode()
    assert '<option value="owner"' not in page  # not offered to an admin
    for target, role in ((admin, "owner"), (agent, "owner"), (owner, "agent")):
        m = membership_of(tenant_a, target)
        response = client.post(f"/acme/settings/members/{m.pk}/role/", {"role": role})
        assert response.status_code == 403
        assert "Only owners can grant or remove ownership." in response.content.decode()
    m = membership_of(tenant_a, owner)
    response = client.post(f"/acme/settings/members/{m.pk}/remove/")
    assert response.status_code == 403
    assert (_role(tenant_a, owner), _role(tenant_a, admin), _role(tenant_a, agent)) == (
        "owner",
        "admin",
        "agent",
    )


def test_on_the_members_page_an_owner_grants_and_removes_ownership(tenant_a: Tenant) -> None:
    owner = member(tenant_a, "owner")
    agent = member(tenant_a, "agent")
    client = _client(owner)
    assert '<option value="owner"' in client.get("/acme/settings/members/").content.decode()
    m = membership_of(tenant_a, agent)
    response = client.post(f"/acme/settings/members/{m.pk}/role/", {"role": "owner"})
    assert response.status_code == 302 and _role(tenant_a, agent) == "owner"
    response = client.post(f"/acme/settings/members/{m.pk}/remove/")
    assert response.status_code == 302 and _role(tenant_a, agent) is None
