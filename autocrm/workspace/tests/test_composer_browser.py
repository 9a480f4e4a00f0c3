"""The rich-text composer in headless Chromium: formatting, an @mention in a note (its id in
the event), a pasted image uploaded and shown inline, and undo-send (undo keeps the text;
a reload during the countdown brings the draft back, unsent)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.testing.browser import screenshot, sign_in
from autocrm.tickets.models import Attachment, Message, Ticket
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A 1x1 red PNG.
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
    "AAAABJRU5ErkJggg=="
)


def _seed() -> tuple[Tenant, Any, Ticket]:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    agent = member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    member(tenant, "agent", email="bea@acme.test", name="Bea Berger")
    with tenant_context(tenant):
        t = ticket(tenant, subject="Printer on fire")
    return tenant, agent, t


def _open_ticket(page: Page, settings: Any, undo_seconds: int = 1) -> tuple[Tenant, Ticket, Any]:
    """Alex on a fresh ticket's page, its scripts run: (tenant, ticket, the editor)."""
    settings.COMPOSER_UNDO_SECONDS = undo_seconds
    tenant, _agent, t = _seed()
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/tickets/{t.number}/")
    page.wait_for_load_state("networkidle")
    return tenant, t, page.get_by_role("textbox", name="Message")


def _messages(tenant: Tenant, t: Ticket) -> list[Message]:
    with tenant_context(tenant):
        return list(Message.objects.filter(ticket=t).order_by("id"))


