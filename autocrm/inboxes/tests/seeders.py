"""Inbox rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant): the
``{inbox_id}`` paths are called with another tenant's real inbox, which has received mail
carrying the marker."""

from __future__ import annotations

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.inboxes.inbound import email_import
from autocrm.inboxes.tests.factories import inbox, mail


def seed_inboxes(tenant: Tenant, marker: str) -> None:
    box = inbox(tenant, address=f"{marker}@{tenant.slug}.test", name=f"inbox {marker}")
    with tenant_context(tenant):
        email_import(
            tenant=tenant,
            inbox=box,
            raw=mail(
                sender=f"{marker} <{marker}@customer.test>",
                to=box.address,
                subject=f"{marker} by mail",
                text=f"{marker} body",
            ),
        )
