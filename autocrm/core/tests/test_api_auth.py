"""Who may call what: API-key scopes, staff sessions with CSRF, ``require`` levels."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.http import HttpRequest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import path
from ninja import Router

from autocrm.accounts.models import ApiKey
from autocrm.accounts.services import api_key_revoke
from autocrm.accounts.tests.factories import SYSTEM, api_key, bearer, member
from autocrm.core.api import AutoCrmApi, caller, require
from autocrm.core.api.errors import handler404, handler500  # noqa: F401 - URL conf handlers
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db

levels_router = Router()


@levels_router.get("/read-thing", summary="Read", tags=["test"])
def read_thing(request: HttpRequest) -> dict[str, Any]:
    who = require(request, "read")
    return {"tenant": who.tenant.slug, "level": who.level}


@levels_router.post("/write-thing", summary="Write", tags=["test"])
def write_thing(request: HttpRequest) -> dict[str, Any]:
    who = require(request, "write")
    return {"level": who.level, "actor": who.actor.label}


@levels_router.post("/admin-thing", summary="Admin", tags=["test"])
def admin_thing(request: HttpRequest) -> dict[str, Any]:
    return {"level": require(request, "admin").level}


test_api = AutoCrmApi(title="test", urls_namespace="api", docs_url=None, openapi_url=None)
test_api.add_router("", levels_router)
urlpatterns = [path("api/v1/", test_api.urls)]


def problem_type(response: Any) -> str:
    assert response["Content-Type"] == "application/problem+json", response.content
    return str(json.loads(response.content)["type"]).rsplit("/", 1)[-1]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "scope, read, write, admin",
    [("read", 200, 403, 403), ("write", 200, 200, 403), ("admin", 200, 200, 200)],
)
def test_api_key_scopes(
    client: Client, tenant_a: Tenant, scope: str, read: int, write: int, admin: int
) -> None:
    raw_key = api_key(tenant_a, scope)
    headers = bearer(raw_key)
    assert client.get("/api/v1/read-thing", headers=headers).status_code == read
    response = client.post("/api/v1/write-thing", headers=headers)
    assert response.status_code == write
    if write == 403:
        assert problem_type(response) == "insufficient-permission"
    else:
        prefix = raw_key.split("_")[1]  # acrm_<prefix>_<secret>
        assert json.loads(response.content) == {"level": scope, "actor": f"api-key:{prefix}"}
    response = client.post("/api/v1/admin-thing", headers=headers)
    assert response.status_code == admin
    if admin == 403:
        # A read key is stopped at the method already; a write key by the handler's require.
        required = "write" if scope == "read" else "admin"
        assert json.loads(response.content)["required"] == required


@pytest.mark.urls(__name__)
def test_api_key_acts_in_its_own_tenant(client: Client, tenant_a: Tenant, tenant_b: Tenant) -> None:
    response = client.get("/api/v1/read-thing", headers=bearer(api_key(tenant_b, "read")))
    assert json.loads(response.content)["tenant"] == tenant_b.slug
    # An X-Tenant header cannot move a key to another tenant.
    response = client.get(
        "/api/v1/read-thing",
        headers={**bearer(api_key(tenant_b, "read")), "X-Tenant": tenant_a.slug},
    )
    assert json.loads(response.content)["tenant"] == tenant_b.slug


@pytest.mark.urls(__name__)
def test_revoked_key_is_401(client: Client, tenant_a: Tenant) -> None:
    raw = api_key(tenant_a, "admin")
    with tenant_context(tenant_a):
        key = ApiKey.objects.get(prefix=raw.split("_")[1])
    api_key_revoke(tenant=tenant_a, actor=SYSTEM, api_key=key)
    response = client.get("/api/v1/read-thing", headers=bearer(raw))
    assert response.status_code == 401
    assert problem_type(response) == "invalid-api-key"


@pytest.mark.urls(__name__)
def test_anonymous_is_401(client: Client) -> None:
    response = client.post("/api/v1/write-thing")
    assert response.status_code == 401
    assert problem_type(response) == "unauthenticated"


def _csrf_client(user: Any) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    return client, token


@pytest.mark.urls(__name__)
def test_session_needs_csrf_for_unsafe_methods(tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent")
    client, token = _csrf_client(agent)
    assert client.get("/api/v1/read-thing").status_code == 200
    response = client.post("/api/v1/write-thing")
    assert response.status_code == 403
    assert problem_type(response) == "csrf-failed"
    response = client.post("/api/v1/write-thing", headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert json.loads(response.content) == {"level": "write", "actor": agent.email}


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "role, admin_status", [("owner", 200), ("admin", 200), ("agent", 403), ("light_agent", 403)]
)
def test_session_roles_map_to_levels(tenant_a: Tenant, role: str, admin_status: int) -> None:
    client, token = _csrf_client(member(tenant_a, role))
    response = client.post("/api/v1/admin-thing", headers={"X-CSRFToken": token})
    assert response.status_code == admin_status


@pytest.mark.urls(__name__)
def test_customers_get_403(client: Client, tenant_a: Tenant) -> None:
    client.force_login(member(tenant_a, "customer"))
    response = client.get("/api/v1/read-thing", headers={"X-Tenant": tenant_a.slug})
    assert response.status_code == 403
    assert problem_type(response) == "not-staff"
    # Without X-Tenant there is no staff workspace to fall back on either.
    response = client.get("/api/v1/read-thing")
    assert response.status_code == 403


@pytest.mark.urls(__name__)
def test_session_in_several_tenants_chooses_with_x_tenant(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user = member(tenant_a, "agent")
    from autocrm.accounts.services import membership_create

    membership_create(tenant=tenant_b, actor=SYSTEM, user=user, role="agent")
    client.force_login(user)
    response = client.get("/api/v1/read-thing")
    assert response.status_code == 403
    assert problem_type(response) == "tenant-required"
    response = client.get("/api/v1/read-thing", headers={"X-Tenant": tenant_b.slug})
    assert json.loads(response.content)["tenant"] == tenant_b.slug
    # A tenant where the user is not staff is refused, not silently replaced.
    other = Tenant.objects.create(slug="initech", name="Initech")
    response = client.get("/api/v1/read-thing", headers={"X-Tenant": other.slug})
    assert response.status_code == 403
    assert problem_type(response) == "not-staff"


def test_caller_outside_auth_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError):
        caller(HttpRequest())