def test_formatting_mentions_and_a_pasted_image(page: Page, settings: Any) -> None:
    settings.COMPOSER_UNDO_SECONDS = 1
    tenant, _agent, t = _seed()
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/tickets/{t.number}/")
    editor = page.get_by_role("textbox", name="Message")

    page.get_by_role("radio", name="Internal note").check()
    editor.click()
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type("Urgent")
    page.get_by_role("button", name="Bold").click()
    page.keyboard.type(" please look, ")
    page.keyboard.type("@be")
    teammates = page.get_by_role("listbox", name="Teammates")
    expect(teammates.get_by_role("option", name="Bea Berger")).to_be_visible()
    screenshot(page, "agent-composer-mention-desktop")
    page.keyboard.press("Enter")
    expect(editor.locator("span.mention")).to_have_text("@Bea Berger")

    # A pasted image is uploaded and shown inline.
    page.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const file = new File([bytes], "shot.png", { type: "image/png" });
            const data = new DataTransfer();
            data.items.add(file);
            const target = document.querySelector(".editor-content");
            const paste = { clipboardData: data, bubbles: true, cancelable: true };
            target.dispatchEvent(new ClipboardEvent("paste", paste));
        }""",
        PNG,
    )
    expect(editor.get_by_role("img", name="shot.png")).to_have_attribute(
        "src", re.compile(r"/attachments/\d+/\?preview=1$")
    )
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Internal note added.")).to_be_visible()

    note = _messages(tenant, t)[-1]
    assert not note.public
    assert "<strong>Urgent</strong>" in note.body_html
    with tenant_context(tenant):
        bea = member_id(tenant, "bea@acme.test")
        assert f'<span class="mention" data-user-id="{bea}">@Bea Berger</span>' in note.body_html
        event = Event.objects.filter(type="message.created").latest("id")
        assert event.payload["mentioned_user_ids"] == [bea]
        image = Attachment.objects.get(ticket=t)
        assert image.message_id == note.pk  # claimed by the note: internal like it
    expect(
        page.locator(".message-note").get_by_role("img", name="shot.png", exact=True)
    ).to_be_visible()
    screenshot(page, "agent-composer-rich-note-desktop")


def member_id(tenant: Tenant, email: str) -> int:
    from autocrm.accounts.models import User

    return User.objects.get(email=email).pk


def test_undo_send_keeps_the_text_and_a_reload_keeps_the_draft(page: Page, settings: Any) -> None:
    settings.COMPOSER_UNDO_SECONDS = 3
    tenant, _agent, t = _seed()
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/tickets/{t.number}/")
    editor = page.get_by_role("textbox", name="Message")
    editor.fill("On our way with a fire extinguisher.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text(re.compile(r"Sending the reply in \d s"))).to_be_visible()
    screenshot(page, "agent-composer-undo-desktop")
    page.get_by_role("button", name="Undo").click()
    page.wait_for_timeout(3500)
    assert len(_messages(tenant, t)) == 1  # only the customer's first message
    expect(editor).to_have_text("On our way with a fire extinguisher.")

    # Sending again, then reloading during the countdown: nothing sent, the draft is back.
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    page.reload()
    expect(editor).to_have_text("On our way with a fire extinguisher.")
    page.wait_for_timeout(3500)
    assert len(_messages(tenant, t)) == 1

    # Left alone, it is sent when the countdown ends.
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible(timeout=10_000)
    assert [m.public for m in _messages(tenant, t)] == [True, True]


def test_a_send_without_connection_returns_to_editing_and_a_long_paste_is_refused(
    page: Page, settings: Any
) -> None:
    tenant, t, editor = _open_ticket(page, settings)

    # A paste that would pass the limit is refused at once, with the numbers.
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.setData("text/plain", "x".repeat(150000));
            const paste = { clipboardData: data, bubbles: true, cancelable: true };
            const target = document.querySelector(".editor-content");
            target.dispatchEvent(new ClipboardEvent("paste", paste));
        }"""
    )
    refused = page.get_by_text(re.compile(r"That paste is too long: .*at most 100,000"))
    expect(refused).to_be_visible()
    expect(editor).to_have_text("")

    # The connection drops while the reply goes out: the page says so and the composer is
    # back to editing (not stuck on "Sending…"), the text still there.
    editor.fill("The technician is on the way.")
    page.context.set_offline(True)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text(re.compile("^No connection to the server"))).to_be_visible()
    send = page.get_by_role("button", name="Send reply")
    expect(send).to_be_enabled()
    expect(page.locator("[data-undo-bar]")).to_be_hidden()
    expect(editor).to_have_text("The technician is on the way.")
    screenshot(page, "agent-composer-offline-desktop")
    assert len(_messages(tenant, t)) == 1

    # Back online, the same click sends it.
    page.context.set_offline(False)
    send.click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    assert [m.public for m in _messages(tenant, t)] == [True, True]
    # The swap replaced the button that had the focus: the focus is on the page's main
    # region, never dropped to the document's body (keys keep working from there).
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_dropped_file_joins_the_attachments_and_a_pdf_shows_its_first_page(
    page: Page, settings: Any
) -> None:
    from autocrm.tickets.tests.test_pdf_preview import RED_LEFT_HALF

    tenant, t, editor = _open_ticket(page, settings)
    editor.fill("The signed quote is attached.")
    # Dropped on the editor: not an image, so it joins the files sent with the message.
    page.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "quote.pdf", { type: "application/pdf" }));
            const target = document.querySelector(".editor-content");
            const box = target.getBoundingClientRect();
            const drop = { dataTransfer: data, bubbles: true, cancelable: true,
                           clientX: box.left + 10, clientY: box.top + 10 };
            target.dispatchEvent(new DragEvent("drop", drop));
        }""",
        base64.b64encode(RED_LEFT_HALF).decode(),
    )
    names = "Array.from(document.getElementById('composer-files').files).map((f) => f.name)"
    assert page.evaluate(names) == ["quote.pdf"]
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    preview = page.get_by_role("img", name="First page of quote.pdf")
    expect(preview).to_be_visible()
    page.wait_for_function(
        "document.querySelector('img[alt=\"First page of quote.pdf\"]').naturalWidth > 0"
    )
    screenshot(page, "agent-ticket-pdf-desktop")
    with tenant_context(tenant):
        assert Attachment.objects.get(ticket=t).filename == "quote.pdf"
