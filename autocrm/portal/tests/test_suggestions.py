"""Suggested articles on the request form, and deflection counted when one is opened."""

from __future__ import annotations

import pytest

from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.tests.factories import article
from autocrm.portal.tests.helpers import customer, signed_in

pytestmark = pytest.mark.django_db


def test_suggestions_follow_the_subject_and_opening_one_counts(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        public = article(tenant_a)
        article(tenant_a, title="Reset password for agents", visibility="internal")
        article(tenant_a, title="Reset password draft", state="draft")
    client = signed_in(customer(tenant_a))
    form = client.get("/acme/help/requests/new/").content.decode()
    assert 'hx-get="/acme/help/requests/suggest"' in form
    found = client.get("/acme/help/requests/suggest", {"subject": "reset my password"})
    body = found.content.decode()
    assert "How to reset your password" in body
    assert "for agents" not in body and "draft" not in body  # public, published only
    opened = client.get(
        f"/acme/help/requests/suggested/{public.pk}/", {"subject": "reset my password"}
    )
    assert opened.status_code == 302
    assert opened["Location"] == f"/acme/help/articles/{public.pk}-{public.slug}/"
    with tenant_context(tenant_a):
        event = Event.objects.get(tenant=tenant_a, type="help.request.deflected")
    assert event.payload["article_id"] == public.pk
    assert event.payload["subject"] == "reset my password"


def test_no_suggestions_for_short_input_or_hidden_articles(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        internal = article(tenant_a, visibility="internal")
    client = signed_in(customer(tenant_a))
    assert (
        "<li>" not in client.get("/acme/help/requests/suggest", {"subject": "re"}).content.decode()
    )
    assert client.get(f"/acme/help/requests/suggested/{internal.pk}/").status_code == 404
    with tenant_context(tenant_a):
        assert not Event.objects.filter(type="help.request.deflected").exists()
