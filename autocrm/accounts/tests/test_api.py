"""Accounts API: /me, members, invitations, API keys — through HTTP, against PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from autocrm.accounts.models import ApiKey, Invitation, User
from autocrm.accounts.services import invitation_create
from autocrm.accounts.tests.factories import SYSTEM, api_key, bearer, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def admin_headers(tenant_a: Tenant) -> dict[str, str]:
    return bearer(api_key(tenant_a, "admin"))


def get(client: Client, url: str, headers: dict[str, str]) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def post(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


# --- /me ---------------------------------------------------------------------------------------


def test_me_with_an_api_key(client: Client, tenant_a: Tenant) -> None:
    body = get(client, "/api/v1/me", bearer(api_key(tenant_a, "write", name="Zapier")))
    assert body["tenant"] == {"slug": "acme", "name": "Acme"}
    assert body["user"] is None and body["role"] is None
    assert body["api_key"]["name"] == "Zapier" and body["api_key"]["scope"] == "write"
    assert body["access"] == "write"


def test_me_with_a_session(client: Client, tenant_a: Tenant) -> None:
    user = member(tenant_a, "light_agent", email="lee@example.test")
    client.force_login(user)
    body = get(client, "/api/v1/me", {})
    assert body["user"] == {"id": user.pk, "email": "lee@example.test", "name": user.name}
    assert body["role"] == "light_agent" and body["access"] == "write"
    assert body["api_key"] is None


# --- /users ------------------------------------------------------------------------------------


def test_users_lists_the_tenants_members_by_email_with_a_cursor(
    client: Client, tenant_a: Tenant, tenant_b: Tenant, admin_headers: dict[str, str]
) -> None:
    emails = [f"m{i:02d}@example.test" for i in range(7)]
    for i, email in enumerate(reversed(emails)):
        member(tenant_a, "agent" if i % 2 else "customer", email=email)
    member(tenant_b, "agent", email="m00-other@example.test")
    seen: list[str] = []
    url = "/api/v1/users?limit=3"
    while True:
        page = get(client, url, admin_headers)
        assert len(page["items"]) <= 3
        seen.extend(item["email"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        url = f"/api/v1/users?limit=3&cursor={page['next_cursor']}"
    assert seen == emails
    item = get(client, "/api/v1/users?limit=1", admin_headers)["items"][0]
    assert set(item) == {"id", "email", "name", "role", "joined_at"}
    assert item["id"] == User.objects.get(email="m00@example.test").pk


def test_users_with_a_bad_cursor_is_422_naming_cursor(
    client: Client, admin_headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/users?cursor=garbage", headers=admin_headers)
    assert response.status_code == 422
    assert json.loads(response.content)["errors"][0]["field"] == "query.cursor"


def test_users_limit_is_bounded(client: Client, admin_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/users?limit=0", headers=admin_headers).status_code == 422
    assert client.get("/api/v1/users?limit=201", headers=admin_headers).status_code == 422


def test_a_read_key_may_list_users(client: Client, tenant_a: Tenant) -> None:
    get(client, "/api/v1/users", bearer(api_key(tenant_a, "read")))


# --- invitations -------------------------------------------------------------------------------


def test_admin_invites_by_email(client: Client, tenant_a: Tenant) -> None:
    admin = member(tenant_a, "admin", email="boss@example.test")
    client.force_login(admin)
    response = client.post(
        "/api/v1/users/invitations",
        json.dumps({"email": " Grace@Example.test ", "role": "agent"}),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = json.loads(response.content)
    assert body["email"] == "grace@example.test" and body["role"] == "agent"
    assert body["invited_by"] == "boss@example.test"
    assert "token" not in body
    with tenant_context(tenant_a):
        invitation = Invitation.objects.get(pk=body["id"])
        assert invitation.invited_by == admin
        assert Event.objects.filter(type="invitation.created").count() == 1


def test_invitation_email_is_sent_after_commit(
    client: Client,
    tenant_a: Tenant,
    admin_headers: dict[str, str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client,
            "/api/v1/users/invitations",
            {"email": "new@example.test", "role": "admin"},
            admin_headers,
        )
    assert response.status_code == 201
    assert [m.to for m in mail.outbox] == [["new@example.test"]]


@pytest.mark.parametrize("role", ["agent", "light_agent", "admin"])
def test_only_admins_invite(client: Client, tenant_a: Tenant, role: str) -> None:
    if role == "admin":
        headers = bearer(api_key(tenant_a, "write"))  # a write key is not an admin key
    else:
        client.force_login(member(tenant_a, role))
        headers = {}
    response = post(
        client, "/api/v1/users/invitations", {"email": "new@example.test", "role": "agent"}, headers
    )
    assert response.status_code == 403
    with tenant_context(tenant_a):
        assert not Invitation.objects.exists()


def test_cannot_invite_as_owner(client: Client, admin_headers: dict[str, str]) -> None:
    response = post(
        client,
        "/api/v1/users/invitations",
        {"email": "x@example.test", "role": "owner"},
        admin_headers,
    )
    assert response.status_code == 422
    assert json.loads(response.content)["errors"][0]["field"] == "body.role"


def test_list_and_revoke_invitations(
    client: Client, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    for email in ("a@example.test", "b@example.test"):
        invitation_create(tenant=tenant_a, actor=SYSTEM, email=email, role="agent", send=False)
    listed = get(client, "/api/v1/users/invitations", admin_headers)
    assert [i["email"] for i in listed["items"]] == ["b@example.test", "a@example.test"]
    target = listed["items"][0]["id"]
    response = client.delete(f"/api/v1/users/invitations/{target}", headers=admin_headers)
    assert response.status_code == 204 and response.content == b""
    listed = get(client, "/api/v1/users/invitations", admin_headers)
    assert [i["email"] for i in listed["items"]] == ["a@example.test"]
    # Revoking again: it is no longer open.
    again = client.delete(f"/api/v1/users/invitations/{target}", headers=admin_headers)
    assert again.status_code == 404
    with tenant_context(tenant_a):
        assert Event.objects.filter(type="invitation.revoked").count() == 1


def test_invitations_list_is_admin_only(client: Client, tenant_a: Tenant) -> None:
    response = client.get("/api/v1/users/invitations", headers=bearer(api_key(tenant_a, "read")))
    assert response.status_code == 403


# --- API keys ----------------------------------------------------------------------------------


def test_create_an_api_key_shows_it_once_and_it_works(
    client: Client, tenant_a: Tenant, admin_headers: dict[str, str]
) -> None:
    response = post(
        client, "/api/v1/api-keys", {"name": "Reporting", "scope": "read"}, admin_headers
    )
    assert response.status_code == 201, response.content
    created = json.loads(response.content)
    raw = created["key"]
    assert raw.startswith("acrm_") and created["prefix"] in raw
    assert created["scope"] == "read" and created["revoked_at"] is None
    with tenant_context(tenant_a):
        stored = ApiKey.objects.get(pk=created["id"])
        assert raw not in stored.key_hash
    me = get(client, "/api/v1/me", bearer(raw))
    assert me["api_key"]["id"] == created["id"]
    listed = get(client, "/api/v1/api-keys", admin_headers)
    assert created["id"] in [k["id"] for k in listed["items"]]
    assert "key" not in listed["items"][0]
    assert raw not in json.dumps(listed)


def test_revoke_an_api_key(client: Client, tenant_a: Tenant, admin_headers: dict[str, str]) -> None:
    raw = api_key(tenant_a, "read", name="old")
    with tenant_context(tenant_a):
        key_id = ApiKey.objects.get(name="old").pk
    response = client.delete(f"/api/v1/api-keys/{key_id}", headers=admin_headers)
    assert response.status_code == 204
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401
    listed = get(client, "/api/v1/api-keys", admin_headers)
    revoked = next(k for k in listed["items"] if k["id"] == key_id)
    assert revoked["revoked_at"] is not None
    assert client.delete("/api/v1/api-keys/999999999", headers=admin_headers).status_code == 404


@pytest.mark.parametrize("scope", ["read", "write"])
def test_api_keys_are_admin_only(client: Client, tenant_a: Tenant, scope: str) -> None:
    headers = bearer(api_key(tenant_a, scope))
    assert client.get("/api/v1/api-keys", headers=headers).status_code == 403
    response = post(client, "/api/v1/api-keys", {"name": "x"}, headers)
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": ""}, "body.name"),
        ({"name": "x", "scope": "root"}, "body.scope"),
        ({"name": "x", "owner": 1}, "body.owner"),
    ],
)
def test_api_key_input_is_validated(
    client: Client, admin_headers: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = post(client, "/api/v1/api-keys", body, admin_headers)
    assert response.status_code == 422
    assert [e["field"] for e in json.loads(response.content)["errors"]] == [field]


def test_audit_log_names_the_api_key_that_acted(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a, scope="admin")
    response = client.post(
        "/api/v1/users/invitations",
        json.dumps({"email": "keyed@example.test", "role": "agent"}),
        content_type="application/json",
        headers=bearer(raw),
    )
    assert response.status_code == 201
    prefix = raw.split("_")[1]
    with tenant_context(tenant_a):
        event = Event.objects.get(type="invitation.created")
    assert event.actor_id is None and event.actor_label == f"api-key:{prefix}"


def test_a_request_records_when_its_key_was_last_used(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a, scope="read")
    prefix = raw.split("_")[1]
    with tenant_context(tenant_a):
        assert ApiKey.objects.get(prefix=prefix).last_used_at is None
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    with tenant_context(tenant_a):
        assert ApiKey.objects.get(prefix=prefix).last_used_at is not None
