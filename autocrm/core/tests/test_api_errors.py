"""Bad input never gets a 500 or HTML from the API: every error is problem+json.

Runs against the real URL conf (config.urls) for the real endpoints, and against this
module's URL conf (the same AutoCrmApi with test-only routes) for forced failures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from ninja import File, Router, UploadedFile

from autocrm.accounts.models import Invitation
from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.api import AutoCrmApi, RequestSchema, require
from autocrm.core.api.errors import handler400, handler404, handler500  # noqa: F401 - URL conf handlers
from autocrm.core.models import Event, Tenant
from autocrm.core.problems import Conflict, PreconditionFailed
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
INVITE = "/api/v1/users/invitations"

# --- test-only API (URL conf of this module) -------------------------------------------------
boom_router = Router()


class EchoIn(RequestSchema):
    count: int
    name: str


@boom_router.get("/boom", summary="Crash", tags=["test"])
def boom(request: HttpRequest) -> None:
    who = require(request, "read")
    with tenant_context(who.tenant):
        Event.objects.create(
            tenant=who.tenant, type="test.partial-write", subject_type="t", subject_id="1"
        )
    raise RuntimeError("secret internals: password=hunter2")


@boom_router.post("/echo", summary="Echo", tags=["test"])
def echo(request: HttpRequest, payload: EchoIn) -> dict[str, Any]:
    return payload.dict()


@boom_router.post("/upload", summary="Upload with metadata", tags=["test"])
def upload(request: HttpRequest, meta: EchoIn, file: File[UploadedFile]) -> dict[str, Any]:
    return {"name": meta.name, "size": file.size}


ASYNC_CALLS: list[str] = []


@boom_router.post("/async-echo", summary="Async echo", tags=["test"])
async def async_echo(request: HttpRequest, payload: EchoIn) -> dict[str, Any]:
    ASYNC_CALLS.append(payload.name)
    return {"name": payload.name, "calls": len(ASYNC_CALLS)}


@boom_router.get("/service-errors/{kind}", summary="Service errors", tags=["test"])
def service_errors(request: HttpRequest, kind: str) -> dict[str, bool]:
    if kind == "validation":
        raise ValidationError({"email": "Already a member.", "__all__": "Check the form."})
    if kind == "permission":
        raise PermissionDenied("Only owners can do this.")
    if kind == "conflict":
        raise Conflict("Somebody else changed it.")
    if kind == "precondition":
        raise PreconditionFailed("The ETag does not match.")
    if kind == "missing":
        raise Invitation.DoesNotExist
    return {"ok": True}


test_api = AutoCrmApi(title="test", urls_namespace="api", docs_url=None, openapi_url=None)
test_api.add_router("", boom_router)


def plain_crash(request: HttpRequest) -> HttpResponse:
    """A Django view (no ninja around it): its crash reaches Django's handler500."""
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [
    path("api/v1/plain-crash", plain_crash),
    path("pages/crash", plain_crash),
    path("api/v1/", test_api.urls),
]


@pytest.fixture
def key(tenant_a: Tenant) -> str:
    return api_key(tenant_a, "admin")


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body: dict[str, Any] = json.loads(response.content)
    assert body["status"] == status and body["title"] and body["type"]
    assert "Traceback" not in response.content.decode()
    return body


