"""Input the API must refuse with a 4xx problem, never a 500 (issue 9): one rule each,
checked through several real endpoints so a new endpoint cannot miss it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, IntegrityError, connection, transaction
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.api.errors import data_error_problem, integrity_error_problem
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


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/tickets", {**NEW_TICKET, "subject": "Late\x00order"}, "body.subject"),
        ("post", "/tickets", {**NEW_TICKET, "tags": ["ok", "b\x00d"]}, "body.tags.1"),
        ("post", "/tickets", {**NEW_TICKET, "metadata": {"k\x00": 1}}, "body.metadata.k\x00"),
        ("post", "/tags", {"name": "\x00"}, "body.name"),
        ("post", "/views", {"name": "Mine\x00", "query": "status:open"}, "body.name"),
        ("post", "/macros", {"name": "M", "actions": [{"type": "\x00"}]}, "body.actions.0.type"),
        ("post", "/webhooks", {"url": "https://x.test/\x00", "events": []}, "body.url"),
        ("post", "/users/invitations", {"email": "a\x00@x.test", "role": "agent"}, "body.email"),
    ],
)
def test_a_nul_in_any_json_string_or_key_is_a_422_naming_the_field(
    api: Api, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(api.call(method, path, body), 422, field)
    assert "NUL" in problem["errors"][0]["message"]


def test_a_nul_in_a_reply_or_patch_is_a_422(api: Api, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        row = ticket(tenant_a)
    reply = {"body": "Hi\x00there", "public": True}
    assert_problem(api.call("post", f"/tickets/{row.pk}/messages", reply), 422, "body.body")
    assert_problem(
        api.call("patch", f"/tickets/{row.pk}", {"subject": "\x00"}), 422, "body.subject"
    )


@pytest.mark.parametrize("name", ["q", "tag", "requester", "cursor", "sort", "status"])
def test_a_nul_in_any_query_parameter_is_a_422(api: Api, name: str) -> None:
    assert_problem(api.call("get", f"/tickets?{name}=a%00b"), 422, f"query.{name}")


def test_a_nul_in_an_api_path_or_header_is_a_422(api: Api, client: Client) -> None:
    assert_problem(api.call("get", "/tickets/1%00"), 422, "path")
    assert_problem(api.call("get", "/tags%00"), 422, "path")
    response = client.get("/api/v1/me", headers={"X-Tenant": "acme\x00"})
    assert_problem(response, 422, "header.x-tenant")


@pytest.mark.parametrize("path", ["/x%00y/", "/acme/%00/", "/accounts/login/?next=%00"])
def test_a_nul_in_a_page_address_is_a_400_page(client: Client, tenant_a: Tenant, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad request" in response.content


def test_a_nul_in_a_form_body_is_a_400_page(client: Client) -> None:
    response = client.post("/accounts/login/", {"login": "a\x00b@x.test", "password": "x"})
    assert response.status_code == 400


def test_a_nul_in_a_multipart_field_is_a_422(api: Api, tenant_a: Tenant) -> None:
    """(Django's multipart parser already drops a NUL from a file name.)"""
    with tenant_context(tenant_a):
        row = ticket(tenant_a)
    upload = SimpleUploadedFile("a.txt", b"hello", content_type="text/plain")
    response = api.client.post(
        f"/api/v1/tickets/{row.pk}/attachments",
        {"file": upload, "message_id": "1\x00"},
        headers=api.headers,
    )
    assert_problem(response, 422, "body.message_id")


def test_a_multipart_body_without_a_boundary_is_a_400(api: Api, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        row = ticket(tenant_a)
    response = api.client.post(
        f"/api/v1/tickets/{row.pk}/attachments",
        data=b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\nhi\r\n--x--\r\n",
        content_type="multipart/form-data",
        headers=api.headers,
    )
    assert_problem(response, 400)


def _cursor(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


WRONG_CURSOR_VALUES = [
    True,
    None,
    1.5,
    float("inf"),
    float("nan"),
    "x",
    "a\x00b",
    {"a": 1},
    [1],
    10**30,
    -(10**30),
    "2026-13-01",
]


@pytest.mark.parametrize("value", WRONG_CURSOR_VALUES, ids=repr)
def test_a_cursor_whose_values_have_the_wrong_type_is_a_422(api: Api, value: Any) -> None:
    ordered_by_time = _cursor({"o": "-created_at,-id", "v": [value, value]})
    assert_problem(api.call("get", f"/api-keys?cursor={ordered_by_time}"), 422, "query.cursor")
    ordered_by_email = _cursor({"o": "user__email,id", "v": ["a@x.test", value]})
    assert_problem(api.call("get", f"/users?cursor={ordered_by_email}"), 422, "query.cursor")
    tickets = _cursor({"s": "-updated_at", "v": [value, value]})
    assert_problem(api.call("get", f"/tickets?cursor={tickets}"), 422, "query.cursor")
    by_number = _cursor({"s": "-number", "v": [value, 1]})
    assert_problem(api.call("get", f"/tickets?sort=-number&cursor={by_number}"), 422)


@pytest.mark.parametrize(
    "path",
    [
        "/tickets/99999999999999999999",
        "/tickets/9223372036854775808/messages",
        "/webhooks/99999999999999999999",
        "/attachments/99999999999999999999/download",
        "/tickets/-1",
    ],
)
def test_an_id_past_the_database_range_is_a_4xx_problem(api: Api, path: str) -> None:
    response = api.call("get", path)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/problem+json"


def test_a_value_the_database_refuses_is_a_422_and_rolls_back(rf: Any) -> None:
    """The safety net behind the schemas (a schema that missed a bound)."""
    with transaction.atomic():
        with pytest.raises(DataError) as caught, connection.cursor() as cursor:
            cursor.execute("SELECT 2147483648::integer")
        response = data_error_problem(rf.get("/api/v1/x"), caught.value)
        assert transaction.get_rollback()
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


def test_a_constraint_the_request_breaks_is_a_4xx_and_rolls_back(rf: Any) -> None:
    """Explicit null for a column that cannot hold it (a PATCH schema's "unchanged"
    default sent on purpose) was a 500; the database's refusal is the client's 422."""
    with transaction.atomic():
        with pytest.raises(IntegrityError) as caught, connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE t (x int NOT NULL); INSERT INTO t VALUES (NULL)")
        response = integrity_error_problem(rf.patch("/api/v1/x"), caught.value)
        assert transaction.get_rollback()
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("field", ["name", "aliases", "inbound_enabled"])
def test_null_for_a_field_a_patch_may_only_leave_out_is_a_422(api: Api, field: str) -> None:
    """Found by the generated-input tests: ``"aliases": null`` was a 500."""
    created = api.call("post", "/inboxes", {"name": "Help", "address": "help@acme.test"})
    assert created.status_code == 201, created.content
    response = api.call("patch", f"/inboxes/{created.json()['id']}", {field: None})
    assert_problem(response, 422, f"body.{field}")


@pytest.mark.parametrize(
    ("create", "body", "field"),
    [
        ("/macros", {"name": "Ask", "reply_body": "Could you send a screenshot?"}, "reply_body"),
        ("/macros", {"name": "Ask", "reply_body": "Hi"}, "name"),
        ("/views", {"name": "Mine", "query": "assignee:me"}, "query"),
        ("/custom-fields", {"key": "plan", "label": "Plan", "field_type": "text"}, "active"),
        ("/webhooks", {"url": "http://93.184.215.14/hook"}, "url"),
    ],
)
def test_every_patch_refuses_null_where_it_would_only_mean_a_missing_value(
    api: Api, create: str, body: dict[str, Any], field: str
) -> None:
    """One rule in core.api.schemas.PatchSchema, not one per service: found by the
    generated-input tests as a 500 (``PATCH /macros/{id}`` with ``"reply_body": null``)."""
    created = api.call("post", create, body)
    assert created.status_code == 201, created.content
    response = api.call("patch", f"{create}/{created.json()['id']}", {field: None})
    assert_problem(response, 422, f"body.{field}")


def test_a_patch_may_clear_what_is_nullable(api: Api) -> None:
    created = api.call("post", "/inboxes", {"name": "Help", "address": "help@acme.test"})
    response = api.call("patch", f"/inboxes/{created.json()['id']}", {"default_team_id": None})
    assert response.status_code == 200, response.content
    assert response.json()["default_team_id"] is None
