"""Inbox settings pages (/<tenant>/settings/inboxes/) and the delivery state on the agent's
ticket page, through the Django test client."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.credentials import credential_decrypt
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.models import Inbox
from autocrm.inboxes.tests.factories import inbox, mail
from autocrm.routing.models import Team
from autocrm.tickets.services import ticket_message_add
from autocrm.tickets.services.email import message_delivery_state_set

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Support",
    "address": "help@acme.test",
    "aliases": "hello@acme.test\nhi@acme.test",
    "default_team_id": "",
    "signature": "The Acme team",
    "inbound_enabled": "on",
    "create_contacts": "on",
    "imap_port": "993",
    "imap_security": "ssl",
    "imap_folder": "INBOX",
    "imap_processed": "flag",
    "imap_processed_folder": "Processed",
}


@pytest.fixture
def admin_client(tenant_a: Tenant) -> Client:
    client = Client()
    client.force_login(member(tenant_a, "admin", email="ada@acme.test", name="Ada Admin"))
    return client


def test_only_admins_see_the_inbox_settings(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(member(tenant_a, "agent", email="al@acme.test"))
    assert client.get("/acme/settings/inboxes/").status_code == 403
    assert client.post("/acme/settings/inboxes/new/", FORM).status_code == 403


def test_create_list_and_edit_an_inbox(admin_client: Client, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        team = Team.objects.create(tenant=tenant_a, name="Billing")
    assert "No inbox yet" in admin_client.get("/acme/settings/inboxes/").content.decode()
    created = admin_client.post(
        "/acme/settings/inboxes/new/", {**FORM, "default_team_id": str(team.pk)}
    )
    assert created.status_code == 302
    with tenant_context(tenant_a):
        box = Inbox.objects.get()
    assert created["Location"] == f"/acme/settings/inboxes/{box.pk}/"
    assert (box.aliases, box.default_team_id, box.signature) == (
        ["hello@acme.test", "hi@acme.test"],
        team.pk,
        "The Acme team",
    )
    listing = admin_client.get("/acme/settings/inboxes/").content.decode()
    assert "help@acme.test" in listing and "Forwarding or API" in listing

    # IMAP on without a password: the service's error lands on the field.
    refused = admin_client.post(
        f"/acme/settings/inboxes/{box.pk}/",
        {**FORM, "imap_enabled": "on", "imap_host": "imap.acme.test", "imap_username": "u"},
    )
    assert refused.status_code == 400
    assert "Required to fetch mail by IMAP" in refused.content.decode()
    saved = admin_client.post(
        f"/acme/settings/inboxes/{box.pk}/",
        {
            **FORM,
            "imap_enabled": "on",
            "imap_host": "imap.acme.test",
            "imap_username": "u",
            "imap_password": "pw-1",
        },
    )
    assert saved.status_code == 302
    # Saved again with the password field left empty: the stored one stays.
    admin_client.post(
        f"/acme/settings/inboxes/{box.pk}/",
        {**FORM, "imap_enabled": "on", "imap_host": "imap.acme.test", "imap_username": "u"},
    )
    with tenant_context(tenant_a):
        box.refresh_from_db()
    assert box.imap_enabled and credential_decrypt(box.imap_password) == "pw-1"
    page = admin_client.get(f"/acme/settings/inboxes/{box.pk}/").content.decode()
    assert "pw-1" not in page and box.imap_password not in page
    assert "A password is stored" in page and "Last fetched" in page and "never" in page

    # A provider posts mail: the page shows its webhook URL, never the secret.
    admin_client.post(
        f"/acme/settings/inboxes/{box.pk}/",
        {**FORM, "esp_provider": "mailgun", "esp_secret": "mg-key-1"},
    )
    with tenant_context(tenant_a):
        box.refresh_from_db()
    assert box.esp_provider == "mailgun" and credential_decrypt(box.esp_secret) == "mg-key-1"
    page = admin_client.get(f"/acme/settings/inboxes/{box.pk}/").content.decode()
    assert f"/email/inbound/mailgun/{box.esp_token}/" in page and "mg-key-1" not in page


def test_the_inbox_page_shows_the_last_error(admin_client: Client, tenant_a: Tenant) -> None:
    from autocrm.inboxes.imap import FETCH, inbox_fetch_record

    box = inbox(
        tenant_a,
        imap_enabled=True,
        imap_host="imap.acme.test",
        imap_username="u",
        imap_password="p",
    )
    inbox_fetch_record(
        tenant=tenant_a, actor=FETCH, inbox_id=box.pk, error="The server refused the login: no"
    )
    listing = admin_client.get("/acme/settings/inboxes/").content.decode()
    assert "Failing" in listing and "The server refused the login: no" in listing
    page = admin_client.get(f"/acme/settings/inboxes/{box.pk}/").content.decode()
    assert "The last fetch failed" in page and "fetch failed: The server refused" in page


def test_the_connection_test_without_a_server_says_why(
    admin_client: Client, tenant_a: Tenant, settings: object
) -> None:
    box = inbox(tenant_a)
    page = admin_client.post(
        f"/acme/settings/inboxes/{box.pk}/",
        {**FORM, "action": "test", "imap_host": "127.0.0.1", "imap_port": "1"},
        HTTP_HX_REQUEST="true",
    )
    body = page.content.decode()
    assert page.status_code == 200 and 'id="imap-test-result"' in body
    assert "The connection failed" in body and "loopback" in body  # private hosts refused
    with tenant_context(tenant_a):
        box.refresh_from_db()
    assert box.imap_host == ""  # a test saves nothing


def test_the_ticket_page_shows_each_replys_delivery_state(
    admin_client: Client, tenant_a: Tenant
) -> None:
    box = inbox(tenant_a)
    agent = member(tenant_a, "agent", email="al@acme.test")
    with tenant_context(tenant_a):
        result = email_import(tenant=tenant_a, inbox=box, raw=mail(subject="Printer"))
        assert result.ticket_id is not None
        for state in ("sent", "bounced"):
            reply = ticket_message_add(
                tenant=tenant_a,
                actor=actor_of(tenant_a, agent),
                ticket_id=result.ticket_id,
                body=f"reply {state}",
            )
            message_delivery_state_set(
                tenant=tenant_a, actor=actor_of(tenant_a, agent), message_id=reply.pk, state=state
            )
        from autocrm.tickets.models import Ticket

        number = Ticket.objects.get(pk=result.ticket_id).number
    page = admin_client.get(f"/acme/agent/tickets/{number}/").content.decode()
    assert 'data-state="sent"' in page and "Email sent" in page
    assert 'data-state="bounced"' in page and "Email bounced" in page
    assert page.count('data-testid="delivery-state"') == 2  # not on the customer's mail
