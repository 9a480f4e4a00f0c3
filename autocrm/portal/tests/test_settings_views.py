"""The help-centre settings page: admins only, form errors instead of 5xx, saved values show."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.portal.tests.test_branding import PNG

pytestmark = pytest.mark.django_db

URL = "/acme/settings/help-centre/"


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _form(**changes: str) -> dict[str, str]:
    data = {
        "action": "settings",
        "brand_name": "Acme Help",
        "primary_color": "#0f766e",
        "header_color": "",
        "footer_text": "",
        "custom_domain": "help.acme.test",
        "signup_policy": "open",
        "signup_domains": "",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", ["agent", "light_agent", "customer"])
def test_only_admins_open_it(tenant_a: Tenant, role: str) -> None:
    assert signed_in(member(tenant_a, role)).get(URL).status_code == 403


def test_an_admin_saves_the_settings(tenant_a: Tenant) -> None:
    client = signed_in(member(tenant_a, "admin"))
    page = client.get(URL)
    assert page.status_code == 200
    assert 'href="/acme/settings/help-centre/" aria-current="page"' in page.content.decode()
    response = client.post(URL, _form(customers_see_organization_tickets="on"))
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.setting("help_brand_name") == "Acme Help"
    assert tenant_a.setting("help_custom_domain") == "help.acme.test"
    assert tenant_a.setting("customers_see_organization_tickets") is True
    assert tenant_a.setting("csat_enabled") is False  # an unticked box


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"primary_color": "javascript:alert(1)"}, "Use a colour as #rrggbb"),
        ({"signup_policy": "domain"}, "Name at least one domain"),
        ({"signup_domains": "<script>"}, "is not a host name"),
    ],
)
def test_bad_values_are_form_errors(
    tenant_a: Tenant, changes: dict[str, str], message: str
) -> None:
    response = signed_in(member(tenant_a, "admin")).post(URL, _form(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "'<script>'" not in response.content.decode()  # echoed escaped, if at all


def test_a_logo_upload_and_removal(tenant_a: Tenant) -> None:
    client = signed_in(member(tenant_a, "admin"))
    upload = SimpleUploadedFile("logo.png", PNG, content_type="image/png")
    assert client.post(URL, {"action": "logo", "logo": upload}).status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.setting("help_logo").endswith(".png")
    assert client.post(URL, {"action": "logo_remove"}).status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.setting("help_logo") == ""


def test_a_script_posing_as_a_logo_is_a_form_error(tenant_a: Tenant) -> None:
    upload = SimpleUploadedFile("logo.png", b"<script>alert(1)</script>", content_type="image/png")
    response = signed_in(member(tenant_a, "admin")).post(URL, {"action": "logo", "logo": upload})
    assert response.status_code == 400
    assert "Upload a PNG, JPEG, WebP or GIF image." in response.content.decode()
