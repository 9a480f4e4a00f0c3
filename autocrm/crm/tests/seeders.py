"""CRM rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant), so every
``{contact_id}`` and ``{company_id}`` path is called with another tenant's real ids."""

from __future__ import annotations

from autocrm.core.models import Tenant
from autocrm.crm.services import PhoneInput
from autocrm.crm.tests.factories import company, contact


def seed_crm(tenant: Tenant, marker: str) -> None:
    parent = company(tenant, name=f"{marker} holding", domains=[f"{marker}-holding.test"])
    firm = company(tenant, name=f"{marker} inc", domains=[f"{marker}.test"], parent_id=parent.pk)
    contact(
        tenant,
        email=f"crm-{marker}@{marker}.test",
        name=f"{marker} person",
        phones=[PhoneInput("+14155550100", marker[:30])],
        tags=[marker],
        custom_fields={"marker": marker},
        company_ids=[firm.pk],
    )
