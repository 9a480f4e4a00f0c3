"""The event types the tickets app appends (webhook subscriptions validate against them).

Services use these constants, never the strings: a renamed or new type then shows in one
place, and the registry (TicketsConfig.ready) knows every type this app can emit.
"""

from __future__ import annotations

TICKET_CREATED = "ticket.created"
TICKET_UPDATED = "ticket.updated"
TICKET_MERGED = "ticket.merged"  # the source ticket, now closed
TICKET_MERGED_INTO = "ticket.merged_into"  # the target ticket, which received the messages
TICKET_SPLIT = "ticket.split"  # the original ticket; the new one gets TICKET_CREATED
TICKET_DELETED = "ticket.deleted"
MESSAGE_CREATED = "message.created"
ATTACHMENT_CREATED = "attachment.created"
COLLABORATOR_ADDED = "collaborator.added"  # a contact copied on the ticket (email Cc)
TAG_CREATED = "tag.created"
TAG_DELETED = "tag.deleted"
CUSTOM_FIELD_CREATED = "custom_field.created"
CUSTOM_FIELD_UPDATED = "custom_field.updated"
CUSTOM_FIELD_DELETED = "custom_field.deleted"
TICKET_VIEW_CREATED = "ticket_view.created"
TICKET_VIEW_UPDATED = "ticket_view.updated"
TICKET_VIEW_DELETED = "ticket_view.deleted"
MACRO_CREATED = "macro.created"
MACRO_UPDATED = "macro.updated"
MACRO_DELETED = "macro.deleted"

EVENT_TYPES = (
    TICKET_CREATED,
    TICKET_UPDATED,
    TICKET_MERGED,
    TICKET_MERGED_INTO,
    TICKET_SPLIT,
    TICKET_DELETED,
    MESSAGE_CREATED,
    ATTACHMENT_CREATED,
    COLLABORATOR_ADDED,
    TAG_CREATED,
    TAG_DELETED,
    CUSTOM_FIELD_CREATED,
    CUSTOM_FIELD_UPDATED,
    CUSTOM_FIELD_DELETED,
    TICKET_VIEW_CREATED,
    TICKET_VIEW_UPDATED,
    TICKET_VIEW_DELETED,
    MACRO_CREATED,
    MACRO_UPDATED,
    MACRO_DELETED,
)
