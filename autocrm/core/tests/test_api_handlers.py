"""The handler helpers: the caller's tenant and actor at a level, get-or-404 within the
tenant, and the list body; through a real API with real keys of two tenants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import path
from ninja import Router

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.actors import Actor
from autocrm.core.api import (
    AutoCrmApi,
    Cursor,
    Limit,
    get_or_404,
    keyset_response,
    tenant_and_actor,
)
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db

router = Router()


def _event_get(*, tenant: Tenant, actor: Actor, event_id: int) -> Event | None:
    return Event.objects.filter(tenant=tenant, pk=event_id).first()


@router.get("/events", summary="List", tags=["test"])
def events_list(
    request: HttpRequest, cursor: str | None = Cursor, limit: int = Limit
) -> dict[str, Any]:
    tenant, _actor = tenant_and_actor(request, "read")
    rows = Event.objects.filter(tenant=tenant, type="handler.test")
    page = keyset_response(rows, ordering=("id",), cursor=cursor, limit=limit)
    return {"items": [e.pk for e in page["items"]], "next_cursor": page["next_cursor"]}


@router.get("/events/{event_id}", summary="Get", tags=["test"])
def events_get(request: HttpRequest, event_id: int) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "read")
    event = get_or_404(_event_get(tenant=tenant, actor=actor, event_id=event_id), "event")
    return {"id": event.pk, "tenant": tenant.slug, "actor": actor.label}


@router.post("/events/{event_id}/touch", summary="Write", tags=["test"])
def events_touch(request: HttpRequest, event_id: int) -> dict[str, Any]:
    tenant, actor = tenant_and_actor(request, "write")
    return {"id": get_or_404(_event_get(tenant=tenant, actor=actor, event_id=event_id), "event").pk}


test_api = AutoCrmApi(title="test", urls_namespace="api", docs_url=None, openapi_url=None)
test_api.add_router("", router)
urlpatterns = [path("api/v1/", test_api.urls)]


def _events(tenant: Tenant, n: int) -> list[int]:
    with tenant_context(tenant):
        return [
            Event.objects.create(
                tenant=tenant, type="handler.test", subject_type="s", subject_id=str(i)
            ).pk
            for i in range(n)
        ]


@pytest.mark.urls(__name__)
def test_list_pages_through_the_callers_rows_only(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    mine = _events(tenant_a, 5)
    _events(tenant_b, 3)
    headers = bearer(api_key(tenant_a, "read"))
    seen: list[int] = []
    cursor = ""
    while True:
        body = json.loads(
            client.get(f"/api/v1/events?limit=2&cursor={cursor}", headers=headers).content
        )
        assert set(body) == {"items", "next_cursor"}
        seen.extend(body["items"])
        if body["next_cursor"] is None:
            break
        cursor = body["next_cursor"]
    assert seen == sorted(mine)


@pytest.mark.urls(__name__)
def test_get_or_404_names_what_is_missing_and_hides_other_tenants(
    client: Client, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    [mine] = _events(tenant_a, 1)
    [theirs] = _events(tenant_b, 1)
    headers = bearer(api_key(tenant_a, "read"))
    response = client.get(f"/api/v1/events/{mine}", headers=headers)
    assert response.status_code == 200
    assert json.loads(response.content)["tenant"] == tenant_a.slug
    response = client.get(f"/api/v1/events/{theirs}", headers=headers)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    problem = json.loads(response.content)
    assert problem["detail"] == "No event with this id."
    assert problem["type"].endswith("/not-found")


@pytest.mark.urls(__name__)
def test_the_level_is_enforced_before_the_lookup(client: Client, tenant_a: Tenant) -> None:
    [mine] = _events(tenant_a, 1)
    response = client.post(
        f"/api/v1/events/{mine}/touch", headers=bearer(api_key(tenant_a, "read"))
    )
    assert response.status_code == 403
    response = client.post(
        f"/api/v1/events/{mine}/touch", headers=bearer(api_key(tenant_a, "write"))
    )
    assert response.status_code == 200
    assert json.loads(response.content) == {"id": mine}
