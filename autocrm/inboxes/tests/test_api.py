from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import api_key, bearer
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes import events
from autocrm.inboxes.models import InboundEmail, Inbox
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.tickets.models import Message, Ticket
from autocrm.tickets.tests.api_client import Api

pytestmark = pytest.mark.django_db

NEW = {
    "name": "Billing",
    "address": "Billing@Acme.test",
    "aliases": ["invoices@acme.test"],
    "signature": "The billing team",
}


def post_raw(api: Api, box_id: int, raw: bytes, content_type: str = "message/rfc822") -> Any:
    return api.client.post(
        f"/api/v1/inboxes/{box_id}/raw", data=raw, content_type=content_type, headers=api.headers
    )


def test_create_list_get_patch(api: Api, tenant_a: Tenant) -> None:
    created = api.call("post", "/inboxes", NEW)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["address"] == "billing@acme.test"
    assert body["aliases"] == ["invoices@acme.test"]
    listed = api.call("get", "/inboxes").json()
    assert [i["id"] for i in listed["items"]] == [body["id"]]
    assert listed["next_cursor"] is None
    assert api.call("get", f"/inboxes/{body['id']}").json()["name"] == "Billing"
    patched = api.call(
        "patch", f"/inboxes/{body['id']}", {"signature": "Regards", "create_contacts": False}
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["signature"] == "Regards"
    assert patched.json()["create_contacts"] is False
    with tenant_context(tenant_a):
        types = list(
            Event.objects.filter(subject_type="inboxes.inbox")
            .values_list("type", flat=True)
            .order_by("pk")
        )
    assert types == [events.INBOX_CREATED, events.INBOX_UPDATED]


def test_list_pages(api: Api, tenant_a: Tenant) -> None:
    for n in range(3):
        inbox(tenant_a, address=f"box{n}@acme.test", name=f"Box {n}")
    first = api.call("get", "/inboxes?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.call("get", f"/inboxes?limit=2&cursor={first['next_cursor']}").json()
    assert [i["name"] for i in first["items"] + second["items"]] == ["Box 0", "Box 1", "Box 2"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"address": "not an address"}, "address"),
        ({"aliases": ["fine@acme.test", "bad"]}, "aliases"),
        ({"default_team_id": 999999}, "default_team_id"),
        ({"name": "  "}, "name"),
    ],
)
def test_invalid_settings_are_422(api: Api, change: dict[str, Any], field: str) -> None:
    response = api.call("post", "/inboxes", {**NEW, **change})
    assert response.status_code == 422, response.content
    assert field in response.content.decode()


def test_duplicate_address_is_422(api: Api) -> None:
    assert api.call("post", "/inboxes", NEW).status_code == 201
    response = api.call("post", "/inboxes", {**NEW, "name": "Other"})
    assert response.status_code == 422
    assert "address" in response.json()["detail"] or "address" in response.content.decode()


def test_agents_read_but_only_admins_write(client: Client, tenant_a: Tenant, box: Inbox) -> None:
    reader = Api(client, api_key(tenant_a, scope="read"))
    assert reader.call("get", "/inboxes").status_code == 200
    assert reader.call("post", "/inboxes", NEW).status_code == 403
    writer = Api(client, api_key(tenant_a, scope="write"))
    assert writer.call("patch", f"/inboxes/{box.pk}", {"name": "x"}).status_code == 403


def test_raw_import_creates_then_dedupes(api: Api, tenant_a: Tenant, box: Inbox) -> None:
    raw = mail(subject="Refund please", text="I was charged twice.")
    first = post_raw(api, box.pk, raw)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created_ticket"] is True and body["outcome"] == "created"
    again = post_raw(api, box.pk, raw)
    assert again.status_code == 200
    assert again.json()["ticket_id"] == body["ticket_id"]
    assert again.json()["message_id"] == body["message_id"]
    with tenant_context(tenant_a):
        ticket = Ticket.objects.get(pk=body["ticket_id"])
        assert ticket.subject == "Refund please" and ticket.channel == "email"
        assert ticket.requester.email == "pat@customer.test"
        assert Message.objects.filter(ticket=ticket).count() == 1
        assert InboundEmail.objects.count() == 1
    emails = api.call("get", f"/inboxes/{box.pk}/emails").json()["items"]
    assert [(e["outcome"], e["reason"]) for e in emails] == [("created", "new")]


