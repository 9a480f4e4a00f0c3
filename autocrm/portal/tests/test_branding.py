"""Branding: colours become CSS variables (only valid ones), name and footer show, the logo
is a checked raster image served from the tenant's own address."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.portal import services
from autocrm.portal.branding import Branding, mix, readable_text_on

pytestmark = pytest.mark.django_db

# The smallest valid PNG (1x1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def _update(tenant: Tenant, **changes: object) -> Tenant:
    values: dict[str, object] = {
        "brand_name": "",
        "primary_color": "",
        "header_color": "",
        "footer_text": "",
        "custom_domain": "",
        "signup_policy": "open",
        "signup_domains": [],
        "customers_see_organization_tickets": False,
        "csat_enabled": True,
    }
    values.update(changes)
    return services.help_settings_update(tenant=tenant, actor=SYSTEM, **values)  # type: ignore[arg-type]


def test_colour_helpers() -> None:
    assert mix("#000000", "#ffffff", 0.5) == "#808080"
    assert readable_text_on("#ffffff") == "#111827"
    assert readable_text_on("#0f172a") == "#ffffff"


def test_the_tenants_branding_shows_on_every_help_page(client: Client, tenant_a: Tenant) -> None:
    _update(
        tenant_a,
        brand_name="Acme Support",
        primary_color="#0F766E",
        header_color="#0f172a",
        footer_text="Open Monday to Friday, 9-17",
    )
    body = client.get("/acme/help/").content.decode()
    assert "Acme Support" in body
    assert "--primary: #0f766e" in body  # stored lowercase
    assert "--help-header-text: #ffffff" in body  # light text on a dark header
    assert "Open Monday to Friday, 9-17" in body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("primary_color", "red; background: url(x)"),
        ("header_color", "#12345"),
        ("custom_domain", "https://help.example.com/"),
        ("signup_policy", "everyone"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(
    tenant_a: Tenant, field: str, value: str
) -> None:
    with pytest.raises(ValidationError):
        _update(tenant_a, **{field: value})
    tenant_a.refresh_from_db()
    assert tenant_a.settings == {}


def test_a_domain_policy_needs_a_domain(tenant_a: Tenant) -> None:
    with pytest.raises(ValidationError, match="at least one domain"):
        _update(tenant_a, signup_policy="domain")
    _update(tenant_a, signup_policy="domain", signup_domains=["example.com"])
    tenant_a.refresh_from_db()
    assert tenant_a.setting("help_signup_domains") == ["example.com"]


def test_signup_domains_are_parsed_and_checked() -> None:
    assert services.signup_domains_parse("Example.com, @example.org  example.com") == [
        "example.com",
        "example.org",
    ]
    with pytest.raises(ValidationError):
        services.signup_domains_parse("not a domain!")


def test_settings_changes_are_events(tenant_a: Tenant) -> None:
    from autocrm.core.models import Event
    from autocrm.core.tenancy import tenant_context

    _update(tenant_a, primary_color="#0f766e")
    with tenant_context(tenant_a):
        event = Event.objects.filter(tenant=tenant_a, type="tenant.settings_updated").get()
    assert event.payload["changes"]["settings.help_primary_color"] == {
        "from": "",
        "to": "#0f766e",
    }


def test_a_logo_is_stored_and_served(client: Client, tenant_a: Tenant) -> None:
    services.help_logo_set(tenant=tenant_a, actor=SYSTEM, upload=io.BytesIO(PNG), size=len(PNG))
    branding = Branding(tenant_a)
    assert branding.has_logo
    body = client.get("/acme/help/").content.decode()
    assert branding.logo_url.replace("&", "&amp;") in body
    response = client.get(branding.logo_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00" + b"\x00" * 100,
    ],
)
def test_a_logo_must_be_a_raster_image(tenant_a: Tenant, data: bytes) -> None:
    with pytest.raises(ValidationError, match="PNG, JPEG, WebP or GIF"):
        services.help_logo_set(
            tenant=tenant_a, actor=SYSTEM, upload=io.BytesIO(data), size=len(data)
        )
    tenant_a.refresh_from_db()
    assert not tenant_a.setting("help_logo")


def test_an_oversize_logo_is_refused(tenant_a: Tenant) -> None:
    data = PNG + b"\x00" * services.LOGO_MAX_BYTES
    with pytest.raises(ValidationError, match="512 KB"):
        services.help_logo_set(
            tenant=tenant_a, actor=SYSTEM, upload=io.BytesIO(data), size=len(data)
        )


def test_no_logo_is_404(client: Client, tenant_a: Tenant) -> None:
    assert client.get("/acme/help/brand/logo").status_code == 404
