"""Knowledge-base rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant):
``{article_id}`` and ``{category_id}`` paths are called with another tenant's real rows,
whose internal and draft articles carry the marker. The published public article and its
category do not: the help centre shows them to anyone by design (its pages are public),
and the walk checks that nothing else of the tenant appears there."""

from __future__ import annotations

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.knowledge.tests.factories import article, category


def seed_knowledge(tenant: Tenant, marker: str) -> None:
    with tenant_context(tenant):
        group = category(tenant, name="Getting started")
        public = article(tenant, title="Welcome", body="Public text.", category_id=group.pk)
        article(
            tenant,
            title=f"Internal {marker}",
            body=f"{marker} secret",
            visibility="internal",
            category_id=group.pk,
            related_ids=[public.pk],
        )
        article(tenant, title=f"Draft {marker}", state="draft", category_id=group.pk)
        article(
            tenant,
            title=f"Welcome {marker}",
            locale="de",
            state="draft",
            translation_of=public.pk,
        )
