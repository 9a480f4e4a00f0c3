"""The demo data's companies (``manage.py seed_demo``): requesters linked by their domain."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.models import Company, Contact

pytestmark = pytest.mark.django_db


def test_the_demo_requesters_belong_to_their_companies_once() -> None:
    call_command("seed_demo", "--force", stdout=io.StringIO())
    call_command("seed_demo", "--force", stdout=io.StringIO())
    tenant = Tenant.objects.get(slug="demo")
    with tenant_context(tenant):
        assert Company.objects.count() == 2
        pat = Contact.objects.get(email="pat.buyer@example.net")
        assert pat.company is not None and pat.company.name == "Example Networks"
