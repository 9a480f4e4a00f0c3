"""Triage every new ticket (run by core.events_dispatch in the worker, in the event's
tenant context, right after the ticket's transaction committed)."""

from __future__ import annotations

from autocrm.ai.services.triage import TRIAGE_ACTOR, ticket_triage
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.tickets.events import TICKET_CREATED


@event_handler("ai_triage", types=[TICKET_CREATED])
def triage_new_ticket(event: Event) -> None:
    from autocrm.ai.models import AISettings

    tenant = Tenant.objects.get(pk=event.tenant_id)
    if AISettings.objects.filter(tenant=tenant, triage_enabled=False).exists():
        return
    ticket_triage(tenant=tenant, actor=TRIAGE_ACTOR, ticket_id=int(event.subject_id))
