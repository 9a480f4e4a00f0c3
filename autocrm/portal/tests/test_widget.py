"""The embeddable widget: the script is built into static/, its pages may be framed by other
sites (and are the only help pages that may), it searches public articles, asks the
assistant (public articles only, citations, "I don't know", hand-off as a ticket) without
cookies or CSRF token, is rate-limited, and the settings page shows the snippet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from autocrm.accounts.tests.factories import member
from autocrm.ai.chatbot import DONT_KNOW
from autocrm.ai.handoff import confirm_token, handoff_confirm
from autocrm.ai.indexing import INDEX_ACTOR, tenant_reindex
from autocrm.ai.models import PendingHandoff
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.tests.factories import article
from autocrm.portal.tests.helpers import customer, signed_in
from autocrm.tickets.models import Channel, Message, Ticket

pytestmark = pytest.mark.django_db


def test_the_widget_script_is_built_from_the_repository_source() -> None:
    built = Path(settings.BASE_DIR) / "static" / "vendor" / "help-widget" / "help-widget.js"
    assert built.exists(), "run `node scripts/build-assets.mjs` (make install does)"
    assert "attachShadow" in built.read_text()


def test_the_widget_page_searches_public_articles_and_may_be_framed(
    client: Client, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        public = article(tenant_a)
        article(tenant_a, title="Reset password internals", visibility="internal")
    response = client.get("/acme/help/widget/", {"q": "reset password"})
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    body = response.content.decode()
    assert f'href="/acme/help/articles/{public.pk}/" target="_blank"' in body
    assert "internals" not in body
    assert 'href="/acme/help/requests/new/" target="_blank"' in body
    # Every other help page keeps refusing to be framed.
    assert client.get("/acme/help/").get("X-Frame-Options") == "DENY"
    assert client.get("/acme/help/account/signup/").get("X-Frame-Options") == "DENY"


def test_the_settings_page_shows_the_snippet(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(member(tenant_a, "admin"))
    body = client.get("/acme/settings/help-centre/").content.decode()
    assert "/static/vendor/help-widget/help-widget.js" in body
    assert "data-help-url=&quot;http://testserver/acme/help/&quot;" in body


ASSISTANT = "/acme/help/widget/assistant/"
HANDOFF = "/acme/help/widget/assistant/handoff/"


@pytest.fixture
def indexed(tenant_a: Tenant, tenant_b: Tenant) -> Tenant:
    with tenant_context(tenant_a):
        article(
            tenant_a,
            title="Delivery times",
            body="Parcels arrive within three working days in Germany. "
            "Type `<img src=x onerror=alert(1)><script>alert(2)</script>` nowhere.",
        )
        article(
            tenant_a,
            title="Carrier escalation",
            visibility="internal",
            body="Late parcels: call the carrier hotline with account code 7741.",
        )
        tenant_reindex(tenant=tenant_a, actor=INDEX_ACTOR)
    with tenant_context(tenant_b):
        article(tenant_b, title="Globex delivery", body="Globex parcels take 9912 hours.")
        tenant_reindex(tenant=tenant_b, actor=INDEX_ACTOR)
    return tenant_a


def token_in(body: str) -> str:
    found = re.search(r'name="conversation" value="([^"]*)"', body)
    assert found is not None
    return found.group(1)


def test_the_widget_asks_the_assistant_without_cookies_or_csrf_token(indexed: Tenant) -> None:
    # A page framed by another site gets no cookies: a client with none, CSRF enforced.
    widget = Client(enforce_csrf_checks=True)
    start = widget.get(ASSISTANT)
    assert start.status_code == 200 and "X-Frame-Options" not in start
    assert 'aria-current="page">Ask the assistant' in start.content.decode()
    asked = widget.post(
        ASSISTANT,
        {
            "question": "How long does delivery take?",
            "conversation": token_in(start.content.decode()),
        },
    )
    assert asked.status_code == 200 and "X-Frame-Options" not in asked
    body = asked.content.decode()
    assert "three working days" in body and 'data-answered="yes"' in body
    assert re.search(
        r'href="/acme/help/articles/\d+-delivery-times/" target="_blank" rel="noopener">', body
    )
    # Markup in an article's body never reaches the page as markup.
    assert "<img src=x" not in body and "<script>alert(2)" not in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body  # quoted as text
    for secret in ("7741", "9912"):
        assert secret not in body

    again = widget.post(
        ASSISTANT,
        {"question": "<script>alert(1)</script> apple pie recipe?", "conversation": token_in(body)},
    )
    body = again.content.decode()
    # Script in the question is shown as text, never run.
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; apple pie recipe?" in body
    assert "three working days" in body  # the conversation so far came back with the token
    assert 'data-answered="no"' in body and escape(DONT_KNOW) in body
    assert '<details class="card widget-chat-handoff" open>' in body


def test_hand_off_makes_a_ticket_with_the_transcript(indexed: Tenant) -> None:
    widget = Client(enforce_csrf_checks=True)
    asked = widget.post(ASSISTANT, {"question": "Where is my parcel 123?", "conversation": ""})
    token = token_in(asked.content.decode())
    missing = widget.post(HANDOFF, {"conversation": token, "email": ""})
    assert missing.status_code == 400 and "Your email address" in missing.content.decode()
    with tenant_context(indexed):
        assert not Ticket.objects.exists()
    done = widget.post(HANDOFF, {"conversation": token, "email": "vic@example.test", "name": "Vic"})
    assert done.status_code == 200
    assert "we sent a link to vic@example.test" in done.content.decode()
    with tenant_context(indexed):
        # A visitor's address is confirmed before agents see a request from it.
        assert not Ticket.objects.exists()
        created = handoff_confirm(
            tenant=indexed, token=confirm_token(indexed, PendingHandoff.objects.get())
        )
        transcript = Message.objects.get(ticket=created).body_text
    assert created.subject == "Where is my parcel 123?" and created.channel == Channel.CHAT
    assert created.requester.name == "Vic"
    assert (
        "Customer: Where is my parcel 123?" in transcript
        and "Assistant: I don't know" in transcript
    )
    # The page starts a fresh conversation: nothing to hand off twice.
    assert 'name="email"' not in done.content.decode()
    assert widget.get(HANDOFF)["Location"] == ASSISTANT  # a reload: a fresh page


def test_an_altered_or_foreign_token_is_refused(indexed: Tenant, tenant_b: Tenant) -> None:
    widget = Client()
    token = token_in(widget.post(ASSISTANT, {"question": "Delivery?"}).content.decode())
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (forged, "x" * 40):
        response = widget.post(HANDOFF, {"conversation": bad, "email": "vic@example.test"})
        assert response.status_code == 400 and "expired" in response.content.decode()
    foreign = widget.post(
        f"/{tenant_b.slug}/help/widget/assistant/handoff/",
        {"conversation": token, "email": "v@example.test"},
    )
    assert foreign.status_code == 400
    with tenant_context(indexed):
        assert not Ticket.objects.exists()
    with tenant_context(tenant_b):
        assert not Ticket.objects.exists()


def test_a_signed_in_session_is_not_used_in_the_widget(indexed: Tenant) -> None:
    """Same-site embedding sends the cookie: the widget still acts as a visitor, so a
    forged post cannot file a request in a customer's name."""
    client = signed_in(customer(indexed))
    token = token_in(
        client.post(ASSISTANT, {"question": "Where is my parcel 123?"}).content.decode()
    )
    response = client.post(HANDOFF, {"conversation": token})
    assert response.status_code == 400 and "Your email address" in response.content.decode()


