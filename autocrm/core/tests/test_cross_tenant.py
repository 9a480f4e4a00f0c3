"""Tenant isolation through every route: nothing of tenant B reaches tenant A.

The routes are not listed here. They are read from the running URL conf, so every new
endpoint and page joins this suite automatically:

- every operation of config.api.api's OpenAPI document, called with tenant A's admin key
  (path ids filled with tenant B's ids, request bodies from the schema's examples);
- every page under ``<slug:tenant_slug>/``, opened with tenant B's slug by tenant A's admin
  (404) and anonymously (login redirect or 404).

Tenant B's data carries a unique marker; no response may contain it. To make the routes of
a new app meaningful here, append a seeder to ``SEEDERS`` that creates that app's rows
(with ``marker`` in a text field) for a tenant: path ids of ``{<model>_id}`` parameters are
then filled with tenant B's rows of ``<model>``.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from autocrm.accounts.models import ApiKey, Invitation, Membership, User
from autocrm.accounts.services import api_key_create, invitation_create
from autocrm.accounts.tests.factories import SYSTEM, actor_of, member
from autocrm.core.events import event_append
from autocrm.core.models import Tenant, TenantOwned
from autocrm.core.tenancy import tenant_context
from autocrm.crm.tests.seeders import seed_crm, seed_crm_sales
from autocrm.inboxes.tests.seeders import seed_inboxes
from autocrm.knowledge.tests.seeders import seed_knowledge
from autocrm.notifications.tests.seeders import seed_webhooks
from autocrm.routing.tests.seeders import seed_routing
from autocrm.tickets.tests.seeders import seed_tickets

pytestmark = pytest.mark.django_db

MISSING_ID = 2_000_000_000


@dataclass
class Seeded:
    tenant: Tenant
    marker: str
    admin: User
    raw_key: str


def seed_accounts(tenant: Tenant, marker: str) -> None:
    agent = member(tenant, "agent", email=f"agent-{marker}@example.test", name=marker)
    member(tenant, "customer", email=f"customer-{marker}@example.test", name=marker)
    invitation_create(
        tenant=tenant,
        actor=SYSTEM,
        email=f"invitee-{marker}@example.test",
        role="agent",
        send=False,
    )
    api_key_create(tenant=tenant, actor=SYSTEM, name=f"key {marker}", scope="read")
    with tenant_context(tenant):
        event_append(
            tenant=tenant,
            type="ticket.updated",
            subject=("test", marker),
            actor=actor_of(tenant, agent),
            payload={"marker": marker},
        )


# Each: (tenant, marker) -> None, creating that app's rows with ``marker`` in them.
SEEDERS: list[Callable[[Tenant, str], None]] = [
    seed_accounts,
    seed_webhooks,
    seed_tickets,
    seed_inboxes,
    seed_routing,
    seed_knowledge,
    seed_crm,
    seed_crm_sales,
]


def seed(tenant: Tenant) -> Seeded:
    marker = f"mk{uuid.uuid4().hex[:12]}"
    admin = member(tenant, "admin", email=f"admin-{marker}@example.test", name=marker)
    for seeder in SEEDERS:
        seeder(tenant, marker)
    (raw,) = [api_key_create(tenant=tenant, actor=SYSTEM, name=f"admin {marker}", scope="admin")[1]]
    return Seeded(tenant=tenant, marker=marker, admin=admin, raw_key=raw)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Seeding creates a dozen users per test; Argon2's memory-hard hashing would dominate."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="module")
def seeded_once(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Seeded, Seeded]]:
    """Both tenants seeded once for the module, in a transaction rolled back after its last
    test. Seeding eight apps' rows for two tenants was most of each of the 340 tests' time.
    Every test still runs in a savepoint of its own (pytest-django's ``db``, a TestCase's
    atomic blocks nested in this one), so what one test writes is gone before the next; and
    nothing is committed, as before (no on_commit hook runs)."""
    from django.db import transaction

    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
        try:
            seeded = (
                seed(Tenant.objects.create(slug="acme", name="Acme")),
                seed(Tenant.objects.create(slug="globex", name="Globex")),
            )
        except BaseException:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            raise
    yield seeded
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def two_tenants(seeded_once: tuple[Seeded, Seeded], db: None) -> tuple[Seeded, Seeded]:
    return seeded_once


# --- where tenant B's ids come from ------------------------------------------------------------


def _models_named(param: str) -> list[type[models.Model]]:
    """``invitation_id`` -> Invitation, ``api_key_id`` -> ApiKey (tenant-owned models)."""
    wanted = param.removesuffix("_id").replace("_", "")
    return [
        m for m in apps.get_models() if issubclass(m, TenantOwned) and m._meta.model_name == wanted
    ]


def tenant_ids(tenant: Tenant, param: str, missing: int = MISSING_ID) -> list[int]:
    ids: list[int] = []
    with tenant_context(tenant):
        for model in _models_named(param):
            ids.extend(model._default_manager.order_by("pk").values_list("pk", flat=True)[:3])
    return ids or [missing]


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)


def leaks(response: Any, other: Seeded) -> list[str]:
    # A download (FileResponse: CSV/XLSX exports) is read whole like any other body.
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode(errors="replace")
    found = [s for s in (other.marker, other.raw_key.split("_")[1]) if s in text]
    return found


# --- the API, from its OpenAPI document -------------------------------------------------------


@functools.cache
def openapi() -> dict[str, Any]:
    from config.api import api

    return dict(api.get_openapi_schema())


def api_operations() -> list[tuple[str, str]]:
    schema = openapi()
    return [
        (method.upper(), path)
        for path, methods in sorted(schema["paths"].items())
        for method in sorted(methods)
    ]


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _synthesize(name: str, schema: dict[str, Any], schemas: dict[str, Any], own: Seeded) -> Any:
    """A valid value for ``schema``. ``*_id`` integers point at the caller's own rows, so
    the only foreign reference in the request is the path's id."""
    schema = _resolve(schema, schemas)
    if "examples" in schema:
        return schema["examples"][0]
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return _synthesize(name, options[0], schemas, own)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return tenant_ids(own.tenant, name, MISSING_ID + 1)[0] if name.endswith("_id") else 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        item = _synthesize(name.removesuffix("s"), schema.get("items", {}), schemas, own)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "object" or "properties" in schema:
        return {
            key: _synthesize(key, sub, schemas, own)
            for key, sub in schema.get("properties", {}).items()
            if key in schema.get("required", [])
        }
    if schema.get("format") == "email":
        return "someone@example.test"
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return "x" * max(1, schema.get("minLength", 1))


