"""Notification template settings (/<tenant>/settings/notifications/templates/): admins list,
edit with a preview, save, reset; bad syntax is a form error and nothing is saved."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.models import NotificationTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(tenant_a: Tenant) -> Client:
    client = Client()
    client.force_login(member(tenant_a, "admin", email="ada@acme.test", name="Ada Admin"))
    return client


def _url(tenant: Tenant, rest: str = "") -> str:
    return f"/{tenant.slug}/settings/notifications/templates/{rest}"


def test_only_admins_see_the_pages(tenant_a: Tenant) -> None:
    agent = Client()
    agent.force_login(member(tenant_a, "agent", email="al@acme.test"))
    assert agent.get(_url(tenant_a)).status_code == 403
    assert (
        agent.post(_url(tenant_a, "ticket_solved/de/"), {"subject": "x", "body": "y"}).status_code
        == 403
    )
    with tenant_context(tenant_a):
        assert not NotificationTemplate.objects.exists()


def test_list_shows_every_kind_and_language(admin_client: Client, tenant_a: Tenant) -> None:
    page = admin_client.get(_url(tenant_a))
    assert page.status_code == 200
    html = page.content.decode()
    for kind in ("ticket_received", "agent_replied", "ticket_solved"):
        assert f'data-testid="kind-{kind}"' in html
        assert _url(tenant_a, f"{kind}/de/") in html


def test_edit_preview_save_reset(admin_client: Client, tenant_a: Tenant) -> None:
    url = _url(tenant_a, "ticket_solved/de/")
    page = admin_client.get(url)
    assert page.status_code == 200 and "Gelöst:" in page.content.decode()
    form = {"subject": "Fertig: {{ ticket.subject }}", "body": "Hallo <b>{{ requester.name }}</b>"}
    preview = admin_client.post(url, {**form, "action": "preview"})
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "Fertig: Printer on floor 3 is offline" in body
    assert "Hallo &lt;b&gt;Ada Lovelace&lt;/b&gt;" in body  # typed markup is text too
    with tenant_context(tenant_a):
        assert not NotificationTemplate.objects.exists()  # a preview saves nothing
    assert admin_client.post(url, {**form, "action": "save"}).status_code == 302
    with tenant_context(tenant_a):
        row = NotificationTemplate.objects.get(tenant=tenant_a)
        assert (row.kind, row.locale, row.subject) == ("ticket_solved", "de", form["subject"])
    assert admin_client.post(url, {"action": "reset"}).status_code == 302
    with tenant_context(tenant_a):
        assert not NotificationTemplate.objects.exists()
        types = set(Event.objects.filter(tenant=tenant_a).values_list("type", flat=True))
    assert {"notification_template.updated", "notification_template.reset"} <= types


def test_bad_syntax_is_a_form_error_and_nothing_is_saved(
    admin_client: Client, tenant_a: Tenant
) -> None:
    url = _url(tenant_a, "ticket_received/en/")
    response = admin_client.post(url, {"subject": "Hi", "body": "{% if %}", "action": "save"})
    assert response.status_code == 400
    assert "Invalid template" in response.content.decode()
    with tenant_context(tenant_a):
        assert not NotificationTemplate.objects.exists()


def test_unknown_kind_is_404(admin_client: Client, tenant_a: Tenant) -> None:
    assert admin_client.get(_url(tenant_a, "invoice/en/")).status_code == 404


def test_automatic_mails_and_the_default_language_are_switched_on_the_page(
    admin_client: Client, tenant_a: Tenant
) -> None:
    page = admin_client.get(_url(tenant_a)).content.decode()
    assert re.search(r'<input[^>]*name="email_ticket_received"[^>]*checked', page)
    saved = admin_client.post(_url(tenant_a), {"email_ticket_solved": "on", "default_locale": "de"})
    assert saved.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.setting("email_ticket_received") is False
    assert tenant_a.setting("email_ticket_solved") is True
    assert tenant_a.setting("default_locale") == "de"
    with tenant_context(tenant_a):
        changes = Event.objects.get(type="tenant.settings_updated").payload["changes"]
    assert changes["settings.email_ticket_received"] == {"from": True, "to": False}
    bad = admin_client.post(_url(tenant_a), {"default_locale": "xx"})
    assert bad.status_code == 400
    tenant_a.refresh_from_db()
    assert tenant_a.setting("default_locale") == "de"
