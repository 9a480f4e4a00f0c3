"""Triage every new ticket (run by core.events_dispatch in the worker, in the event's
tenant context, right after the ticket's transaction committed)."""

from __future__ import annotations

import structlog

from autocrm.ai.services.triage import TRIAGE_ACTOR, ticket_triage
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.tickets.events import TICKET_CREATED
from autocrm.tickets.models import Ticket

logger = structlog.get_logger(__name__)


@event_handler("ai_triage", types=[TICKET_CREATED])
def triage_new_ticket(event: Event) -> None:
    from autocrm.ai.models import AISettings

    tenant = Tenant.objects.get(pk=event.tenant_id)
    if AISettings.objects.filter(tenant=tenant, triage_enabled=False).exists():
        return
    ticket_id = int(event.subject_id)
    if not Ticket.objects.filter(tenant=tenant, pk=ticket_id).exists():
        # Deleted (or merged away) before the worker got to it: nothing left to triage,
        # and failing would retry the event's other handlers' delivery for nothing.
        logger.info("ai.triage_skipped", ticket_id=ticket_id, reason="ticket gone")
        return
    ticket_triage(tenant=tenant, actor=TRIAGE_ACTOR, ticket_id=ticket_id)
