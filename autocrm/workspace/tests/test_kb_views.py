from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.models import Article, Upload
from autocrm.knowledge.tests.factories import SYSTEM, article, category
from autocrm.tickets import services as ticket_services
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def agent(tenant_a) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(member(tenant_a, "agent"))
    return client


def test_list_create_edit_and_history(agent: Client, tenant_a) -> None:  # type: ignore[no-untyped-def]
    assert agent.get("/acme/kb/").status_code == 200
    with tenant_context(tenant_a):
        c = category(tenant_a)
    created = agent.post(
        "/acme/kb/new/",
        {
            "title": "Reset your password",
            "body": "!!! tip\n    Links expire.\n",
            "locale": "en",
            "state": "draft",
            "visibility": "public",
            "section": f"c{c.pk}",
            "tags": "login, password",
        },
    )
    assert created.status_code == 302, created.content
    with tenant_context(tenant_a):
        a = Article.objects.get()
    assert (a.category_id, a.tags) == (c.pk, ["login", "password"])
    saved = agent.post(
        f"/acme/kb/{a.pk}/",
        {
            "title": "Reset your password",
            "body": "New text",
            "state": "published",
            "visibility": "public",
            "section": "",
            "note": "Simpler",
        },
    )
    assert saved.status_code == 302
    history = agent.get(f"/acme/kb/{a.pk}/history/").content.decode()
    assert "Simpler" in history and 'class="kb-diff-add">+ New text' in history
    assert agent.post(f"/acme/kb/{a.pk}/history/1/restore/").status_code == 302
    with tenant_context(tenant_a):
        a.refresh_from_db()
    assert a.version == 3 and "Links expire" in a.body
    listed = agent.get("/acme/kb/?q=password").content.decode()
    assert "Reset your password" in listed


def test_editor_shows_refused_markdown_as_form_errors(agent: Client, tenant_a) -> None:  # type: ignore[no-untyped-def]
    response = agent.post(
        "/acme/kb/new/",
        {
            "title": "X",
            "body": "<script>alert(1)</script>",
            "locale": "en",
            "state": "draft",
            "visibility": "public",
        },
    )
    assert response.status_code == 200
    assert "Raw HTML (&lt;script&gt;) is not allowed" in response.content.decode()
    with tenant_context(tenant_a):
        assert not Article.objects.exists()


def test_preview_renders_and_reports_problems(agent: Client) -> None:
    data = agent.post("/acme/kb/preview/", {"body": "**hi** [x](javascript:alert(1))"}).json()
    assert "<strong>hi</strong>" in data["html"] and "javascript" not in data["html"].split("x")[0]
    assert any("javascript:" in p for p in data["problems"])


def test_image_upload_checks_type_and_size(  # type: ignore[no-untyped-def]
    agent: Client, tenant_a, settings, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # the file is stored on commit
        ok = agent.post("/acme/kb/uploads/", {"file": SimpleUploadedFile("shot.png", PNG)})
    assert ok.status_code == 201
    url = ok.json()["url"]
    assert ok.json()["markdown"] == f"![shot]({url})"
    image = Client().get(url)
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content) == PNG  # type: ignore[attr-defined]
    forged = url.rsplit("/", 2)[0] + "/forged/shot.png"
    assert Client().get(forged).status_code == 404
    svg = agent.post(
        "/acme/kb/uploads/",
        {"file": SimpleUploadedFile("x.png", b"<svg onload=alert(1)></svg>")},
    )
    assert svg.status_code == 400 and "Only PNG, JPEG, GIF or WebP" in svg.json()["error"]
    settings.KB_UPLOAD_MAX_BYTES = 10
    big = agent.post("/acme/kb/uploads/", {"file": SimpleUploadedFile("b.png", PNG)})
    assert big.status_code == 400 and "limit" in big.json()["error"]
    with tenant_context(tenant_a):
        assert Upload.objects.count() == 1


def test_picker_and_draft_from_solved_ticket(agent: Client, tenant_a) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        article(tenant_a, title="Printer offline", body="Restart the **spooler**.")
        article(tenant_a, title="Printer internal notes", visibility="internal")
        t = ticket(tenant_a, subject="Printer <b>offline</b> again", body="It is offline [again]")
    items = agent.get("/acme/kb/picker/?q=printer").json()["items"]
    by_title = {i["title"]: i for i in items}
    assert by_title["Printer offline"]["url"].endswith("-printer-offline/")
    assert by_title["Printer offline"]["text"] == "Restart the spooler."
    assert by_title["Printer internal notes"]["internal"] is True
    assert by_title["Printer internal notes"]["url"] == ""
    page = agent.get(f"/acme/agent/tickets/{t.number}/").content.decode()
    assert "data-kb-picker" in page and "Create an article draft" not in page
    refused = agent.post(f"/acme/kb/from-ticket/{t.number}/", follow=True)
    assert "Only a solved or closed ticket" in refused.content.decode()
    with tenant_context(tenant_a):
        ticket_services.ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, changes={"status": "solved"}
        )
    assert (
        "Create an article draft" in agent.get(f"/acme/agent/tickets/{t.number}/").content.decode()
    )
    made = agent.post(f"/acme/kb/from-ticket/{t.number}/")
    assert made.status_code == 302 and "/acme/kb/" in made["Location"], made["Location"]
    with tenant_context(tenant_a):
        draft = Article.objects.get(source_ticket_id=t.pk)
    assert draft.state == "draft" and "It is offline \\[again\\]" in draft.body


def test_customers_and_other_tenants_cannot_open_agent_pages(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    customer = Client()
    customer.force_login(member(tenant_a, "customer"))
    assert customer.get("/acme/kb/").status_code == 403
    with tenant_context(tenant_b):
        theirs = article(tenant_b)
    outsider = Client()
    outsider.force_login(member(tenant_a, "agent"))
    assert outsider.get(f"/globex/kb/{theirs.pk}/").status_code == 404
