"""Contract tests of the tickets API over the Django test client (real DB, real middleware)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from autocrm.accounts.tests.factories import api_key
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.api_client import NEW, Api, create

pytestmark = pytest.mark.django_db


def test_create_returns_the_minimum_shape_with_etag(api: Api) -> None:
    response = api.call("post", "/tickets", NEW)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("number", "subject", "status", "priority", "tags")} == {
        "number": 1,
        "subject": "Refund please",
        "status": "new",
        "priority": "high",
        "tags": ["billing"],
    }
    assert response["ETag"] == '"1"' and response["Location"] == f"/api/v1/tickets/{body['id']}"
    got = api.call("get", f"/tickets/{body['id']}")
    assert got.status_code == 200 and got["ETag"] == '"1"'
    assert got.json()["requester"]["email"] == "pat@customer.test"


def test_idempotency_key_replays_instead_of_duplicating(api: Api, tenant_a: Tenant) -> None:
    first = api.call("post", "/tickets", NEW, **{"Idempotency-Key": "abc-1"})
    again = api.call("post", "/tickets", NEW, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = api.call("post", "/tickets", {**NEW, "subject": "x"}, **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 422
    with tenant_context(tenant_a):
        assert Ticket.objects.count() == 1


def test_patch_with_stale_etag_is_412_and_fresh_etag_wins(api: Api) -> None:
    ticket = create(api)
    path = f"/tickets/{ticket['id']}"
    ok = api.call("patch", path, {"status": "pending"}, **{"If-Match": '"1"'})
    assert ok.status_code == 200 and ok["ETag"] == '"2"' and ok.json()["status"] == "pending"
    stale = api.call("patch", path, {"priority": "low"}, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale["Content-Type"] == "application/problem+json"
    assert api.call("get", path).json()["priority"] == "high"


def test_list_filters_searches_and_pages_with_cursors(api: Api) -> None:
    for i in range(5):
        create(api, subject=f"Printer {i} jammed", priority="low", tags=["hw"])
    create(api, subject="Invoice wrong", body="The VAT is missing")
    page = api.call("get", "/tickets?status=new&tag=hw&limit=2&sort=number").json()
    assert [t["number"] for t in page["items"]] == [1, 2] and page["next_cursor"]
    page2 = api.call(
        "get", f"/tickets?status=new&tag=hw&limit=2&sort=number&cursor={page['next_cursor']}"
    ).json()
    assert [t["number"] for t in page2["items"]] == [3, 4]
    found = api.call("get", "/tickets?q=vat").json()["items"]
    assert [t["number"] for t in found] == [6]
    assert "<mark>VAT</mark>" in found[0]["highlight"]["snippet"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=archived", "query.status"),
        ("q=priority:extreme", "query.q"),
        ("cursor=nonsense", "query.cursor"),
        ("limit=0", "query.limit"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(api: Api, query: str, field: str) -> None:
    create(api)
    response = api.call("get", f"/tickets?{query}")
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "priority": "extreme"}, "body.priority"),
        ({**NEW, "status": "archived"}, "body.status"),
        ({**NEW, "requester_email": "nope"}, "body.requester_email"),
        ({**NEW, "colour": "red"}, "body.colour"),
        ({**NEW, "custom_fields": {"plan": "x"}}, "custom_fields.plan"),
    ],
)
def test_bad_create_bodies_are_422_naming_the_field(
    api: Api, tenant_a: Tenant, body: Any, field: str
) -> None:
    response = api.call("post", "/tickets", body)
    assert response.status_code == 422, response.content
    assert any(field in (e["field"] or "") for e in response.json()["errors"])
    with tenant_context(tenant_a):
        assert not Ticket.objects.exists()


def test_messages_notes_reopen_and_closed_is_409(api: Api) -> None:
    ticket = create(api)
    path = f"/tickets/{ticket['id']}"
    note = api.call("post", f"{path}/messages", {"body": "internal", "public": False})
    assert note.status_code == 201 and note.json()["public"] is False
    api.call("patch", path, {"status": "solved"})
    reply = api.call("post", f"{path}/messages", {"body": "still broken", "as_requester": True})
    assert reply.status_code == 201
    assert api.call("get", path).json()["status"] == "open"
    messages = api.call("get", f"{path}/messages").json()["items"]
    assert [m["public"] for m in messages] == [True, False, True]
    api.call("patch", path, {"status": "closed"})
    closed = api.call("post", f"{path}/messages", {"body": "again"})
    assert closed.status_code == 409 and closed.json()["type"].endswith("ticket-closed")


def test_audit_timeline_bulk_merge_and_split(api: Api) -> None:
    a, b, c = create(api), create(api), create(api)
    bulk = api.call(
        "post",
        "/tickets/bulk",
        {"ticket_ids": [a["id"], b["id"]], "changes": {"priority": "urgent", "tags_add": ["vip"]}},
    )
    assert bulk.status_code == 200 and bulk.json()["updated"] == 2
    events = api.call("get", f"/tickets/{a['id']}/events").json()["items"]
    assert events[0]["type"] == "ticket.updated"
    assert events[0]["payload"]["changes"]["priority"] == {"from": "high", "to": "urgent"}
    merged = api.call("post", f"/tickets/{b['id']}/merge", {"target_id": c["id"]})
    assert merged.status_code == 200 and merged.json()["id"] == c["id"]
    assert api.call("get", f"/tickets/{b['id']}").json()["status"] == "closed"
    messages = api.call("get", f"/tickets/{c['id']}/messages").json()["items"]
    moved = [m["id"] for m in messages if m["public"]][:1]
    split = api.call("post", f"/tickets/{c['id']}/split", {"message_ids": moved})
    assert split.status_code == 201 and split.json()["number"] == 4


def test_attachments_upload_sniffs_type_and_downloads_as_attachment(
    api: Api,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = create(api)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    upload = SimpleUploadedFile("evil.html", png, content_type="text/html")
    with django_capture_on_commit_callbacks(execute=True):  # the file is stored on commit
        response = api.client.post(
            f"/api/v1/tickets/{ticket['id']}/attachments", {"file": upload}, headers=api.headers
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png" and body["size"] == len(png)
    download = api.client.get(body["download_url"], headers=api.headers)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == png  # type: ignore[attr-defined]
    settings.ATTACHMENT_MAX_BYTES = 10
    too_big = api.client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        {"file": SimpleUploadedFile("a.txt", b"x" * 11)},
        headers=api.headers,
    )
    assert too_big.status_code == 422
    assert too_big.json()["errors"][0]["field"] == "file"


def test_configuration_endpoints(api: Api) -> None:
    field = api.call(
        "post",
        "/custom-fields",
        {"label": "Plan", "field_type": "dropdown", "options": ["free", "pro"]},
    )
    assert field.status_code == 201 and field.json()["key"] == "plan"
    bad = create(api, custom_fields={"plan": "pro"})
    assert bad["custom_fields"] == {"plan": "pro"}
    view = api.call("post", "/views", {"name": "Pro", "query": "cf.plan:pro", "shared": True})
    assert view.status_code == 201
    listed = api.call("get", f"/views/{view.json()['id']}/tickets").json()["items"]
    assert [t["id"] for t in listed] == [bad["id"]]
    macro = api.call(
        "post",
        "/macros",
        {
            "name": "Solve",
            "actions": [{"field": "status", "value": "solved"}],
            "reply_body": "Done, {{requester.name}}.",
        },
    )
    assert macro.status_code == 201
    applied = api.call("post", f"/tickets/{bad['id']}/macros/{macro.json()['id']}")
    assert applied.status_code == 200 and applied.json()["status"] == "solved"
    tag = api.call("post", "/tags", {"name": "VIP"})
    assert tag.status_code == 201 and tag.json()["name"] == "vip"
    assert api.call("post", "/tags", {"name": "vip"}).status_code == 422


def test_read_only_keys_cannot_write_and_other_tenants_see_nothing(
    client: Client, api: Api, tenant_b: Tenant
) -> None:
    ticket = create(api)
    reader = Api(client, api_key(tenant_b, scope="admin"))
    assert reader.call("get", f"/tickets/{ticket['id']}").status_code == 404
    assert reader.call("get", "/tickets").json()["items"] == []
    assert reader.call("patch", f"/tickets/{ticket['id']}", {"status": "open"}).status_code == 404
    read_only = Api(client, api_key(tenant_b, scope="read"))
    assert read_only.call("post", "/tickets", NEW).status_code == 403
