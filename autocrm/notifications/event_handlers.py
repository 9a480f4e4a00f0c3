"""Fan-out of every event to the tenant's webhook subscriptions (run by core.events_dispatch
in the worker, inside the event's tenant context)."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.notifications.services import webhook_deliveries_create_for_event

FAN_OUT = Actor.system("webhooks_fan_out")


@event_handler("webhooks", types=None)
def webhooks_fan_out(event: Event) -> None:
    tenant = Tenant.objects.get(pk=event.tenant_id)
    webhook_deliveries_create_for_event(tenant=tenant, actor=FAN_OUT, event=event)
