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


def seed_crm_sales(tenant: Tenant, marker: str) -> None:
    """A pipeline, a deal, an activity and an activity template carrying ``marker``."""
    from autocrm.accounts.tests.factories import SYSTEM
    from autocrm.core.tenancy import tenant_context
    from autocrm.crm import services
    from autocrm.crm.models import Contact

    with tenant_context(tenant):
        pipeline = services.pipeline_create(tenant=tenant, actor=SYSTEM, name=f"{marker} pipe")
        person = Contact.objects.filter(tenant=tenant).order_by("pk").first()
        deal = services.deal_create(
            tenant=tenant,
            actor=SYSTEM,
            title=f"{marker} deal",
            pipeline_id=pipeline.pk,
            amount="1000",
            currency="EUR",
            contact_id=person.pk if person else None,
        )
        services.activity_create(
            tenant=tenant, actor=SYSTEM, kind="task", subject=f"{marker} task", deal_id=deal.pk
        )
        services.activity_template_create(
            tenant=tenant, actor=SYSTEM, name=f"{marker} tpl", kind="call", subject=marker
        )
        from autocrm.accounts.models import STAFF_ROLES, Membership

        staff = Membership.objects.filter(tenant=tenant, role__in=STAFF_ROLES).first()
        if staff is not None:
            services.deal_assignment_rule_create(
                tenant=tenant,
                actor=SYSTEM,
                name=f"{marker} rule",
                kind="lead",
                user_ids=[staff.user_id],
            )
