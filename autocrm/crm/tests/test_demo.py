"""The demo data's companies (``manage.py seed_demo``): requesters linked by their domain."""

from __future__ import annotations

import pytest

from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company, Contact
from autocrm.testing.demo import seeded_demo_tenant

pytestmark = pytest.mark.django_db


def test_the_demo_requesters_belong_to_their_companies_once() -> None:
    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        assert Company.objects.count() == 2
        pat = Contact.objects.get(email="pat.buyer@example.net")
        assert pat.company is not None and pat.company.name == "Example Networks"


def test_the_demo_has_a_sales_pipeline_with_deals_and_follow_ups_once() -> None:
    from autocrm.crm.demo import DEALS
    from autocrm.crm.models import Activity, Deal, Pipeline

    tenant = seeded_demo_tenant()
    with tenant_context(tenant):
        assert list(Pipeline.objects.values_list("name", flat=True)) == ["Sales"]
        deals = list(Deal.objects.select_related("company", "owner"))
        assert len(deals) == len(DEALS)
        assert all(d.company is not None and d.owner is not None for d in deals)
        assert Activity.objects.filter(deal__isnull=False, due_at__isnull=False).count() == len(
            DEALS
        )
