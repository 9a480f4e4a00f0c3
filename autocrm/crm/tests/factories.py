"""CRM rows for tests, made through the services (so every invariant and event holds)."""

from __future__ import annotations

import itertools
from typing import Any

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm import services
from autocrm.crm.models import Company, Contact

_n = itertools.count(1)


def contact(tenant: Tenant, **kwargs: Any) -> Contact:
    kwargs.setdefault("email", f"person{next(_n)}@example.test")
    kwargs.setdefault("name", "Pat Example")
    with tenant_context(tenant):
        return services.contact_create(tenant=tenant, actor=SYSTEM, **kwargs)


def company(tenant: Tenant, **kwargs: Any) -> Company:
    kwargs.setdefault("name", f"Company {next(_n)}")
    with tenant_context(tenant):
        return services.company_create(tenant=tenant, actor=SYSTEM, **kwargs)


def pipeline(tenant: Tenant, **kwargs: Any) -> Any:
    kwargs.setdefault("name", f"Pipeline {next(_n)}")
    with tenant_context(tenant):
        return services.pipeline_create(tenant=tenant, actor=SYSTEM, **kwargs)


def deal(tenant: Tenant, **kwargs: Any) -> Any:
    kwargs.setdefault("title", f"Deal {next(_n)}")
    with tenant_context(tenant):
        return services.deal_create(tenant=tenant, actor=SYSTEM, **kwargs)


def activity(tenant: Tenant, **kwargs: Any) -> Any:
    kwargs.setdefault("kind", "task")
    kwargs.setdefault("subject", f"Task {next(_n)}")
    with tenant_context(tenant):
        return services.activity_create(tenant=tenant, actor=SYSTEM, **kwargs)
