"""Issue 9's role rules in tickets, through the API: light agents' files, as_requester."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from autocrm.accounts.models import ApiKey
from autocrm.accounts.tests.factories import api_key, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets.tests.api_client import Api, create

pytestmark = pytest.mark.django_db


def upload(api: Api, ticket_id: int, message_id: int | None = None) -> Any:
    data: dict[str, Any] = {"file": SimpleUploadedFile("log.txt", b"a log line\n")}
    if message_id is not None:
        data["message_id"] = message_id
    return api.client.post(f"/api/v1/tickets/{ticket_id}/attachments", data, headers=api.headers)


def test_a_light_agent_attaches_files_to_their_own_internal_notes_only(
    client: Client, api: Api, tenant_a: Tenant
) -> None:
    t = create(api)
    request_message = api.call("get", f"/tickets/{t['id']}/messages").json()["items"][0]
    others_note = api.call(
        "post", f"/tickets/{t['id']}/messages", {"body": "admin note", "public": False}
    ).json()
    client.force_login(member(tenant_a, "light_agent"))
    light = Api(client)
    own_note = light.call(
        "post", f"/tickets/{t['id']}/messages", {"body": "my note", "public": False}
    )
    assert own_note.status_code == 201, own_note.content
    assert upload(light, t["id"]).status_code == 403  # on the ticket itself
    assert upload(light, t["id"], request_message["id"]).status_code == 403  # a public message
    assert upload(light, t["id"], others_note["id"]).status_code == 403  # someone else's note
    refused = upload(light, t["id"], others_note["id"])
    assert refused["Content-Type"] == "application/problem+json"
    ok = upload(light, t["id"], own_note.json()["id"])
    assert ok.status_code == 201, ok.content
    assert ok.json()["message_id"] == own_note.json()["id"]
    files = api.call("get", f"/tickets/{t['id']}/attachments").json()["items"]
    assert [f["id"] for f in files] == [ok.json()["id"]]


@pytest.mark.parametrize("role", ["agent", "admin", "owner"])
def test_signed_in_staff_cannot_post_as_the_requester(
    client: Client, api: Api, tenant_a: Tenant, role: str
) -> None:
    t = create(api)
    client.force_login(member(tenant_a, role))
    response = Api(client).call(
        "post", f"/tickets/{t['id']}/messages", {"body": "I am the customer", "as_requester": True}
    )
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    messages = api.call("get", f"/tickets/{t['id']}/messages").json()["items"]
    assert len(messages) == 1


def test_a_write_key_posts_as_the_requester_and_the_event_names_the_key(
    client: Client, api: Api, tenant_a: Tenant
) -> None:
    t = create(api)
    api.call("patch", f"/tickets/{t['id']}", {"status": "solved"})
    integration = Api(client, api_key(tenant_a, scope="write", name="mail bridge"))
    posted = integration.call(
        "post", f"/tickets/{t['id']}/messages", {"body": "Still broken", "as_requester": True}
    )
    assert posted.status_code == 201, posted.content
    body = posted.json()
    assert body["author_contact"]["email"] == "pat@customer.test" and body["author_user"] is None
    assert api.call("get", f"/tickets/{t['id']}").json()["status"] == "open"
    events = api.call("get", f"/tickets/{t['id']}/events").json()["items"]
    reopened = events[0]
    assert reopened["type"] == "ticket.updated"
    assert reopened["payload"]["reason"] == "requester replied"
    with tenant_context(tenant_a):
        prefix = ApiKey.objects.get(name="mail bridge").prefix
    assert reopened["actor_label"] == f"api-key:{prefix}" and reopened["actor_id"] is None
    with tenant_context(tenant_a):
        created = Event.objects.get(type="message.created", subject_id=str(body["id"]))
    assert created.actor_label == f"api-key:{prefix}" and created.actor_id is None
    reader = Api(client, api_key(tenant_a, scope="read"))
    denied = reader.call(
        "post", f"/tickets/{t['id']}/messages", {"body": "x", "as_requester": True}
    )
    assert denied.status_code == 403
