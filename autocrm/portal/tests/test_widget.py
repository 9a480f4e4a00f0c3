"""The embeddable widget: the script is built into static/, its page may be framed by other
sites (and is the only help page that may), it searches public articles, and the settings
page shows the snippet."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.tests.factories import article

pytestmark = pytest.mark.django_db


def test_the_widget_script_is_built_from_the_repository_source() -> None:
    built = Path(settings.BASE_DIR) / "static" / "vendor" / "help-widget" / "help-widget.js"
    assert built.exists(), "run `node scripts/build-assets.mjs` (make install does)"
    assert "attachShadow" in built.read_text()


def test_the_widget_page_searches_public_articles_and_may_be_framed(
    client: Client, tenant_a: Tenant
) -> None:
    with tenant_context(tenant_a):
        public = article(tenant_a)
        article(tenant_a, title="Reset password internals", visibility="internal")
    response = client.get("/acme/help/widget/", {"q": "reset password"})
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    body = response.content.decode()
    assert f'href="/acme/help/articles/{public.pk}/" target="_blank"' in body
    assert "internals" not in body
    assert 'href="/acme/help/requests/new/" target="_blank"' in body
    # Every other help page keeps refusing to be framed.
    assert client.get("/acme/help/").get("X-Frame-Options") == "DENY"
    assert client.get("/acme/help/account/signup/").get("X-Frame-Options") == "DENY"


def test_the_settings_page_shows_the_snippet(tenant_a: Tenant) -> None:
    client = Client()
    client.force_login(member(tenant_a, "admin"))
    body = client.get("/acme/settings/help-centre/").content.decode()
    assert "/static/vendor/help-widget/help-widget.js" in body
    assert "data-help-url=&quot;http://testserver/acme/help/&quot;" in body
