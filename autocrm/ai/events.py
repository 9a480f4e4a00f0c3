"""The event types the AI app appends."""

from __future__ import annotations

TICKET_TRIAGED = "ai.ticket.triaged"
TRIAGE_REVIEWED = "ai.triage.reviewed"
TRIAGE_MODEL_TRAINED = "ai.triage_model.trained"
DRAFT_CREATED = "ai.draft.created"
DRAFT_DECIDED = "ai.draft.decided"

EVENT_TYPES = (
    TICKET_TRIAGED,
    TRIAGE_REVIEWED,
    TRIAGE_MODEL_TRAINED,
    DRAFT_CREATED,
    DRAFT_DECIDED,
)
