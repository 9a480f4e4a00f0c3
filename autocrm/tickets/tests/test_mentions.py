"""Composer HTML and @mentions: the sanitiser keeps exactly what the editor produces, and a
note's mentions of the tenant's staff reach the message event (for notifications)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from autocrm.accounts.tests.factories import actor_of, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import services
from autocrm.tickets.content import normalize_body, sanitize_composer_html
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(tenant_a: Tenant) -> Iterator[Tenant]:
    with tenant_context(tenant_a):
        yield tenant_a


EDITOR_HTML = (
    "<p><strong>Bold</strong> <em>it</em> <s>gone</s> <code>x = 1</code> "
    '<a target="_blank" rel="noopener noreferrer nofollow" href="https://example.com">link</a></p>'
    "<ul><li><p>one</p></li></ul><ol><li><p>two</p></li></ol>"
    "<blockquote><p>quoted</p></blockquote><pre><code>block</code></pre>"
    '<p><img src="/acme/agent/attachments/7/?preview=1" alt="shot.png">'
    '<span class="mention" data-user-id="12">@Bea</span></p>'
)


def _mention(user_id: int, name: str) -> str:
    return f'<span class="mention" data-user-id="{user_id}">@{name}</span>'


def test_the_composer_sanitiser_keeps_what_the_editor_produces() -> None:
    cleaned = sanitize_composer_html(EDITOR_HTML)
    for kept in (
        "<strong>Bold</strong>",
        "<em>it</em>",
        "<s>gone</s>",
        "<code>x = 1</code>",
        'href="https://example.com"',
        "<li><p>one</p></li>",
        "<blockquote>",
        "<pre><code>block</code></pre>",
        '<img src="/acme/agent/attachments/7/?preview=1" alt="shot.png">',
        _mention(12, "Bea"),
    ):
        assert kept in cleaned, kept


@pytest.mark.parametrize(
    ("raw", "gone"),
    [
        ("<h1>big</h1>", "<h1>"),
        ("<table><tr><td>x</td></tr></table>", "<table>"),
        ('<span class="mention evil" style="color:red" data-user-id="1">@A</span>', "evil"),
        ('<span style="color:red">x</span>', "style"),
        ('<img src="javascript:alert(1)">', "javascript"),
        ('<img src="x" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ("<script>alert(1)</script>", "<script"),
    ],
)
def test_the_composer_sanitiser_drops_anything_else(raw: str, gone: str) -> None:
    assert gone not in sanitize_composer_html(raw)


def test_plain_text_from_the_composer_is_escaped_not_parsed() -> None:
    html, text = normalize_body("a < b and 1 > 0", "composer")
    assert "a &lt; b and 1 &gt; 0" in html and text == "a < b and 1 > 0"


def _created_event(tenant: Tenant) -> Any:
    return Event.objects.filter(tenant=tenant, type="message.created").latest("id")


def test_a_note_names_the_mentioned_staff_in_its_event(ctx: Tenant) -> None:
    author = member(ctx, "agent", name="Alex")
    bea = member(ctx, "agent", name="Bea")
    light = member(ctx, "light_agent", name="Lee")
    customer = member(ctx, "customer", name="Cora")
    t = ticket(ctx)
    body = (
        f"<p>{_mention(bea.pk, 'Bea')} {_mention(light.pk, 'Lee')} "
        f"{_mention(customer.pk, 'Cora')} {_mention(999_999, 'Ghost')}</p>"
    )
    message = services.ticket_message_add(
        tenant=ctx,
        actor=actor_of(ctx, author),
        ticket_id=t.pk,
        body=body,
        body_format="composer",
        public=False,
    )
    assert _mention(bea.pk, "Bea") in message.body_html
    assert _created_event(ctx).payload["mentioned_user_ids"] == sorted([bea.pk, light.pk])


def test_staff_of_another_tenant_are_never_mentioned(ctx: Tenant, tenant_b: Tenant) -> None:
    author = member(ctx, "agent")
    stranger = member(tenant_b, "agent")
    t = ticket(ctx)
    services.ticket_message_add(
        tenant=ctx,
        actor=actor_of(ctx, author),
        ticket_id=t.pk,
        body=f"<p>{_mention(stranger.pk, 'Stranger')}</p>",
        body_format="composer",
        public=False,
    )
    assert _created_event(ctx).payload["mentioned_user_ids"] == []


def test_a_public_reply_mentions_nobody(ctx: Tenant) -> None:
    author, bea = member(ctx, "agent"), member(ctx, "agent")
    t = ticket(ctx)
    services.ticket_message_add(
        tenant=ctx,
        actor=actor_of(ctx, author),
        ticket_id=t.pk,
        body=f"<p>{_mention(bea.pk, 'Bea')}</p>",
        body_format="composer",
        public=True,
    )
    assert _created_event(ctx).payload["mentioned_user_ids"] == []
