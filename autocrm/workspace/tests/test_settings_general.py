"""General settings: the language of customer e-mails and the custom fields customers see,
saved through the tenant settings service (one audit event) and used where they matter."""

from __future__ import annotations

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.tickets import config_services
from autocrm.tickets.tests.factories import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(tenant_a: Tenant) -> Client:
    client = Client()
    client.force_login(member(tenant_a, "admin"))
    return client


def _fields(tenant: Tenant) -> None:
    with tenant_context(tenant):
        for key, label in (("plan", "Plan"), ("region", "Region")):
            config_services.custom_field_create(
                tenant=tenant, actor=SYSTEM, key=key, label=label, field_type="text"
            )


def test_default_language_and_customer_visible_fields(admin: Client, tenant_a: Tenant) -> None:
    _fields(tenant_a)
    page = admin.get("/acme/settings/").content.decode()
    assert '<option value="de">' in page and 'name="customer_visible_fields"' in page
    assert 'value="plan"' in page and "Region" in page
    response = admin.post(
        "/acme/settings/",
        {"name": "Acme", "default_locale": "de", "customer_visible_fields": ["plan"]},
    )
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.setting("default_locale") == "de"
    assert tenant_a.setting("customer_visible_fields") == ["plan"]
    with tenant_context(tenant_a):
        event = Event.objects.get(type="tenant.settings_updated")
    assert event.payload["changes"] == {
        "settings.default_locale": {"from": "en", "to": "de"},
        "settings.customer_visible_fields": {"from": [], "to": ["plan"]},
    }
    page = admin.get("/acme/settings/").content.decode()
    assert '<option value="de" selected>' in page


def test_bad_values_are_form_errors_and_unknown_keys_stay(admin: Client, tenant_a: Tenant) -> None:
    _fields(tenant_a)
    bad = admin.post(
        "/acme/settings/",
        {"name": "Acme", "default_locale": "<b>xx</b>", "customer_visible_fields": ["nope"]},
    )
    assert bad.status_code == 400
    body = bad.content.decode()
    assert "Select a valid choice" in body and "<b>xx</b>" not in body
    tenant_a.refresh_from_db()
    assert tenant_a.setting("default_locale") == "en"
    # A key set through the API for a field that no longer exists is shown, not dropped.
    tenant_a.settings = {**tenant_a.settings, "customer_visible_fields": ["gone"]}
    tenant_a.save()
    page = admin.get("/acme/settings/").content.decode()
    assert "gone (no such field)" in page
