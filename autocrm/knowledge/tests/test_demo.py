"""The demo data's knowledge base (``manage.py seed_demo``): published, searchable, once."""

from __future__ import annotations

import pytest

from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.models import Article, Category, State, Visibility
from autocrm.testing.demo import seeded_demo_tenant

pytestmark = pytest.mark.django_db


def test_the_demo_knowledge_base_is_published_once(client) -> None:  # type: ignore[no-untyped-def]
    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        assert Category.objects.count() == 3
        assert Article.objects.count() == 5
        assert not Article.objects.exclude(state=State.PUBLISHED).exists()
        internal = Article.objects.get(visibility=Visibility.INTERNAL)
    page = client.get("/demo/help/search", {"q": "invoices"})
    assert page.status_code == 200
    assert "Export all your invoices at once" in page.content.decode()
    assert internal.title not in client.get("/demo/help/search", {"q": "hardware"}).content.decode()