def test_raw_import_of_an_auto_reply_is_logged_not_a_ticket(
    api: Api, tenant_a: Tenant, box: Inbox
) -> None:
    response = post_raw(
        api, box.pk, mail(headers={"Auto-Submitted": "auto-replied"}, subject="Out of office")
    )
    assert response.status_code == 201
    assert response.json() == {
        "ticket_id": None,
        "message_id": None,
        "created_ticket": False,
        "outcome": "ignored",
        "reason": "auto_reply",
    }
    with tenant_context(tenant_a):
        assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "raw, status, words",
    [
        (b"\r\n\r\n", 422, "empty"),
        (b"\x00\x01\x02 just bytes, no headers", 422, "header"),
        (b"Subject: hi\r\n\r\nno sender at all\r\n", 422, "sender"),
        (
            b"From: pat@customer.test\r\n"
            b"Subject: =?utf-8?q?hi=0D=0ABcc:_victim@example.test?=\r\n\r\nx\r\n",
            422,
            "injection",
        ),
        (
            b"From: pat@customer.test\r\n"
            b"Reply-To: =?utf-8?q?a@b.test=0ABcc:_c@d.test?=\r\n\r\nx\r\n",
            422,
            "injection",
        ),
    ],
)
def test_bad_mail_is_a_clear_4xx_and_leaves_nothing(
    api: Api, tenant_a: Tenant, box: Inbox, raw: bytes, status: int, words: str
) -> None:
    response = post_raw(api, box.pk, raw)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert words in response.content.decode().lower()
    with tenant_context(tenant_a):
        assert not Ticket.objects.exists() and not InboundEmail.objects.exists()


_HEAD = b"From: Pat <pat@customer.test>\r\nTo: support@acme.test\r\nSubject: Broken\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        # A multipart whose boundary never appears, and one never closed.
        _HEAD + b'Content-Type: multipart/mixed; boundary="nowhere"\r\n\r\nJust text.\r\n',
        _HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nCut off here",
        # base64 that is not, a charset that does not exist, 8-bit bytes undeclared.
        _HEAD + b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%%% not base64 ***\r\n",
        _HEAD + b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nHello \xff\xfe\r\n",
        # A part without headers, nesting with no end, a Content-Type that is not one.
        _HEAD + b'Content-Type: multipart/alternative; boundary="a"\r\n\r\n--a\r\n\r\n'
        b'--a\r\nContent-Type: multipart/related; boundary="c"\r\n\r\n--c\r\n',
        _HEAD + b"Content-Type: ;;;==\r\nContent-Disposition: attachment; filename=\r\n\r\nx\r\n",
    ],
)
def test_a_malformed_mime_body_is_imported_whole_or_refused_never_half(
    api: Api, tenant_a: Tenant, box: Inbox, raw: bytes
) -> None:
    response = post_raw(api, box.pk, raw)
    assert response.status_code in {201, 422}, response.content
    with tenant_context(tenant_a):
        tickets = Ticket.objects.count()
        if response.status_code == 201:  # lenient parse: a whole ticket, its text kept
            row = InboundEmail.objects.get()
            message = Message.objects.get(pk=response.json()["message_id"])
            assert tickets == 1 and row.message_id == message.pk and message.body_text
        else:
            assert tickets == 0 and not InboundEmail.objects.exists()


def test_wrong_media_type_is_415(api: Api, box: Inbox) -> None:
    response = post_raw(api, box.pk, b'{"a": 1}', content_type="application/json")
    assert response.status_code == 415


def test_a_50_mb_message_is_413_before_it_is_read(
    client: Client, tenant_a: Tenant, box: Inbox
) -> None:
    headers = bearer(api_key(tenant_a, scope="write"))
    response = client.generic(
        "POST",
        f"/api/v1/inboxes/{box.pk}/raw",
        data=b"x",
        content_type="message/rfc822",
        headers=headers,
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_another_tenants_inbox_is_404(client: Client, tenant_a: Tenant, tenant_b: Tenant) -> None:
    theirs = inbox(tenant_b, address="support@globex.test")
    api = Api(client, api_key(tenant_a))
    assert api.call("get", f"/inboxes/{theirs.pk}").status_code == 404
    assert post_raw(api, theirs.pk, mail(to="support@globex.test")).status_code == 404
    with tenant_context(tenant_b):
        assert not InboundEmail.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_whole_original_and_the_raw_eml_are_viewable(api: Api, box: Inbox) -> None:
    raw = mail(text="New words.\n\nOn Mon, Pat <p@x.test> wrote:\n> old words\n")
    created = post_raw(api, box.pk, raw).json()
    listed = api.call("get", f"/inboxes/{box.pk}/emails").json()["items"]
    detail = api.call("get", f"/inboxes/{box.pk}/emails/{listed[0]['id']}").json()
    assert detail["message_id"] == created["message_id"]
    assert "old words" in detail["text_full"]
    download = api.client.get(
        f"/api/v1/inboxes/{box.pk}/emails/{listed[0]['id']}/raw", headers=api.headers
    )
    assert download.status_code == 200
    assert download["Content-Type"] == "message/rfc822"
    assert b"".join(download.streaming_content) == raw  # type: ignore[attr-defined]
