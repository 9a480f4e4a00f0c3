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
