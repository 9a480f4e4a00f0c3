"""Webhook rows for the cross-tenant route suite (autocrm.core.tests.test_cross_tenant):
append ``seed_webhooks`` to its SEEDERS so the ``{webhook_subscription_id}`` and
``{webhook_delivery_id}`` paths are called with another tenant's real ids."""

from __future__ import annotations

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications import services


def seed_webhooks(tenant: Tenant, marker: str) -> None:
    """A subscription (public address literal, so no DNS and no setting is needed) with one
    delivery, the marker in its URL, description and delivered body."""
    services.webhook_subscription_create(
        tenant=tenant, actor=SYSTEM, url=f"http://93.184.215.14/{marker}", description=marker
    )
    with tenant_context(tenant):
        event = event_append(
            tenant=tenant,
            type="ticket.updated",
            subject=("test", marker),
            actor=SYSTEM,
            payload={"marker": marker},
        )
    services.webhook_deliveries_create_for_event(tenant=tenant, actor=SYSTEM, event=event)
