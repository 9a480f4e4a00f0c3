"""A solved ticket asks its requester for a rating (run by core.events_dispatch in the
worker, in the event's tenant context and transaction): the survey, and its mail queued on
the email send queue (autocrm.inboxes: sent once per solve, retried while the mail server
is down; the body comes from autocrm.portal.satisfaction.survey_mail)."""

from __future__ import annotations

from autocrm.core.actors import Actor
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.inboxes.models import OutboundKind
from autocrm.inboxes.notifications import notification_queue
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
    if found is not None and survey_create(tenant=tenant, actor=SURVEY, ticket=found):
        notification_queue(
            tenant=tenant,
            actor=SURVEY,
            ticket_id=found.pk,
            kind=OutboundKind.CSAT_SURVEY,
            event_id=event.pk,
        )
