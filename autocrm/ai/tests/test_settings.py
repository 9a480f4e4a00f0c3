"""Settings → AI: the tenant's triage switch, confidence threshold and monthly LLM budget
are set by owners and admins on a page, audited, and used by triage and the LLM client."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from autocrm.accounts.tests.factories import member
from autocrm.ai.models import AISettings
from autocrm.ai.services.triage import tenant_threshold
from autocrm.ai.services.usage import llm_monthly_budget
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def test_an_admin_sets_the_threshold_budget_and_switch(tenant_a: Tenant, client: Client) -> None:
    with tenant_context(tenant_a):
        admin = member(tenant_a, "admin")
    client.force_login(admin)
    url = reverse("workspace:settings_ai", args=[tenant_a.slug])
    page = client.get(url).content.decode()
    assert "Monthly LLM budget" in page and "(no monthly budget)" in page
    # Reachable from the settings navigation.
    assert (
        f'href="{url}"'
        in client.get(reverse("workspace:settings", args=[tenant_a.slug])).content.decode()
    )
    saved = client.post(url, {"triage_threshold": "0.8", "llm_monthly_budget": "25.50"})
    assert saved.status_code == 302
    with tenant_context(tenant_a):
        row = AISettings.objects.get(tenant=tenant_a)
        assert (row.triage_enabled, row.triage_threshold) == (False, 0.8)
        assert llm_monthly_budget(tenant_a) == Decimal("25.50")
        assert tenant_threshold(tenant_a) == 0.8
        event = Event.objects.get(type="ai.settings.updated")
    assert event.payload["changes"]["llm_monthly_budget"] == {"from": None, "to": "25.50"}
    assert event.payload["changes"]["triage_enabled"] == {"from": True, "to": False}
    assert "of $25.50" in client.get(url).content.decode()
    # Saving the same values again changes nothing and appends nothing.
    client.post(url, {"triage_threshold": "0.8", "llm_monthly_budget": "25.50"})
    with tenant_context(tenant_a):
        assert Event.objects.filter(type="ai.settings.updated").count() == 1


def test_bad_values_are_form_errors_and_nothing_is_saved(tenant_a: Tenant, client: Client) -> None:
    with tenant_context(tenant_a):
        admin = member(tenant_a, "admin")
    client.force_login(admin)
    url = reverse("workspace:settings_ai", args=[tenant_a.slug])
    answer = client.post(
        url, {"triage_enabled": "on", "triage_threshold": "1.5", "llm_monthly_budget": "-3"}
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "less than or equal to 1" in html and "greater than or equal to 0" in html
    with tenant_context(tenant_a):
        assert not AISettings.objects.exists()


def test_agents_cannot_change_them(tenant_a: Tenant, client: Client) -> None:
    with tenant_context(tenant_a):
        agent = member(tenant_a, "agent")
    client.force_login(agent)
    url = reverse("workspace:settings_ai", args=[tenant_a.slug])
    assert client.post(url, {"llm_monthly_budget": "1000"}).status_code in (302, 403)
    with tenant_context(tenant_a):
        assert not AISettings.objects.exists()
