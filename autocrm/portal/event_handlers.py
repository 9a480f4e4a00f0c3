"""A solved ticket asks its requester for a rating (run by core.events_dispatch in the
worker, in the event's tenant context and transaction)."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.portal.satisfaction import survey_create
from autocrm.tickets.events import TICKET_UPDATED
from autocrm.tickets.models import Status, Ticket

SURVEY = Actor.system("csat_survey")


@event_handler("csat_survey", types=[TICKET_UPDATED])
def csat_survey(event: Event) -> None:
    status = event.payload.get("changes", {}).get("status", {})
    if status.get("to") != Status.SOLVED:
        return
    tenant = Tenant.objects.get(pk=event.tenant_id)
    ticket = Ticket.objects.filter(tenant=tenant, pk=event.subject_id).select_related("requester")
    found = ticket.first()
    if found is not None:
        survey_create(tenant=tenant, actor=SURVEY, ticket=found)