def post(
    client: Client, url: str, data: str, key: str, content_type: str = "application/json"
) -> Any:
    return client.post(url, data, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {key}")


def test_malformed_json_is_400(client: Client, key: str) -> None:
    body = assert_problem(post(client, INVITE, '{"email": ', key), 400)
    assert body["type"].endswith("/malformed-json")


@pytest.mark.parametrize(
    "payload, field, message",
    [
        ({"email": "new@example.test", "role": "agent", "admin": True}, "body.admin", "Extra"),
        ({"email": 42, "role": "agent"}, "body.email", "string"),
        ({"email": "not-an-email", "role": "agent"}, "body.email", "valid email"),
        ({"email": "new@example.test", "role": "emperor"}, "body.role", "Input should be"),
        ({"role": "agent"}, "body.email", "Field required"),
    ],
)
def test_invalid_bodies_are_422_naming_the_field(
    client: Client, key: str, payload: dict[str, Any], field: str, message: str
) -> None:
    body = assert_problem(post(client, INVITE, json.dumps(payload), key), 422)
    assert [e["field"] for e in body["errors"]] == [field]
    assert message in body["errors"][0]["message"]


def test_a_json_array_instead_of_an_object_is_422(client: Client, key: str) -> None:
    body = assert_problem(post(client, INVITE, "[1, 2]", key), 422)
    assert body["errors"][0]["field"] == "body"


def test_wrong_query_type_is_422_naming_the_parameter(client: Client, key: str) -> None:
    body = assert_problem(client.get("/api/v1/users?limit=lots", headers=bearer(key)), 422)
    assert body["errors"][0]["field"] == "query.limit"


def test_wrong_path_type_is_422(client: Client, key: str) -> None:
    body = assert_problem(client.delete(f"{INVITE}/abc", headers=bearer(key)), 422)
    assert body["errors"][0]["field"] == "path.invitation_id"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_wrong_content_type_is_415(client: Client, key: str, content_type: str) -> None:
    response = post(client, INVITE, '{"email": "a@b.test"}', key, content_type=content_type)
    assert_problem(response, 415)
    assert not Invitation.objects.exists()


def test_oversize_body_is_413_before_anything_reads_it(
    client: Client, key: str, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = json.dumps({"email": "a@b.test", "role": "agent", "pad": "x" * 2000})
    body = assert_problem(post(client, INVITE, payload, key), 413)
    assert body["type"].endswith("/body-too-large")


def test_body_too_big_when_django_reads_it_is_413_not_500() -> None:
    """Where Django itself refuses the body (RequestDataTooBig), the API answers 413 too."""
    from django.core.exceptions import RequestDataTooBig
    from django.test import RequestFactory

    from config.api import api

    request = RequestFactory().post(INVITE, "{}", content_type="application/json")
    assert_problem(api.on_exception(request, RequestDataTooBig("too big")), 413)


def test_unknown_api_route_is_404_problem(client: Client, key: str) -> None:
    assert_problem(client.get("/api/v1/no-such-thing", headers=bearer(key)), 404)
    assert_problem(client.get("/api/v2/users"), 404)
    assert_problem(client.get("/api/v1/"), 404)


def test_a_refused_host_header_is_a_400_problem_on_the_api(client: Client, key: str) -> None:
    """Django refuses a Host outside ALLOWED_HOSTS before any view runs (found by the
    generated-input tests): API clients still get problem+json, pages an HTML 400."""
    assert_problem(client.get("/api/v1/tickets", headers={**bearer(key), "Host": "{}D"}), 400)
    page = client.get("/accounts/login/", headers={"Host": "evil.example"})
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")


def test_unknown_page_is_an_html_404(client: Client) -> None:
    response = client.get("/no-such-workspace-xyz/really/not/here")
    assert response.status_code == 404
    assert "problem+json" not in response["Content-Type"]
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_is_405_problem_with_allow(client: Client, key: str) -> None:
    response = client.put(
        "/api/v1/users", "{}", content_type="application/json", headers=bearer(key)
    )
    body = assert_problem(response, 405)
    assert response["Allow"] == "GET"
    assert "PUT" in body["detail"]


def test_unauthenticated_is_401_problem(client: Client) -> None:
    response = client.get("/api/v1/users")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_api_key_is_401_problem(client: Client) -> None:
    assert_problem(client.get("/api/v1/users", headers=bearer("acrm_nope_nope")), 401)


# --- forced failures through the test-only routes ---------------------------------------------


@pytest.mark.urls(__name__)
def test_unhandled_exception_is_500_problem_without_traceback(
    client: Client, key: str, tenant_a: Tenant
) -> None:
    response = client.get("/api/v1/boom", headers=bearer(key))
    body = assert_problem(response, 500)
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    assert body["type"].endswith("/server-error")
    # The request's transaction was rolled back: the write before the crash is gone.
    with tenant_context(tenant_a):
        assert not Event.objects.filter(type="test.partial-write").exists()


@pytest.mark.urls(__name__)
@override_settings(DEBUG=True)
def test_even_with_debug_a_crash_is_a_problem_not_a_traceback(client: Client, key: str) -> None:
    response = client.get("/api/v1/boom", headers=bearer(key))
    assert_problem(response, 500)
    assert "hunter2" not in response.content.decode()


@pytest.mark.urls(__name__)
def test_schema_types_are_enforced_by_the_base_request_schema(client: Client, key: str) -> None:
    ok = post(client, "/api/v1/echo", json.dumps({"count": 3, "name": "x"}), key)
    assert ok.status_code == 200 and json.loads(ok.content) == {"count": 3, "name": "x"}
    body = assert_problem(
        post(
            client,
            "/api/v1/echo",
            json.dumps({"count": "three", "name": "x", "colour": "red"}),
            key,
        ),
        422,
    )
    assert sorted(e["field"] for e in body["errors"]) == ["body.colour", "body.count"]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "kind, status, fields",
    [
        ("validation", 422, ["email", None]),
        ("permission", 403, None),
        ("conflict", 409, None),
        ("precondition", 412, None),
        ("missing", 404, None),
    ],
)
def test_service_errors_map_to_problems(
    client: Client, key: str, kind: str, status: int, fields: list[str | None] | None
) -> None:
    body = assert_problem(client.get(f"/api/v1/service-errors/{kind}", headers=bearer(key)), status)
    if fields is not None:
        assert [e["field"] for e in body["errors"]] == fields
        assert body["errors"][0]["message"] == "Already a member."


@pytest.mark.urls(__name__)
def test_handler404_of_a_test_urlconf_still_answers_problems(client: Client) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_service_validation_error_names_body_fields(
    client: Client, tenant_a: Tenant, key: str
) -> None:
    from autocrm.accounts.tests.factories import member

    existing = member(tenant_a, "agent")
    body = assert_problem(
        post(client, INVITE, json.dumps({"email": existing.email, "role": "agent"}), key), 422
    )
    assert body["errors"][0]["field"] == "body.email"
    assert "already a member" in body["errors"][0]["message"]


@pytest.mark.urls(__name__)
def test_crash_outside_an_operation_is_a_500_problem_for_api_paths_only() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/plain-crash")
    assert_problem(response, 500)
    assert "hunter2" not in response.content.decode()
    page = client.get("/pages/crash")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
    assert "hunter2" not in page.content.decode()


@pytest.mark.urls(__name__)
def test_multipart_with_a_json_part_is_not_refused_as_a_media_type(
    client: Client, key: str
) -> None:
    """Only JSON bodies are accepted, but a multipart upload's JSON part is parsed too."""
    response = client.post(
        "/api/v1/upload",
        {
            "meta": json.dumps({"count": 1, "name": "notes"}),
            "file": SimpleUploadedFile("a.txt", b"hello", "text/plain"),
        },
        headers=bearer(key),
    )
    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"name": "notes", "size": 5}