def test_the_widget_is_rate_limited(indexed: Tenant, settings: Any) -> None:
    settings.HELP_WIDGET_REQUESTS_PER_MINUTE = 2
    widget = Client(REMOTE_ADDR="203.0.113.9")
    assert widget.get("/acme/help/widget/").status_code == 200
    assert widget.get(ASSISTANT).status_code == 200
    limited = widget.post(ASSISTANT, {"question": "How long does delivery take?"})
    assert limited.status_code == 429 and "Retry-After" in limited
    assert "Too many requests" in limited.content.decode()
    assert widget.get("/acme/help/widget/", {"q": "delivery"}).status_code == 429
    # Another address is counted on its own.
    assert Client(REMOTE_ADDR="203.0.113.10").get(ASSISTANT).status_code == 200


def test_hand_offs_have_their_own_lower_limit(indexed: Tenant, settings: Any) -> None:
    settings.HELP_WIDGET_HANDOFFS_PER_MINUTE = 1
    widget = Client(REMOTE_ADDR="203.0.113.20")
    for expected in (200, 429):
        token = token_in(
            widget.post(ASSISTANT, {"question": "Where is my parcel?"}).content.decode()
        )
        response = widget.post(HANDOFF, {"conversation": token, "email": "vic@example.test"})
        assert response.status_code == expected
    with tenant_context(indexed):
        assert PendingHandoff.objects.count() == 1  # waiting for vic to confirm
