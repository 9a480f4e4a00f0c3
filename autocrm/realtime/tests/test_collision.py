"""A reply written while someone else wrote on the ticket is not sent silently: the reply form
carries the newest message its page showed, and a newer message by someone else brings the
page back (409) with theirs in the conversation, the reply kept, and "Send anyway"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Tenant
from autocrm.tickets import services
from autocrm.tickets.models import Message
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _last_message(html: str) -> int:
    found = re.search(r'name="last_message" value="(\d+)"', html)
    assert found is not None
    return int(found.group(1))


def test_a_reply_after_someone_elses_asks_to_confirm(client: Client, ctx: Tenant) -> None:
    alex = member(ctx, "agent", email="alex@acme.test", name="Alex Agent")
    ana = member(ctx, "agent", email="ana@acme.test", name="Ana Agent")
    t = ticket(ctx)
    client.force_login(alex)
    seen = _last_message(client.get(f"/acme/agent/tickets/{t.number}/").content.decode())
    services.ticket_message_add(
        tenant=ctx, actor=actor_of(ctx, ana), ticket_id=t.pk, body="Refund issued."
    )
    form: dict[str, Any] = {"kind": "public", "body": "I will refund you.", "last_message": seen}
    url = f"/acme/agent/tickets/{t.number}/reply/"

    refused = client.post(url, form, headers=HTMX)
    html = refused.content.decode()
    assert refused.status_code == 409
    assert "Ana Agent wrote on this ticket while you were writing" in html
    assert "Refund issued." in html and "I will refund you." in html
    assert "Send anyway" in html
    assert not Message.objects.filter(ticket=t, body_text__contains="I will refund").exists()

    # Sending again from the page that now shows Ana's reply is the confirmation.
    confirmed = client.post(url, {**form, "last_message": _last_message(html)}, headers=HTMX)
    assert confirmed.status_code == 200
    assert Message.objects.filter(ticket=t, body_text__contains="I will refund").count() == 1


def test_own_messages_and_no_news_send_at_once(client: Client, ctx: Tenant) -> None:
    alex = member(ctx, "agent", email="alex@acme.test", name="Alex Agent")
    t = ticket(ctx)
    client.force_login(alex)
    seen = _last_message(client.get(f"/acme/agent/tickets/{t.number}/").content.decode())
    services.ticket_message_add(
        tenant=ctx, actor=actor_of(ctx, alex), ticket_id=t.pk, body="First note.", public=False
    )
    sent = client.post(
        f"/acme/agent/tickets/{t.number}/reply/",
        {"kind": "public", "body": "Second.", "last_message": seen},
        headers=HTMX,
    )
    assert sent.status_code == 200 and "Reply sent." in sent.content.decode()


def test_a_customer_reply_counts_too(client: Client, ctx: Tenant) -> None:
    alex = member(ctx, "agent", email="alex@acme.test", name="Alex Agent")
    t = ticket(ctx, requester_name="Pat Customer")
    client.force_login(alex)
    seen = _last_message(client.get(f"/acme/agent/tickets/{t.number}/").content.decode())
    from autocrm.tickets.tests.factories import SYSTEM

    services.ticket_message_add(
        tenant=ctx, actor=SYSTEM, ticket_id=t.pk, body="Any news?", as_requester=True
    )
    refused = client.post(
        f"/acme/agent/tickets/{t.number}/reply/",
        {"kind": "public", "body": "Working on it.", "last_message": seen},
        headers=HTMX,
    )
    assert refused.status_code == 409 and "Pat Customer wrote" in refused.content.decode()
