"""Every write to tickets and their messages. Each runs in one transaction, checks the actor's
rights, and appends events (``ticket.updated`` carries every field change as from → to).

Split by topic: ``tickets`` (create, update, assign, status, tags, bulk, delete),
``messages``, ``merge`` (merge and split), ``macros``; ``changes`` and ``cleaning`` hold what
they share. The writes are re-exported here, so callers say ``services.ticket_update``.
"""

from autocrm.tickets.services.macros import macro_apply, macro_apply_bulk
from autocrm.tickets.services.merge import ticket_merge, ticket_split, tickets_merge_bulk
from autocrm.tickets.services.messages import ticket_message_add
from autocrm.tickets.services.tickets import (
    ticket_assign,
    ticket_change_status,
    ticket_create,
    ticket_delete,
    ticket_tags_change,
    ticket_update,
    tickets_bulk_update,
)

__all__ = [
    "macro_apply",
    "macro_apply_bulk",
    "ticket_assign",
    "ticket_change_status",
    "ticket_create",
    "ticket_delete",
    "ticket_merge",
    "ticket_message_add",
    "ticket_split",
    "ticket_tags_change",
    "ticket_update",
    "tickets_bulk_update",
    "tickets_merge_bulk",
]
