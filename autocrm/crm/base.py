"""The base of every crm table."""

from __future__ import annotations

from django.db import models

from autocrm.core.models import Tenant, TenantOwned


class CrmRecord(TenantOwned):
    """``TenantOwned`` without Django's index on ``tenant_id`` alone: every crm table has
    indexes starting with ``tenant_id`` (its list orders, its unique constraints) that serve
    every lookup by tenant. The single-column one only cost writes (five of them for each
    imported contact) and, for a tenant the statistics did not know yet (a new customer's
    first import), tempted the planner into reading all of the tenant's rows through it
    (crm migration 0013; tickets did the same in their migration 0008)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        abstract = True
