"""Knowledge-base rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant):
``{article_id}`` and ``{category_id}`` paths are called with another tenant's real rows,
which carry the marker (public, internal and draft articles alike)."""

from __future__ import annotations

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.tests.factories import article, category


def seed_knowledge(tenant: Tenant, marker: str) -> None:
    with tenant_context(tenant):
        group = category(tenant, name=f"Category {marker}")
        article(tenant, title=f"Public {marker}", body=f"{marker} text", category_id=group.pk)
        article(tenant, title=f"Internal {marker}", visibility="internal")
        article(tenant, title=f"Draft {marker}", state="draft")
