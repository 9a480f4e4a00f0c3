"""The AI pages in headless Chromium: the dashboard reached from the workspace navigation,
a ticket's summary asked for from its AI panel, and a suggested reply inserted into the
composer (screenshots under var/screenshots/)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect
from procrastinate.contrib.django.models import ProcrastinateJob

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.ai import histogram
from autocrm.ai.indexing import INDEX_ACTOR, tenant_reindex
from autocrm.ai.models import LLMUsage, PendingHandoff, ReplyDraft
from autocrm.ai.tasks import handoff_confirmation_send
from autocrm.ai.tests.factories import (
    category_field,
    chatbot_conversation,
    draft,
    long_ticket,
    triaged,
)
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.tests.factories import article
from autocrm.testing.browser import screenshot, sign_in
from autocrm.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_and_summary(page: Page) -> None:
    page.set_default_timeout(60_000)  # the first pages of a live server on a loaded host
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
    with tenant_context(tenant):
        category_field(tenant)
        solved = {"status": "solved"}
        for category in ("refund", "refund", "shipping", "billing"):
            triaged(tenant, "applied", category, custom_fields={"category": category}, **solved)
        triaged(tenant, "applied", "refund", custom_fields={"category": "shipping"}, **solved)
        triaged(tenant, "corrected", "billing", final="refund")
        triaged(tenant, "review", "billing")
        draft(tenant, "accepted")
        draft(tenant, "edited", edit_distance=40)
        draft(tenant, "rejected")
        for n in range(6):
            chatbot_conversation(tenant, f"a{n}", [True])
        chatbot_conversation(tenant, "h1", [True, False], handed_off=True)
        chatbot_conversation(tenant, "h2", [False], handed_off=True)
        chatbot_conversation(tenant, "u1", [False])
        today = timezone.now().date()
        for back in (1, 2, 4, 5, 8, 9, 11, 15, 16, 18, 22, 23, 25, 29):
            calls, failures = 3 + back % 5, 1 if back % 7 == 0 else 0
            # Answers of about a second, and one slow one on some days.
            answered = [700.0 + 60 * (back % 6) + 25 * n for n in range(calls - failures)]
            if back % 4 == 1:
                answered[-1] = 2400.0 + 100 * back
            counts = histogram.empty()
            for ms in answered:
                counts[histogram.bucket_of(ms)] += 1
            LLMUsage.objects.create(
                tenant=tenant,
                day=today - dt.timedelta(days=back),
                feature="reply" if back % 3 else "summary",
                calls=calls,
                failures=failures,
                prompt_tokens=900 * calls,
                completion_tokens=150 * calls,
                cost=Decimal("0.0021") * calls,
                latency_ms_total=sum(answered),
                latency_histogram=counts,
            )
        t = long_ticket(tenant)
        article(
            tenant,
            title="Replacing a damaged tablet",
            body="A tablet that arrived cracked or broken is replaced free of charge: send a "
            "photo of the damage and we ship a new one within two working days.",
        )
        tenant_reindex(tenant=tenant, actor=INDEX_ACTOR)
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)

    page.goto("/acme/agent/")
    page.get_by_role("link", name="AI dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AI dashboard")
    expect(page.locator("[data-ai-accuracy]")).to_have_text("67%")  # 4 of 6 kept
    expect(page.locator("[data-ai-review-queue]")).to_have_text("1")
    expect(page.locator("[data-ai-deflection]")).to_have_text("67%")  # 6 of 9 conversations
    # LLM latency and cost over the period, a bar per day (a day's figures on hover).
    latency = page.locator("[data-ai-llm-latency] svg")
    expect(latency).to_have_attribute(
        "aria-label",
        "LLM latency per day: p95 of the calls that answered (p50 in each bar's label)",
    )
    expect(latency.locator("title", has_text="ms, p50")).to_have_count(14)
    expect(latency.locator("title", has_text="no calls")).to_have_count(17)
    expect(page.locator("[data-ai-llm-cost] svg title", has_text="tokens")).to_have_count(14)
    screenshot(page, "ai-dashboard")

    page.goto(f"/acme/agent/tickets/{t.number}/")
    page.get_by_role("button", name="Summarise").click()
    summary = page.locator("[data-ai-summary]")
    expect(summary).to_have_attribute("data-ai-summary", "extractive")
    expect(summary).to_contain_text("cracked screen")
    screenshot(page, "ai-summary")

    # The suggested reply goes into the composer only on Insert, which the server records:
    # the reply sent afterwards is what decides the draft.
    page.get_by_role("button", name="Suggest a reply with sources").click()
    body = page.locator("[data-ai-draft-body]")
    expect(body).to_contain_text("replaced free of charge", timeout=60_000)
    # Worded like an agent's reply: not the old stock opening.
    expect(body).to_contain_text("Thank you for your message about")
    expect(body).not_to_contain_text("this should help")
    screenshot(page, "ai-draft")
    page.get_by_role("button", name="Insert into reply").click()
    expect(page.locator("#composer")).to_contain_text("replaced free of charge", timeout=30_000)
    with tenant_context(tenant):
        for _ in range(100):
            if ReplyDraft.objects.filter(ticket=t, inserted_at__isnull=False).exists():
                break
            page.wait_for_timeout(100)
        assert ReplyDraft.objects.get(ticket=t).inserted_at is not None


def test_a_visitors_handoff_is_confirmed_from_the_mailed_link(page: Page) -> None:
    page.set_default_timeout(60_000)
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    with tenant_context(tenant):
        article(tenant, title="Delivery times", body="Parcels arrive within three days.")
        tenant_reindex(tenant=tenant, actor=INDEX_ACTOR)
    page.goto("/acme/help/assistant/")
    page.get_by_label("Your question").fill("Can I pay with goats?")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#assistant-log")).to_contain_text("I don't know")
    page.reload()  # the hand-off form comes with a conversation to hand off
    page.get_by_label("Your email").fill("vic@example.test")
    page.get_by_role("button", name="Send this conversation to our team").click()
    expect(page.get_by_role("status")).to_contain_text("we sent a link to vic@example.test")
    with tenant_context(tenant):
        assert not Ticket.objects.exists()
        pending = PendingHandoff.objects.get()
        job = ProcrastinateJob.objects.get(
            task_name="ai.handoff_confirmation_send", args__handoff_id=pending.pk
        )
    mail.outbox.clear()
    handoff_confirmation_send(**job.args)
    link = re.search(r"https?://\S+/confirm/\S+/", str(mail.outbox[0].body))
    assert link is not None
    page.goto("/" + link.group(0).split("://", 1)[1].split("/", 1)[1])
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your request")
    screenshot(page, "assistant-confirm")
    page.get_by_role("button", name="Send it to the team").click()
    expect(page.locator("[data-handoff-confirmed]")).to_contain_text("was sent to our team")
    with tenant_context(tenant):
        assert Ticket.objects.get().requester.emails.get().email == "vic@example.test"
