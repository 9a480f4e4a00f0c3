"""My requests in the help centre: submit (fields, files), read the public conversation,
reply, mark solved; never internal notes, others' tickets or another tenant's anything."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company
from autocrm.portal.tests.helpers import PDF, PNG, customer, signed_in, ticket_of
from autocrm.tickets import services
from autocrm.tickets.models import Attachment, CustomField, Message, Ticket

pytestmark = pytest.mark.django_db


def _new(client: Client, **data: object):  # type: ignore[no-untyped-def]
    values: dict[str, object] = {"subject": "Printer on fire", "body": "Smoke everywhere."}
    values.update(data)
    return client.post("/acme/help/requests/new/", values)


def test_a_customer_submits_a_request_with_files(tenant_a: Tenant) -> None:
    user = customer(tenant_a)
    client = signed_in(user)
    assert client.get("/acme/help/requests/new/").status_code == 200
    response = _new(
        client,
        attachments=[
            SimpleUploadedFile("shot.png", PNG, content_type="image/png"),
            SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"),
        ],
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        t = Ticket.objects.get(tenant=tenant_a, subject="Printer on fire")
        names = sorted(Attachment.objects.filter(ticket=t).values_list("filename", flat=True))
        assert t.requester.user_id == user.pk
    assert t.channel == "portal" and t.status == "new"
    assert names == ["invoice.pdf", "shot.png"]
    assert response["Location"] == f"/acme/help/requests/{t.number}/"
    page = client.get(response["Location"]).content.decode()
    assert "Smoke everywhere." in page and "shot.png" in page


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00" + b"\x00" * 200),
            "not a file type we accept",
        ),
        (
            SimpleUploadedFile("page.html", b"<html><script>alert(1)</script></html>"),
            "not a file type we accept",
        ),
        (SimpleUploadedFile("fake.png", b"<svg onload=alert(1)>"), "not a file type we accept"),
        (SimpleUploadedFile("empty.txt", b""), "The submitted file is empty"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(
    tenant_a: Tenant, upload: SimpleUploadedFile, message: str
) -> None:
    client = signed_in(customer(tenant_a))
    response = _new(client, attachments=[SimpleUploadedFile("ok.png", PNG), upload])
    assert response.status_code == 400
    assert message in response.content.decode()
    with tenant_context(tenant_a):
        assert not Ticket.objects.filter(tenant=tenant_a).exists()
        assert not Attachment.objects.filter(tenant=tenant_a).exists()


def test_an_oversize_file_is_refused(tenant_a: Tenant, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ATTACHMENT_MAX_BYTES = 1024
    client = signed_in(customer(tenant_a))
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * 2048)
    response = _new(client, attachments=[big])
    assert response.status_code == 400
    assert "files may be at most" in response.content.decode()
    with tenant_context(tenant_a):
        assert not Ticket.objects.filter(tenant=tenant_a).exists()


def test_script_in_any_field_is_shown_as_text(tenant_a: Tenant) -> None:
    client = signed_in(customer(tenant_a))
    response = _new(
        client,
        subject="<script>alert('s')</script>",
        body="<img src=x onerror=alert(1)><script>alert('b')</script>",
    )
    page = client.get(response["Location"]).content.decode()
    assert "<script>alert(" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;s&#x27;)&lt;/script&gt;" in page


def test_customer_visible_custom_fields(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        CustomField.objects.create(
            tenant=tenant_a, key="plan", label="Plan", field_type="dropdown",
            options=["Basic", "Pro"], required=True,
        )  # fmt: skip
        CustomField.objects.create(
            tenant=tenant_a, key="churn_risk", label="Churn risk", field_type="text", required=True
        )
    tenant_a.settings["customer_visible_fields"] = ["plan"]
    tenant_a.save()
    client = signed_in(customer(tenant_a))
    form = client.get("/acme/help/requests/new/").content.decode()
    assert "Plan" in form and "Churn risk" not in form
    missing = _new(client)
    assert missing.status_code == 400 and "This field is required" in missing.content.decode()
    assert _new(client, cf_plan="Pro").status_code == 302  # a hidden required field is not asked
    with tenant_context(tenant_a):
        assert Ticket.objects.get(tenant=tenant_a).custom_fields == {"plan": "Pro"}


def test_the_conversation_shows_public_replies_never_internal_notes(tenant_a: Tenant) -> None:
    user = customer(tenant_a)
    t = ticket_of(tenant_a, user)
    with tenant_context(tenant_a):
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="We are on it.", public=True
        )
        note = services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="SECRET-NOTE", public=False
        )
        f = SimpleUploadedFile("internal.pdf", PDF)
        from autocrm.tickets.attachments import attachment_create

        hidden = attachment_create(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, upload=f, filename="internal.pdf",
            size=len(PDF), message_id=note.pk,
        )  # fmt: skip
    client = signed_in(user)
    page = client.get(f"/acme/help/requests/{t.number}/").content.decode()
    assert "We are on it." in page
    assert "SECRET-NOTE" not in page and "internal.pdf" not in page
    assert client.get(f"/acme/help/requests/files/{hidden.pk}/").status_code == 404


def test_others_tickets_are_404(tenant_a: Tenant, tenant_b: Tenant) -> None:
    user = customer(tenant_a)
    other = ticket_of(tenant_a, customer(tenant_a, name="Someone Else"))
    client = signed_in(user)
    assert client.get(f"/acme/help/requests/{other.number}/").status_code == 404
    assert client.post(f"/acme/help/requests/{other.number}/", {"body": "x"}).status_code == 404
    assert client.post(f"/acme/help/requests/{other.number}/solve/").status_code == 404
    assert "Someone Else" not in client.get("/acme/help/requests/?status=all").content.decode()
    # Another tenant's help centre is closed to them, and its requests too.
    foreign = ticket_of(tenant_b, customer(tenant_b))
    assert client.get(f"/globex/help/requests/{foreign.number}/").status_code == 404
    assert client.get("/globex/help/requests/").status_code == 404


def test_reply_with_a_file_and_mark_solved(tenant_a: Tenant) -> None:
    user = customer(tenant_a)
    t = ticket_of(tenant_a, user)
    client = signed_in(user)
    url = f"/acme/help/requests/{t.number}/"
    response = client.post(
        url, {"body": "Here is a screenshot.", "attachments": [SimpleUploadedFile("s.png", PNG)]}
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        reply = Message.objects.filter(ticket=t).latest("created_at")
        assert reply.author_contact_id == t.requester_id and reply.public
        assert Attachment.objects.filter(ticket=t, filename="s.png").exists()
    assert client.post(url + "solve/").status_code == 302
    with tenant_context(tenant_a):
        t.refresh_from_db()
    assert t.status == "solved"
    assert "Mark as solved" not in client.get(url).content.decode()
    # Replying to a solved request re-opens it.
    client.post(url, {"body": "Sorry, it is back."})
    with tenant_context(tenant_a):
        t.refresh_from_db()
    assert t.status == "open"


def test_company_requests_when_the_tenant_allows(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        company = Company.objects.create(tenant=tenant_a, name="Initech")
    me = customer(tenant_a, company=company)
    colleague = customer(tenant_a, name="Colleague Carl", company=company)
    t = ticket_of(tenant_a, colleague, subject="Colleague's printer")
    with tenant_context(tenant_a):
        Ticket.objects.filter(pk=t.pk).update(organization=company)
    client = signed_in(me)
    assert client.get(f"/acme/help/requests/{t.number}/").status_code == 404
    assert "My company" not in client.get("/acme/help/requests/").content.decode()
    tenant_a.settings["customers_see_organization_tickets"] = True
    tenant_a.save()
    listing = client.get("/acme/help/requests/?scope=company").content.decode()
    assert "Colleague&#x27;s printer" in listing
    assert "Colleague&#x27;s printer" not in client.get("/acme/help/requests/").content.decode()
    assert client.get(f"/acme/help/requests/{t.number}/").status_code == 200


def test_staff_see_the_customer_side_without_notes(tenant_a: Tenant) -> None:
    agent = member(tenant_a, "agent")
    client = signed_in(agent)
    assert client.get("/acme/help/requests/").status_code == 200
