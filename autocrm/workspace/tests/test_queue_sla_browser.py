"""The queue's SLA due column in headless Chromium, light and dark (screenshots under
var/screenshots/ to be looked at; one is docs/screenshots/agent-queue-sla.png)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from autocrm.accounts.tests.factories import DEFAULT_PASSWORD, member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services as routing_services
from autocrm.routing.models import SlaTimer
from autocrm.routing.tests.factories import SYSTEM, dispatch_all
from autocrm.testing.browser import screenshot, sign_in
from autocrm.tickets.tests.factories import ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_queue_shows_when_each_ticket_is_due(page: Page) -> None:
    tenant = Tenant.objects.create(slug="acme", name="Acme Support")
    with tenant_context(tenant):
        member(tenant, "agent", email="alex@acme.test", name="Alex Agent")
        routing_services.sla_policy_create(
            tenant=tenant,
            actor=SYSTEM,
            name="Everyone",
            first_reply_minutes=240,
            resolution_minutes=24 * 60,
        )
        late = ticket(tenant, subject="Printer on fire in the Berlin office", priority="urgent")
        soon = ticket(tenant, subject="Refund for a double charge", priority="high")
        ticket(tenant, subject="How do I export my invoices?", priority="low")
        waiting = ticket(tenant, subject="VPN drops every ten minutes")
    dispatch_all(tenant)
    with tenant_context(tenant):
        now = timezone.now()
        SlaTimer.objects.filter(ticket_id=late.pk, metric="first_reply").update(
            due_at=now - dt.timedelta(hours=2), breached_at=now - dt.timedelta(hours=2)
        )
        SlaTimer.objects.filter(ticket_id=soon.pk, metric="first_reply").update(
            due_at=now + dt.timedelta(minutes=25)
        )
        SlaTimer.objects.filter(ticket_id=waiting.pk).update(
            state="paused", due_at=None, remaining_seconds=3600
        )
    sign_in(page, "alex@acme.test", DEFAULT_PASSWORD)
    page.goto("/acme/agent/")
    expect(page.get_by_role("columnheader", name="SLA due")).to_be_visible()

    def cell(number: int) -> str:
        return f"tr[data-number='{number}'] td.col-sla"

    expect(page.locator(cell(late.number))).to_have_text("2h late")
    expect(page.locator(cell(late.number) + " .sla-breached")).to_be_visible()
    expect(page.locator(cell(soon.number))).to_have_text(re.compile(r"^in 2[345]m$"))
    expect(page.locator(cell(soon.number) + " .sla-soon")).to_be_visible()
    expect(page.locator(cell(waiting.number))).to_have_text("Paused")
    screenshot(page, "agent-queue-sla")
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(page.locator(cell(late.number) + " .sla-breached")).to_be_visible()
    screenshot(page, "agent-queue-sla-dark")