def _request_body(
    operation: dict[str, Any], schemas: dict[str, Any], own: Seeded
) -> dict[str, Any]:
    """Client kwargs carrying a valid body for the operation (so a 404 is about the ids,
    not a 422 about the body)."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = _synthesize("body", content["application/json"]["schema"], schemas, own)
        return {"data": json.dumps(body), "content_type": "application/json"}
    if "multipart/form-data" in content:
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

        schema = _resolve(content["multipart/form-data"]["schema"], schemas)
        fields: dict[str, Any] = {}
        for key, sub in schema.get("properties", {}).items():
            sub = _resolve(sub, schemas)
            if sub.get("format") == "binary" or sub.get("items", {}).get("format") == "binary":
                fields[key] = SimpleUploadedFile("note.txt", b"hello", "text/plain")
            elif key in schema.get("required", []):
                fields[key] = json.dumps(_synthesize(key, sub, schemas, own))
        return {"data": encode_multipart(BOUNDARY, fields), "content_type": MULTIPART_CONTENT}
    return {}


def _operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = openapi()
    return schema["paths"][path][method.lower()], schema["components"]["schemas"]


def test_the_walk_covers_the_accounts_api() -> None:
    paths = {path for _, path in api_operations()}
    assert {
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/invitations/{invitation_id}",
        "/api/v1/api-keys/{api_key_id}",
    } <= paths


@pytest.mark.parametrize("method, path", api_operations())
def test_api_route_never_shows_another_tenants_data(
    two_tenants: tuple[Seeded, Seeded], method: str, path: str
) -> None:
    mine, theirs = two_tenants
    operation, schemas = _operation(method, path)
    params = re.findall(r"{(\w+)}", path)
    client = Client()
    headers = {"Authorization": f"Bearer {mine.raw_key}"}
    kwargs: dict[str, Any] = {"headers": headers, **_request_body(operation, schemas, mine)}

    before = _state(theirs.tenant)
    if not params:
        response = client.generic(method, path, **kwargs)
        assert response.status_code < 500, response.content
        assert leaks(response, theirs) == [], f"{method} {path} shows tenant B's data"
    # Every combination of tenant B's ids for the path's id parameters: 404, nothing leaks.
    for values in (
        [] if not params else _combinations({p: tenant_ids(theirs.tenant, p) for p in params})
    ):
        url = _fill(path, {k: str(v) for k, v in values.items()})
        response = client.generic(method, url, **kwargs)
        assert response.status_code == 404, f"{method} {url}: {response.content!r}"
        assert leaks(response, theirs) == []
    # And tenant B's rows are untouched: nothing done through A changed them.
    assert _state(theirs.tenant) == before


def _state(tenant: Tenant) -> dict[str, Any]:
    with tenant_context(tenant):
        return {
            "members": sorted(Membership.objects.values_list("pk", "role")),
            "keys": sorted(ApiKey.objects.values_list("pk", "revoked_at")),
            "invitations": sorted(Invitation.objects.values_list("pk", "revoked_at")),
        }


def _combinations(choices: dict[str, list[int]]) -> Iterator[dict[str, int]]:
    keys = list(choices)
    if not keys:
        yield {}
        return
    first, rest = keys[0], {k: choices[k] for k in keys[1:]}
    for value in choices[first]:
        for tail in _combinations(rest):
            yield {first: value, **tail}


def test_own_data_is_visible_so_the_walk_is_not_vacuous(two_tenants: tuple[Seeded, Seeded]) -> None:
    mine, theirs = two_tenants
    headers = {"Authorization": f"Bearer {mine.raw_key}"}
    users = Client().get("/api/v1/users", headers=headers)
    assert mine.marker in users.content.decode()
    assert leaks(users, theirs) == []
    with tenant_context(mine.tenant):
        invitation_id = Invitation.objects.get().pk
    own = Client().delete(f"/api/v1/users/invitations/{invitation_id}", headers=headers)
    assert own.status_code == 204


def test_a_session_cannot_switch_to_another_tenant_with_x_tenant(
    two_tenants: tuple[Seeded, Seeded],
) -> None:
    mine, theirs = two_tenants
    client = Client()
    client.force_login(mine.admin)
    for method, path in api_operations():
        url = re.sub(r"{\w+}", str(MISSING_ID), path)
        response = client.generic(method, url, headers={"X-Tenant": theirs.tenant.slug})
        assert response.status_code in (401, 403), f"{method} {url}"
        assert leaks(response, theirs) == []


# --- HTML pages under /<tenant-slug>/ ---------------------------------------------------------


def _walk(patterns: list[Any], prefix: str) -> Iterator[str]:
    for entry in patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield prefix + route


def page_routes() -> list[str]:
    return sorted(
        {
            route
            for route in _walk(get_resolver().url_patterns, "")
            if route.startswith("<slug:tenant_slug>/")
        }
    )


def _page_url(route: str, theirs: Seeded, choose: int = 0) -> str:
    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1), match.group(2)
        if name == "tenant_slug":
            return theirs.tenant.slug
        if converter == "int":
            ids = tenant_ids(theirs.tenant, name)
            return str(ids[min(choose, len(ids) - 1)])
        if converter == "uuid":
            return str(uuid.uuid4())
        return "x"

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def test_the_walk_covers_the_workspace_pages() -> None:
    assert "<slug:tenant_slug>/" in page_routes()


def is_public_page(url: str) -> bool:
    """A page anyone may open, such as the help centre (``portal.access.help_page``)."""
    try:
        match = resolve(url.split("?", 1)[0])
    except Resolver404:
        return False
    return bool(getattr(match.func, "public_page", False))


@pytest.mark.parametrize("route", page_routes())
def test_page_of_another_tenant_is_404(two_tenants: tuple[Seeded, Seeded], route: str) -> None:
    mine, theirs = two_tenants
    client = Client()
    client.force_login(mine.admin)
    url = _page_url(route, theirs)
    if is_public_page(url):
        # Public help-centre pages answer everyone, and show none of the tenant's private rows.
        for visitor in (client, Client()):
            response = visitor.get(url)
            assert response.status_code in (200, 301, 302, 400, 404, 410), f"GET {url}"
            if not response.streaming:
                assert leaks(response, theirs) == []
        return
    for method in ("GET", "POST"):
        response = client.generic(method, url)
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
        assert leaks(response, theirs) == []
    anonymous = Client().get(url)
    assert anonymous.status_code in (302, 404), f"anonymous GET {url}"
    if anonymous.status_code == 302:  # to sign in: the workspace's page or the help centre's
        location = anonymous["Location"]
        assert location.startswith(
            ("/accounts/login/", f"/{theirs.tenant.slug}/help/account/login/")
        )
    assert leaks(anonymous, theirs) == []


# --- below the API: the database itself --------------------------------------------------------


def test_raw_sql_without_a_tenant_sees_none_of_the_seeded_rows(
    two_tenants: tuple[Seeded, Seeded],
) -> None:
    """test_rls proves the policy exists on every tenant table; this proves it bites on
    real data of every kind the API writes (members, keys, invitations, events, stored
    idempotent responses...)."""
    from django.db import connection

    from autocrm.core.tests.test_rls import tenant_tables

    mine, theirs = two_tenants
    response = Client().post(
        "/api/v1/users/invitations",
        json.dumps({"email": f"idem-{mine.marker}@example.test", "role": "agent"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {mine.raw_key}", "Idempotency-Key": "rls"},
    )
    assert response.status_code == 201
    tables = tenant_tables()

    def counts(where: str = "") -> dict[str, int]:
        result = {}
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'SELECT count(*) FROM "{table}" {where}')
                result[table] = cursor.fetchone()[0]
        return result

    with tenant_context(mine.tenant):
        visible = {table for table, n in counts().items() if n}
        assert set(counts(f"WHERE tenant_id = {theirs.tenant.pk}").values()) == {0}
    assert {
        "accounts_membership",
        "accounts_apikey",
        "accounts_invitation",
        "core_event",
        "core_idempotencykey",
    } <= visible
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.tenant_id', '', true), set_config('app.user_id', '', true)"
        )
    assert set(counts().values()) == {0}
