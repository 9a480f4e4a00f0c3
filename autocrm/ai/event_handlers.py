"""Triage every new ticket and keep the retrieval index current (run by core.events_dispatch
in the worker, in the event's tenant context, right after the source's transaction committed)."""

from __future__ import annotations

import structlog

from autocrm.ai.services.triage import TRIAGE_ACTOR, ticket_triage
from autocrm.core.events import event_handler
from autocrm.core.models import Event, Tenant
from autocrm.knowledge import events as kb_events
from autocrm.tickets.events import (
    MESSAGE_CREATED,
    TICKET_CREATED,
    TICKET_DELETED,
    TICKET_MERGED,
    TICKET_UPDATED,
)
from autocrm.tickets.models import Status, Ticket

logger = structlog.get_logger(__name__)

# A ticket created in one of these states is history (imported, or the demo's), not work.
CLOSED_STATUSES = (Status.SOLVED, Status.CLOSED)


@event_handler("ai_triage", types=[TICKET_CREATED])
def triage_new_ticket(event: Event) -> None:
    from autocrm.ai.models import AISettings

    tenant = Tenant.objects.get(pk=event.tenant_id)
    if AISettings.objects.filter(tenant=tenant, triage_enabled=False).exists():
        return
    ticket_id = int(event.subject_id)
    if event.payload.get("status") in CLOSED_STATUSES:
        # Created already solved (history imported through the API, the demo's history):
        # nobody will work it, so there is nothing to route or categorise. It is training
        # data instead, and enters the retrieval index (index_ticket).
        logger.info("ai.triage_skipped", ticket_id=ticket_id, reason="created solved")
        return
    if not Ticket.objects.filter(tenant=tenant, pk=ticket_id).exists():
        # Deleted (or merged away) before the worker got to it: nothing left to triage,
        # and failing would retry the event's other handlers' delivery for nothing.
        logger.info("ai.triage_skipped", ticket_id=ticket_id, reason="ticket gone")
        return
    ticket_triage(tenant=tenant, actor=TRIAGE_ACTOR, ticket_id=ticket_id)


ARTICLE_EVENTS = [
    kb_events.ARTICLE_CREATED,
    kb_events.ARTICLE_UPDATED,
    kb_events.ARTICLE_PUBLISHED,
    kb_events.ARTICLE_ARCHIVED,
    kb_events.ARTICLE_DELETED,
    kb_events.ARTICLE_RESTORED,
]
TICKET_EVENTS = [TICKET_CREATED, TICKET_UPDATED, TICKET_DELETED, TICKET_MERGED]


@event_handler("ai_index_article", types=ARTICLE_EVENTS)
def index_article(event: Event) -> None:
    """Re-index an article from its current row (published: chunks; otherwise none)."""
    from autocrm.ai.indexing import INDEX_ACTOR, article_index

    tenant = Tenant.objects.get(pk=event.tenant_id)
    article_id = int(event.payload.get("article_id") or event.subject_id)
    article_index(tenant=tenant, actor=INDEX_ACTOR, article_id=article_id)


@event_handler("ai_index_ticket", types=TICKET_EVENTS)
def index_ticket(event: Event) -> None:
    """A ticket enters the index when solved or closed (or created so) and leaves it when
    reopened, merged away or deleted; other ticket changes (tags, assignee, ...) do not
    touch its text."""
    from autocrm.ai.indexing import INDEX_ACTOR, ticket_index

    if event.type == TICKET_UPDATED and "status" not in (event.payload.get("changes") or {}):
        return
    if event.type == TICKET_CREATED and event.payload.get("status") not in CLOSED_STATUSES:
        return  # a new open ticket: indexed once solved
    tenant = Tenant.objects.get(pk=event.tenant_id)
    ticket_index(tenant=tenant, actor=INDEX_ACTOR, ticket_id=int(event.subject_id))


@event_handler("ai_draft_outcome", types=[MESSAGE_CREATED])
def decide_draft_by_sent_reply(event: Event) -> None:
    """An agent's public reply decides their pending suggested reply on that ticket:
    accepted when sent as drafted, else edited (with the edit distance)."""
    from autocrm.ai.services.replies import DRAFT_ACTOR, draft_for_sent_message

    if not event.payload.get("public") or event.payload.get("from_requester"):
        return
    tenant = Tenant.objects.get(pk=event.tenant_id)
    draft_for_sent_message(tenant=tenant, actor=DRAFT_ACTOR, message_id=int(event.subject_id))
