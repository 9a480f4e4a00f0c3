"""The customer's whole path in a real browser: search the knowledge base, open an article
and vote as a visitor; sign up from the help centre, confirm by the e-mailed link, send a
request with a file (suggestions shown), see the agent's reply, rate it from the e-mail;
and bad input (a disallowed file, script in fields) answered clearly. The widget on
another site: search, and the assistant with its hand-off."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import SYSTEM, member
from autocrm.ai.handoff import confirm_token, handoff_confirm
from autocrm.ai.indexing import INDEX_ACTOR, tenant_reindex
from autocrm.ai.models import PendingHandoff
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.tests.factories import inbox
from autocrm.knowledge.models import ArticleVote
from autocrm.knowledge.tests.factories import article
from autocrm.portal.tests.helpers import PNG
from autocrm.testing.browser import screenshot
from autocrm.testing.worker import run_worker_until_idle
from autocrm.tickets import services
from autocrm.tickets.models import Channel, Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-and-unusual-password"


def _path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_sign_up_request_reply_and_rating(page: Page, tenant_a: Tenant) -> None:
    tenant_a.settings.update(help_primary_color="#0f766e", help_brand_name="Acme Support")
    tenant_a.save()
    agent = member(tenant_a, "agent", name="Alex Agent")
    with tenant_context(tenant_a):
        article(tenant_a)
        inbox(tenant_a)  # the satisfaction survey mail leaves from the workspace's inbox

    # The live server's first request warms the process up (many seconds on a loaded host).
    page.goto("/acme/help/", timeout=90_000)
    screenshot(page, "help-home")
    # As a visitor: search the knowledge base, open the article, vote.
    page.get_by_label("Search the help centre").fill("reset password")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="How to reset your password").click()
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    with tenant_context(tenant_a):
        assert ArticleVote.objects.get().helpful is True
    page.get_by_role("link", name="Help centre", exact=True).first.click()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Cora Customer")
    page.get_by_label("Email address").fill("cora@customer.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    (confirm,) = mail.outbox
    link = re.search(r"https?://\S+/verify/\S+/", str(confirm.body))
    assert link is not None
    page.goto(_path_of(link.group(0)))
    expect(page.get_by_text("Your address is confirmed")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("cora@customer.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My requests")

    page.get_by_role("link", name="Submit a request").first.click()
    page.get_by_label("Subject").press_sequentially("reset password", delay=20)
    expect(page.get_by_role("link", name="How to reset your password")).to_be_visible()
    page.get_by_label("How can we help?").fill("I cannot sign in since this morning.")
    screenshot(page, "help-new-request")

    # A disallowed file is refused with the reason, and nothing is sent.
    page.get_by_label("Attachments").set_input_files(
        {"name": "tool.exe", "mimeType": "application/octet-stream", "buffer": b"MZ" + b"\0" * 64}
    )
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("“tool.exe” is not a file type we accept")).to_be_visible()
    screenshot(page, "help-new-request-bad-file")
    with tenant_context(tenant_a):
        assert not Ticket.objects.filter(tenant=tenant_a).exists()

    page.get_by_label("Subject").fill("<script>alert(1)</script> reset password")
    page.get_by_label("How can we help?").fill("I cannot sign in since this morning.")
    page.get_by_label("Attachments").set_input_files(
        {"name": "screenshot.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text(re.compile(r"Request #\d+ sent"))).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "<script>alert(1)</script> reset password"
    )
    expect(page.get_by_role("link", name="screenshot.png")).to_be_visible()

    with tenant_context(tenant_a):
        ticket = Ticket.objects.get(tenant=tenant_a)
        from autocrm.accounts.tests.factories import actor_of

        services.ticket_message_add(
            tenant=tenant_a,
            actor=actor_of(tenant_a, agent),
            ticket_id=ticket.pk,
            body="Please try the reset link on the sign-in page.",
        )
        services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=ticket.pk, body="VIP, be nice", public=False
        )
    page.reload()
    expect(page.get_by_text("Please try the reset link on the sign-in page.")).to_be_visible()
    expect(page.get_by_text("VIP, be nice")).to_have_count(0)
    expect(page.get_by_text("Alex Agent (Acme Support)")).to_be_visible()

    with tenant_context(tenant_a):
        services.ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=ticket.pk, changes={"status": "solved"}
        )
    run_worker_until_idle()  # events_dispatch creates the survey and queues its mail
    run_worker_until_idle()  # inboxes.email_send sends it
    (survey,) = [m for m in mail.outbox if m.subject.startswith("How did we do?")]
    good = re.search(r"Good:\s+(\S+)", str(survey.body))
    assert good is not None
    page.reload()
    expect(page.get_by_text("Your request is solved. How did we do?")).to_be_visible()
    screenshot(page, "help-request")

    page.goto(_path_of(good.group(1)))
    expect(page.get_by_label("Good, I'm satisfied")).to_be_checked()
    page.get_by_label("Anything to add? (optional)").fill("Quick and kind.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your rating")
    page.goto(_path_of(good.group(1)))
    expect(page.get_by_text("You rated this request already. Thank you!")).to_be_visible()
    page.goto(f"/acme/help/requests/{ticket.number}/")
    expect(page.get_by_text("You rated this request good")).to_be_visible()
    screenshot(page, "help-request-rated")


def test_the_widget_on_another_site(page: Page, live_server, tenant_a: Tenant) -> None:  # type: ignore[no-untyped-def]
    with tenant_context(tenant_a):
        article(tenant_a)
    # The customer's own site: another origin (a blank page) embedding the snippet.
    # A shop page embedding the snippet, served by the browser itself. (Chromium blocks a
    # page on another local origin from loading loopback scripts, so it shares the live
    # server's origin here; that other sites may frame the widget page is checked in
    # test_widget.py from its headers.)
    shop = live_server.url + "/example-shop"
    html = (
        "<h1>Example shop</h1>"
        f'<script src="{live_server.url}/static/vendor/help-widget/help-widget.js" '
        f'data-help-url="{live_server.url}/acme/help/" data-label="Need help?"></script>'
    )
    page.route(shop, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(shop)
    launcher = page.get_by_role("button", name="Need help?")
    launcher.click()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    frame = page.frame_locator("iframe[title='Need help?']")
    frame.get_by_role("searchbox").fill("reset password")
    frame.get_by_role("button", name="Search").click()
    expect(frame.get_by_role("link", name="How to reset your password")).to_be_visible()
    expect(frame.get_by_role("link", name="Submit a request")).to_be_visible()
    screenshot(page, "help-widget")
    launcher.click()  # closes it again
    expect(launcher).to_have_attribute("aria-expanded", "false")


@pytest.fixture
def shop_site(live_server) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A customer's own web site on another site than the help centre (127.0.0.1 against
    the live server's localhost): a plain HTML page with the widget's snippet, served by a
    throwaway HTTP server. Cookies of the help centre are not sent to a frame on it."""
    html = (
        "<!DOCTYPE html><title>Example shop</title><h1>Example shop</h1>"
        f'<script src="{live_server.url}/static/vendor/help-widget/help-widget.js" '
        f'data-help-url="{live_server.url}/acme/help/" async></script>'
    ).encode()

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_the_widget_assistant_on_another_site(page: Page, shop_site: str, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        article(
            tenant_a,
            title="Delivery times",
            body="Parcels arrive within three working days in Germany.",
        )
        tenant_reindex(tenant=tenant_a, actor=INDEX_ACTOR)
    page.goto(shop_site)
    page.get_by_role("button", name="Help").click()
    frame = page.frame_locator("iframe[title='Help']")
    frame.get_by_role("link", name="Ask the assistant").click()
    screenshot(page, "help-widget-assistant-start")
    frame.get_by_label("Your question").fill("How long does delivery take?")
    frame.get_by_role("button", name="Ask").click()
    expect(frame.get_by_text("three working days")).to_be_visible()
    source = frame.get_by_role("link", name="Delivery times")
    expect(source).to_have_attribute("target", "_blank")
    frame.get_by_label("Your question").fill("<b>Where</b> is my parcel 123?")
    frame.get_by_role("button", name="Ask").click()
    expect(frame.get_by_text("<b>Where</b> is my parcel 123?")).to_be_visible()  # as text
    expect(frame.get_by_text("I don't know")).to_be_visible()
    frame.get_by_label("Your email").fill("vic@example.test")
    screenshot(page, "help-widget-assistant")
    frame.get_by_role("button", name="Send this conversation to our team").click()
    expect(frame.get_by_text("we sent a link to vic@example.test")).to_be_visible()
    with tenant_context(tenant_a):
        # Filed once the visitor confirms the address from the mailed link (ADR 0050).
        assert not Ticket.objects.filter(channel=Channel.CHAT).exists()
        handoff_confirm(
            tenant=tenant_a, token=confirm_token(tenant_a, PendingHandoff.objects.get())
        )
        created = Ticket.objects.select_related("requester").get(
            tenant=tenant_a, channel=Channel.CHAT
        )
        transcript = Message.objects.get(ticket=created).body_text
    assert created.requester.email == "vic@example.test"
    assert "Customer: How long does delivery take?" in transcript
    assert "Assistant: From “Delivery times”" in transcript


def test_password_reset_and_api_token_in_the_help_centre_look(page: Page, tenant_a: Tenant) -> None:
    """A customer who forgot their password resets it without leaving the help centre's
    look (the e-mailed link included), signs in and makes a personal API token."""
    from autocrm.portal.tests.helpers import customer

    tenant_a.settings.update(help_primary_color="#0f766e", help_brand_name="Acme Support")
    tenant_a.save()
    user = customer(tenant_a)
    page.goto("/acme/help/account/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.locator(".help-brand")).to_contain_text("Acme Support")
    page.get_by_label("Email").fill(user.email)
    screenshot(page, "help-password-reset")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Password Reset")).to_be_visible()
    link = re.search(r"https?://\S+", str(mail.outbox[-1].body))
    assert link is not None and "/acme/help/account/link/password-reset/" in link.group(0)
    page.context.clear_cookies()  # opened from the mail, as in another browser
    page.goto(_path_of(link.group(0)))
    expect(page.locator(".help-brand")).to_contain_text("Acme Support")
    page.get_by_label("New Password", exact=True).fill(PASSWORD)
    page.get_by_label("New Password (again)").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Change Password", re.I)).click()
    expect(page.get_by_role("heading", name="Password changed")).to_be_visible()
    page.get_by_role("link", name="Sign in").last.click()
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/acme/help/account/")
    page.get_by_label("Token name").fill("Order system")
    page.get_by_label("Access").select_option("write")
    page.get_by_role("button", name="Create token").click()
    token = page.get_by_test_id("new-token").inner_text().strip()
    assert token.startswith("acrm_")
    expect(page.get_by_role("button", name="Revoke Order system")).to_be_visible()
    page.locator("#tokens").scroll_into_view_if_needed()
    screenshot(page, "help-account-tokens")
