"""The live workspace in headless Chromium against a real uvicorn (websockets) with a real
worker: a second agent's browser receives a new ticket and a reply without reloading, and an
agent restricted to their team never receives another team's ticket over the socket."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, actor_of, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing.models import Team, TeamMember
from autocrm.testing.asgi_server import AsgiServer
from autocrm.testing.browser import new_page, screenshot, sign_in
from autocrm.testing.worker import clear_jobs, running_worker
from autocrm.tickets import services
from autocrm.tickets.models import Ticket
from autocrm.tickets.tests.factories import ticket

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "owner"]),
]


@pytest.fixture
def worker() -> Iterator[None]:
    clear_jobs()
    with running_worker(["events"]):
        yield


def _seed(restricted: bool = False) -> tuple[Tenant, dict[str, Any], Ticket]:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    if restricted:
        tenant.settings = {"restrict_agents_to_own_teams": True}
        tenant.save()
    with tenant_context(tenant):
        people = {
            "alex": member(tenant, "agent", email="alex@acme.test", name="Alex Agent"),
            "ana": member(tenant, "admin", email="ana@acme.test", name="Ana Admin"),
        }
        first = ticket(tenant, subject="Printer on fire in Berlin")
    return tenant, people, first


def _signed_in(browser: Browser, server: AsgiServer, email: str) -> Page:
    page = new_page(browser, server.url)
    sign_in(page, email, DEFAULT_PASSWORD)
    return page


def _live(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("data-live", "on")


def test_a_second_agent_sees_a_new_ticket_and_a_reply_live(
    browser: Browser, asgi_server: AsgiServer, worker: None
) -> None:
    tenant, people, first = _seed()
    queue = _signed_in(browser, asgi_server, "alex@acme.test")
    queue.goto("/acme/agent/")
    _live(queue)
    queue.evaluate("window.__samePage = true")
    expect(queue.locator("[data-row]")).to_have_count(1)

    other = _signed_in(browser, asgi_server, "ana@acme.test")
    other.goto(f"/acme/agent/tickets/{first.number}/")
    _live(other)
    other.evaluate("window.__samePage = true")

    with tenant_context(tenant):
        ticket(tenant, subject="Refund for a double charge")
    expect(queue.get_by_role("link", name="Refund for a double charge")).to_be_visible()
    expect(queue.locator("[data-row]")).to_have_count(2)
    expect(queue.locator("#live-announcer")).to_contain_text("1 new")

    with tenant_context(tenant):
        services.ticket_message_add(
            tenant=tenant,
            actor=actor_of(tenant, people["alex"]),
            ticket_id=first.pk,
            body="The printer is unplugged now.",
        )
    expect(other.get_by_text("The printer is unplugged now.")).to_be_visible()
    expect(other.locator("#live-announcer")).to_contain_text("Alex Agent replied.")
    screenshot(other, "live-ticket-reply-received")
    assert queue.evaluate("window.__samePage") is True
    assert other.evaluate("window.__samePage") is True
    queue.context.close()
    other.context.close()


def test_new_rows_wait_behind_a_marker_while_the_pointer_is_on_the_table(
    browser: Browser, asgi_server: AsgiServer, worker: None
) -> None:
    tenant, _people, _first = _seed()
    queue = _signed_in(browser, asgi_server, "alex@acme.test")
    queue.goto("/acme/agent/")
    _live(queue)
    queue.locator("[data-row]").first.hover()
    with tenant_context(tenant):
        ticket(tenant, subject="VPN drops every ten minutes")
    marker = queue.locator("#live-marker")
    expect(marker).to_have_text("1 new · show")
    expect(queue.locator("[data-row]")).to_have_count(1)  # nothing moved under the pointer
    screenshot(queue, "live-queue-new-marker")
    marker.click()
    expect(queue.locator("[data-row]")).to_have_count(2)
    expect(marker).to_be_hidden()
    queue.context.close()


def test_a_restricted_agent_never_receives_another_teams_ticket(
    browser: Browser, asgi_server: AsgiServer, worker: None
) -> None:
    tenant, people, _first = _seed(restricted=True)
    with tenant_context(tenant):
        hardware = Team.objects.create(tenant=tenant, name="Hardware")
        billing = Team.objects.create(tenant=tenant, name="Billing")
        TeamMember.objects.create(tenant=tenant, team=hardware, user=people["alex"])
    page = _signed_in(browser, asgi_server, "alex@acme.test")
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda data: frames.append(str(data))))
    page.goto("/acme/agent/")
    _live(page)

    with tenant_context(tenant):
        secret = ticket(tenant, subject="Salary data for billing", team_id=billing.pk)
        own = ticket(tenant, subject="Laptop screen flickers", team_id=hardware.pk)
    expect(page.get_by_role("link", name="Laptop screen flickers")).to_be_visible()
    assert page.get_by_text("Salary data for billing").count() == 0
    pushed = [json.loads(f) for f in frames]
    numbers = {m.get("number") for m in pushed}
    assert own.number in numbers
    assert secret.number not in numbers, pushed
    assert not any(re.search("Salary", f) for f in frames)
    page.context.close()


def test_presence_and_the_collision_warning(
    browser: Browser, asgi_server: AsgiServer, worker: None, settings: Any
) -> None:
    settings.COMPOSER_UNDO_SECONDS = 0  # sent at once (undo-send has its own test)
    _tenant, _people, first = _seed()
    url = f"/acme/agent/tickets/{first.number}/"
    ana = _signed_in(browser, asgi_server, "ana@acme.test")
    ana.goto(url)
    _live(ana)
    alex = _signed_in(browser, asgi_server, "alex@acme.test")
    alex.goto(url)
    _live(alex)
    expect(ana.locator("#presence")).to_have_text("Alex Agent is viewing")

    # Ana starts a reply: Alex sees her replying.
    ana.get_by_role("textbox", name="Message").fill("We are sending a technician today.")
    expect(alex.locator("#presence")).to_have_text("Ana Admin is replying")
    screenshot(alex, "live-presence-replying")

    # Alex answers first: Ana's page shows his reply and warns her before she sends.
    alex.get_by_role("textbox", name="Message").fill("A technician is on the way.")
    alex.get_by_role("button", name="Send reply").click()
    expect(alex.get_by_text("Reply sent.")).to_be_visible()
    expect(ana.get_by_text("A technician is on the way.")).to_be_visible()
    expect(ana.locator("#collision-warning")).to_contain_text(
        "Alex Agent replied while you were writing"
    )
    screenshot(ana, "live-collision-warning")

    # Sending is refused once (the server's check), her text kept; the second send goes out.
    ana.get_by_role("button", name="Send reply").click()
    expect(ana.locator("#collision-warning")).to_contain_text(
        "Alex Agent wrote on this ticket while you were writing, so yours was not sent"
    )
    expect(ana.get_by_role("textbox", name="Message")).to_have_text(
        "We are sending a technician today."
    )
    ana.get_by_role("button", name="Send anyway").click()
    expect(ana.get_by_text("Reply sent.")).to_be_visible()
    expect(ana.locator(".messages > li")).to_have_count(3)
    ana.context.close()
    alex.context.close()


def test_an_assignment_lights_the_notification_badge_live(
    browser: Browser, asgi_server: AsgiServer, worker: None
) -> None:
    tenant, people, first = _seed()
    page = _signed_in(browser, asgi_server, "alex@acme.test")
    page.goto("/acme/agent/")
    _live(page)
    badge = page.locator("[data-notifications-badge]")
    expect(badge).to_be_hidden()
    with tenant_context(tenant):
        services.ticket_update(
            tenant=tenant,
            actor=actor_of(tenant, people["ana"]),
            ticket_id=first.pk,
            changes={"assignee_id": people["alex"].pk},
        )
    expect(badge).to_have_text("1")
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    item = page.get_by_role("link", name=re.compile("Ana Admin assigned #1"))
    expect(item).to_be_visible()
    screenshot(page, "live-notifications")
    item.click()
    expect(page).to_have_url(re.compile(f"/acme/agent/tickets/{first.number}/$"))
    expect(badge).to_be_hidden()
    page.goto("/acme/agent/notifications/preferences/")
    page.get_by_label("A ticket is assigned to you: by e-mail").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Notification preferences saved.")).to_be_visible()
    screenshot(page, "live-notification-preferences")
    page.context.close()