@pytest.mark.urls(__name__)
def test_async_operations_get_the_same_rate_limits_errors_and_idempotency(
    client: Client, key: str
) -> None:
    ASYNC_CALLS.clear()
    headers = {**bearer(key), "Idempotency-Key": "async-1"}
    body = json.dumps({"count": 1, "name": "a"})
    first = client.post(
        "/api/v1/async-echo", body, content_type="application/json", headers=headers
    )
    again = client.post(
        "/api/v1/async-echo", body, content_type="application/json", headers=headers
    )
    assert first.status_code == again.status_code == 200, first.content
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert ASYNC_CALLS == ["a"]
    assert "RateLimit-Remaining" in first
    assert_problem(client.get("/api/v1/async-echo", headers=headers), 405)
    assert_problem(post(client, "/api/v1/async-echo", "{nope", key), 400)


@pytest.mark.urls(__name__)
def test_idempotency_key_on_a_multipart_upload(client: Client, key: str) -> None:
    """The fingerprint of a streamed upload is taken from its fields and files."""

    def upload_file(content: bytes) -> Any:
        return client.post(
            "/api/v1/upload",
            {
                "meta": json.dumps({"count": 1, "name": "notes"}),
                "file": SimpleUploadedFile("a.txt", content, "text/plain"),
            },
            headers={**bearer(key), "Idempotency-Key": "upload-1"},
        )

    first = upload_file(b"hello")
    assert first.status_code == 200, first.content
    again = upload_file(b"hello")
    assert again["Idempotent-Replayed"] == "true"
    assert upload_file(b"other").status_code == 422
