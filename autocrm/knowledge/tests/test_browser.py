"""The knowledge base in headless Chromium: a visitor searches the help centre, opens an
article and votes; an agent writes an article with the live preview. Screenshots are saved
under var/screenshots/ to be looked at."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge import services
from autocrm.knowledge.models import Article, ArticleVote
from autocrm.knowledge.tests.factories import SYSTEM, article, category
from autocrm.testing.browser import MOBILE, new_page, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY = """Your password protects your account and your team's data.

1. Open **Settings** in the top-right menu.
2. Choose *Security*, then **Reset password**.
3. Follow the link in the email we send you.

!!! tip "The link works for one hour"
    Ask for a new one if it expired.

If you use the command line:

```sh
acme auth reset --email you@example.com
```

| Plan | Reset by |
|------|----------|
| Free | Email |
| Business | Email or your admin |
"""


def _seed() -> tuple[Tenant, Article]:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    with tenant_context(tenant):
        member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
        account = category(
            tenant, name="Account and login", description="Signing in, passwords, 2FA."
        )
        billing = category(tenant, name="Billing", description="Invoices, plans and payments.")
        category(tenant, name="Integrations", description="Connect Acme to your tools.")
        section = services.section_create(
            tenant=tenant, actor=SYSTEM, category=account, name="Passwords"
        )
        reset = article(
            tenant, title="How to reset your password", body=BODY, section_id=section.pk
        )
        article(
            tenant,
            title="Set up two-factor authentication",
            body="Use an app.",
            category_id=account.pk,
        )
        article(
            tenant, title="Download an invoice", body="Open **Billing**.", category_id=billing.pk
        )
        article(
            tenant, title="Change your plan", body="Plans change at once.", category_id=billing.pk
        )
        article(
            tenant, title="Password policy (internal)", body="Agents only.", visibility="internal"
        )
        services.article_update(
            tenant=tenant, actor=SYSTEM, article=reset, changes={"related_ids": []}
        )
    return tenant, reset


def test_visitor_searches_opens_an_article_and_votes(page: Page) -> None:
    tenant, reset = _seed()
    page.goto("/acme/help/")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Billing"))).to_be_visible()
    screenshot(page, "kb-help-home")

    page.get_by_label("Search the help centre").fill("pasword reset")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/acme/help/search\?q=pasword"))
    # A typo: the full-text words match nothing, similar titles do.
    expect(page.get_by_role("link", name="How to reset your password")).to_be_visible()
    page.get_by_label("Search the help centre").fill("reset password")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".kb-results mark").first).to_be_visible()
    expect(page.get_by_text("internal")).to_have_count(0)
    screenshot(page, "kb-help-search")

    page.get_by_role("link", name="How to reset your password").click()
    expect(page).to_have_url(
        re.compile(rf"/acme/help/articles/{reset.pk}-how-to-reset-your-password/$")
    )
    expect(page.locator(".admonition.tip")).to_contain_text("one hour")
    expect(page.locator(".kb-body pre code")).to_contain_text("acme auth reset")
    page.get_by_text("Add a comment (optional)").click()
    page.get_by_label("Comment").fill("Clear, thanks")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Thank you for your feedback.")).to_be_visible()
    expect(page.get_by_role("button", name="Yes")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "kb-help-article")
    with tenant_context(tenant):
        vote = ArticleVote.objects.get()
        assert (vote.helpful, vote.comment) == (True, "Clear, thanks")
        assert Article.objects.get(pk=reset.pk).view_count == 2


def test_help_centre_at_phone_width(browser, live_server) -> None:  # type: ignore[no-untyped-def]
    _seed()
    page = new_page(browser, live_server.url, MOBILE)
    page.goto("/acme/help/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= MOBILE["width"], width
    page.goto("/acme/help/search?q=password")
    page.get_by_role("link", name="How to reset your password").click()
    # The click starts a navigation: measure the article page, not the page being left.
    expect(page.get_by_role("heading", level=1)).to_have_text("How to reset your password")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    screenshot(page, "kb-help-article-mobile")
    page.context.close()


def test_agent_writes_with_live_preview(page: Page) -> None:
    tenant, _reset = _seed()
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto("/acme/kb/")
    expect(page.get_by_role("link", name="Password policy (internal)")).to_be_visible()
    screenshot(page, "kb-agent-list")
    page.get_by_role("link", name="New article").first.click()
    page.get_by_label("Title").fill("Connect Slack")
    page.get_by_label("Body").fill("!!! warning\n    Admins only.\n\n```js\nconnect()\n```\n")
    expect(page.locator("[data-kb-preview] .admonition.warning")).to_contain_text("Admins only.")
    page.get_by_label("Body").fill("Click <script>alert(1)</script>")
    expect(page.locator("[data-kb-problems]")).to_contain_text("Raw HTML (<script>)")
    page.get_by_label("Body").fill(BODY)
    expect(page.locator("[data-kb-preview] table")).to_be_visible()
    screenshot(page, "kb-agent-editor")
    page.get_by_role("button", name="Create article").click()
    expect(page.get_by_text("“Connect Slack” was created.")).to_be_visible()
    with tenant_context(tenant):
        assert Article.objects.get(title="Connect Slack").state == "draft"


def test_agent_inserts_an_article_into_a_reply(page: Page, settings: Any) -> None:
    settings.COMPOSER_UNDO_SECONDS = 1
    from autocrm.tickets.models import Message
    from autocrm.tickets.tests.factories import ticket

    tenant, reset = _seed()
    with tenant_context(tenant):
        made = ticket(tenant, subject="I forgot my password")
    # The live server's first request warms the process up (many seconds on a loaded host).
    page.goto("/accounts/login/", timeout=90_000)
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto(f"/acme/agent/tickets/{made.number}/")
    page.locator("[data-kb-picker] summary").click()
    page.get_by_label("Find an article to insert").fill("reset password")
    picker = page.locator("[data-kb-picker-results]")
    expect(picker).to_contain_text("How to reset your password")
    picker.get_by_role("button", name="Insert link").first.click()
    composer = page.get_by_role("textbox", name="Message")
    link = f"/acme/help/articles/{reset.pk}-how-to-reset-your-password/"
    expect(composer).to_contain_text("How to reset your password: http")
    expect(composer).to_contain_text(link)
    screenshot(page, "kb-agent-insert-link")
    page.get_by_role("button", name="Send reply").click()
    sent_message = page.get_by_role("article", name=re.compile("^Public message from Alex"))
    expect(sent_message).to_contain_text(link)
    with tenant_context(tenant):
        sent = Message.objects.filter(ticket=made, public=True).order_by("pk").last()
        assert sent is not None and link in sent.body_text
