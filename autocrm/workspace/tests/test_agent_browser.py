"""The agent workspace in headless Chromium: queue, filter, bulk assign, keyboard, ticket
page, reply, internal note, macro, draft restored after a reload (screenshots saved under
var/screenshots/ to be looked at)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company, Contact
from autocrm.routing.models import Team
from autocrm.testing.browser import MOBILE, new_page, screenshot, sign_in
from autocrm.tickets import config_services, services
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.factories import SYSTEM, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TICKETS = [
    ("Printer on fire in the Berlin office", "urgent", "open", ["hardware"]),
    ("Refund for a double charge", "high", "new", ["billing", "vip"]),
    ("Cannot log in to the billing portal", "normal", "new", ["login"]),
    ("How do I export my invoices?", "low", "pending", ["billing"]),
    ("VPN drops every ten minutes", "high", "open", []),
    ("New laptop for the sales team", "normal", "on_hold", ["hardware"]),
]


def _seed() -> tuple[Tenant, Any, dict[str, Ticket]]:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    with tenant_context(tenant):
        agent = member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
        member(tenant, "admin", email="ana@acme.test", name="Ana Admin")
        team = Team.objects.create(tenant=tenant, name="Hardware")
        company = Company.objects.create(tenant=tenant, name="Initech", domain="initech.test")
        made: dict[str, Ticket] = {}
        for i, (subject, priority, status, tags) in enumerate(TICKETS):
            made[subject] = ticket(
                tenant,
                subject=subject,
                body=f"Hello, {subject.lower()}. Please help.",
                priority=priority,
                status=status,
                tags=tags,
                requester_email=f"customer{i % 3}@initech.test",
                requester_name=["Cora Customer", "Pat Buyer", "Sam Smith"][i % 3],
                team_id=team.pk if "hardware" in tags else None,
            )
        Contact.objects.filter(tenant=tenant).update(company=company)
        services.ticket_message_add(
            tenant=tenant,
            actor=actor_of(tenant, agent),
            ticket_id=made[TICKETS[0][0]].pk,
            body="Checked with facilities: the printer is unplugged now.",
            public=False,
        )
        config_services.macro_create(
            tenant=tenant,
            actor=SYSTEM,
            name="Ask for a screenshot",
            actions=[
                {"field": "status", "value": "pending"},
                {"field": "tags_add", "value": "needs-info"},
            ],
            reply_body="Hi {{requester.name}}, could you send us a screenshot?",
        )
        config_services.ticket_view_create(
            tenant=tenant, actor=SYSTEM, name="Billing", query="tag:billing", shared=True
        )
    return tenant, agent, made


def _open_queue(page: Page) -> None:
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto("/acme/agent/")
    expect(page.get_by_role("heading", level=1)).to_have_text("All unsolved")


def test_queue_filter_bulk_assign_and_keyboard(page: Page) -> None:
    tenant, agent, made = _seed()
    _open_queue(page)
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(6)
    screenshot(page, "agent-queue-desktop")

    # Filter in the agent syntax: the table changes without a page load.
    page.evaluate("window.__samePage = true")
    page.get_by_label("Filter tickets").fill("priority:high,urgent")
    page.get_by_label("Filter tickets").press("Enter")
    expect(rows).to_have_count(3)
    expect(page).to_have_url(re.compile(r"q=priority%3Ahigh%2Curgent"))
    page.get_by_role("link", name=re.compile("^Billing")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Billing")
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Filter tickets")).to_have_value("tag:billing sort:-updated_at")
    page.get_by_role("link", name=re.compile("^All unsolved")).click()
    expect(rows).to_have_count(6)
    assert page.evaluate("window.__samePage") is True

    # Bulk: select three tickets, assign them to Alex.
    for subject in TICKETS[:3]:
        page.get_by_label(f"Select #{made[subject[0]].number}").check()
    expect(page.locator("[data-selected-count]")).to_have_text("3 selected")
    page.get_by_label("Assign selected to").select_option(label="Alex Agent")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Updated 3 tickets.")).to_be_visible()
    expect(page.locator("#queue-nav a[data-view=mine] .count")).to_have_text("3")
    assert page.evaluate("window.__samePage") is True
    with tenant_context(tenant):
        assigned = set(
            Ticket.objects.filter(assignee_id=agent.pk).values_list("subject", flat=True)
        )
    assert assigned == {t[0] for t in TICKETS[:3]}

    # Bulk macro: its actions and its reply on each selected ticket.
    for subject in TICKETS[4:6]:
        page.get_by_label(f"Select #{made[subject[0]].number}").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.get_by_label("Apply a macro to selected").select_option(label="Ask for a screenshot")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Macro applied to 2 tickets.")).to_be_visible()
    with tenant_context(tenant):
        statuses = set(
            Ticket.objects.filter(subject__in=[t[0] for t in TICKETS[4:6]]).values_list(
                "status", flat=True
            )
        )
    assert statuses == {"pending"}
    screenshot(page, "agent-queue-bulk-desktop")

    # Keyboard: j/k move, x selects, ? shows help, o opens.
    page.locator("main").click(position={"x": 5, "y": 5})
    for key in ["k", "k", "k", "j", "j", "k"]:  # to the top (k stops there), two down, one up
        page.keyboard.press(key)
    current = page.locator("tr.is-current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("data-number", rows.nth(1).get_attribute("data-number") or "")
    page.keyboard.press("x")
    expect(page.locator("[data-selected-count]")).to_have_text("1 selected")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    screenshot(page, "agent-shortcuts-desktop")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
    page.keyboard.press("/")
    expect(page.get_by_label("Filter tickets")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    third = rows.nth(2).get_attribute("data-number")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/acme/agent/tickets/{third}/$"))
    # On a ticket, j goes to the next ticket of the queue; u back to the queue, which is
    # the view the agent had open.
    # The page's scripts (htmx, the live socket, the composer) have run, as for an agent
    # reading the ticket; a key pressed while the page still loads is not this test's case.
    page.wait_for_load_state("networkidle")
    page.keyboard.press("a")  # assign to me, saved at once
    expect(page.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_label("Assignee")).to_have_value(str(agent.pk))
    page.keyboard.press("e")  # solve
    expect(page.locator(".ticket-title .status")).to_have_text("Solved")
    number = page.locator(".ticket-page").get_attribute("data-ticket")
    with tenant_context(tenant):
        solved = Ticket.objects.get(number=int(number or 0))
    assert (solved.assignee_id, solved.status) == (agent.pk, "solved")
    page.keyboard.press("j")
    expect(page.locator(".ticket-page")).not_to_have_attribute("data-ticket", number or "")
    page.keyboard.press("u")
    expect(page.get_by_role("heading", level=1)).to_have_text("All unsolved")


def test_ticket_reply_note_macro_and_draft(page: Page, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    settings.COMPOSER_UNDO_SECONDS = 1  # undo-send has its own test
    tenant, _agent, made = _seed()
    printer = made[TICKETS[0][0]]
    _open_queue(page)
    page.get_by_role("link", name=TICKETS[0][0]).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TICKETS[0][0])
    expect(page.get_by_role("article", name=re.compile("^Internal note from Alex"))).to_be_visible()
    screenshot(page, "agent-ticket-desktop")

    # A draft survives a reload.
    page.keyboard.press("r")
    composer = page.get_by_role("textbox", name="Message")
    expect(composer).to_be_focused()
    composer.fill("Hi Cora, a technician is on the way.")
    page.wait_for_timeout(500)  # the draft is saved after a short pause in typing
    page.reload()
    expect(composer).to_have_text("Hi Cora, a technician is on the way.")

    # A file over the limit is refused before anything is sent.
    page.get_by_label("Attach files").set_input_files(
        {"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"0" * 1_500_000}
    )
    expect(page.get_by_text("“huge.bin” is 1.4 MB; a file can be at most 1 MB.")).to_be_visible()
    page.get_by_label("Attach files").set_input_files(
        {"name": "photo-notes.txt", "mimeType": "text/plain", "buffer": b"printer photo notes"}
    )
    page.get_by_label("Submit as").select_option(label="Pending")
    screenshot(page, "agent-composer-desktop")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    expect(
        page.get_by_role("article", name=re.compile("^Public message from Alex"))
    ).to_contain_text("a technician is on the way")
    expect(page.locator(".ticket-title .status")).to_have_text("Pending")
    expect(page.get_by_role("link", name="photo-notes.txt")).to_be_visible()
    expect(composer).to_have_text("")
    page.reload()
    expect(composer).to_have_text("")  # the sent draft is gone

    # An internal note, chosen with the n key.
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("n")
    expect(page.get_by_role("radio", name="Internal note")).to_be_checked()
    composer.fill("Facilities confirmed <script>alert(1)</script> it is safe.")
    screenshot(page, "agent-composer-note-desktop")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Internal note added.")).to_be_visible()
    notes = page.get_by_role("article", name=re.compile("^Internal note from Alex"))
    expect(notes).to_have_count(2)
    expect(notes.nth(1)).to_contain_text("Facilities confirmed")

    # A macro: its reply and its status change, through the macro service.
    page.get_by_label("Macro").select_option(label="Ask for a screenshot")
    page.get_by_role("button", name="Apply macro").click()
    expect(page.get_by_text("Hi Cora Customer, could you send us a screenshot?")).to_be_visible()
    expect(
        page.get_by_text("added the tags needs-info (macro “Ask for a screenshot”)")
    ).to_be_visible()

    # The property panel saves inline; a stale form is refused with a message.
    page.get_by_label("Priority").select_option("high")
    with tenant_context(tenant):
        services.ticket_update(
            tenant=tenant, actor=SYSTEM, ticket_id=printer.pk, changes={"tags": ["moved"]}
        )
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Someone else changed this ticket")).to_be_visible()
    expect(page.get_by_label("Tags")).to_have_value("moved")
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    with tenant_context(tenant):
        printer.refresh_from_db()
    assert printer.priority_name == "high" and printer.tags == ["moved"]
    screenshot(page, "agent-ticket-after-desktop")


# Form controls on screen without an accessible name (a label, aria-label(ledby), a title,
# or a button's text): WCAG 2.1 "labels or instructions" / "name, role, value".
UNLABELLED = """() => Array.from(document.querySelectorAll(
        "input:not([type=hidden]), select, textarea, button, [role=textbox]"))
    .filter((e) => e.offsetParent !== null)
    .filter((e) => !((e.labels && e.labels.length) || e.getAttribute("aria-label")
        || e.getAttribute("aria-labelledby") || e.title
        || (e.tagName === "BUTTON" && e.textContent.trim())))
    .map((e) => e.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize(
    ("name", "size"), [("tablet", {"width": 820, "height": 1180}), ("mobile", MOBILE)]
)
def test_queue_and_ticket_fit_smaller_screens(
    browser: Any, live_server: Any, name: str, size: dict[str, int]
) -> None:
    _tenant, _agent, made = _seed()
    page = new_page(browser, live_server.url, size)
    _open_queue(page)
    # The table scrolls inside its box; the page itself is never wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    assert page.evaluate(UNLABELLED) == []
    screenshot(page, f"agent-queue-{name}")
    page.goto(f"/acme/agent/tickets/{made[TICKETS[1][0]].number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TICKETS[1][0])
    assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    page.wait_for_load_state("networkidle")  # the composer's editor and toolbar are built
    assert page.evaluate(UNLABELLED) == []
    screenshot(page, f"agent-ticket-{name}")
    page.context.close()
