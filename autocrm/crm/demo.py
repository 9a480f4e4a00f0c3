"""The demo tenant's companies (``manage.py seed_demo``): the demo requesters' email domains
belong to companies, so their contacts are linked and the ticket page shows a CRM record.
Only while the tenant has no company yet."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import selectors, services

COMPANIES = (
    ("Example Networks", "example.net", ("customer", "enterprise")),
    ("Example Organisation", "example.org", ("customer",)),
)


def seed(*, tenant: Tenant, actor: Actor) -> list[str]:
    if selectors.company_list(tenant=tenant, actor=actor).exists():
        return []
    for name, domain, tags in COMPANIES:
        services.company_create(tenant=tenant, actor=actor, name=name, domains=[domain], tags=tags)
    return [f"{len(COMPANIES)} companies"]
