"""Input the API must refuse with a 4xx problem, never a 500 (issue 9): one rule each,
checked through several real endpoints so a new endpoint cannot miss it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db

NEW_TICKET = {"subject": "Late order", "body": "Where is it?", "requester_email": "c@x.test"}


class Api:
    def __init__(self, client: Client, raw_key: str) -> None:
        self.client, self.headers = client, bearer(raw_key)

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("headers", {}).update(self.headers)
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)


@pytest.fixture
def api(client: Client, tenant_a: Tenant) -> Api:
    return Api(client, api_key(tenant_a, scope="admin"))


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in [error["field"] for error in body.get("errors", [])], body
    return body


@pytest.mark.parametrize(
    "due_at",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00", "2026-12-01T09:00:00"],
)
def test_a_due_date_outside_utc_years_1_to_9999_or_naive_is_a_422(
    api: Api, tenant_a: Tenant, due_at: str
) -> None:
    assert_problem(
        api.call("post", "/tickets", {**NEW_TICKET, "due_at": due_at}), 422, "body.due_at"
    )
    with tenant_context(tenant_a):
        row = ticket(tenant_a)
    assert_problem(api.call("patch", f"/tickets/{row.pk}", {"due_at": due_at}), 422, "body.due_at")
    assert api.call("get", "/tickets").status_code == 200
