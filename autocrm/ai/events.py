"""The event types the AI app appends."""

from __future__ import annotations

TICKET_TRIAGED = "ai.ticket.triaged"
TRIAGE_REVIEWED = "ai.triage.reviewed"
TRIAGE_MODEL_TRAINED = "ai.triage_model.trained"
DRAFT_CREATED = "ai.draft.created"
DRAFT_INSERTED = "ai.draft.inserted"  # put into the composer: the sent reply decides it
DRAFT_DECIDED = "ai.draft.decided"
CHATBOT_ANSWERED = "ai.chatbot.answered"  # answered: false is an "I don't know"
CHATBOT_HANDED_OFF = "ai.chatbot.handed_off"  # a ticket with the transcript
# A visitor asked for a person: the ticket waits until they confirm their address.
CHATBOT_HANDOFF_REQUESTED = "ai.chatbot.handoff_requested"
# Nobody confirmed it within the link's lifetime: the waiting conversation was deleted.
CHATBOT_HANDOFF_EXPIRED = "ai.chatbot.handoff_expired"
# The subject type of these four: the subject id is the conversation (hashed), so the dashboard
# counts conversations answered without a hand-off (deflected) against those handed off.
CHATBOT_CONVERSATION = "ai.chatbot"
SETTINGS_UPDATED = "ai.settings.updated"  # Settings → AI: threshold, triage on/off, budget

EVENT_TYPES = (
    TICKET_TRIAGED,
    TRIAGE_REVIEWED,
    TRIAGE_MODEL_TRAINED,
    DRAFT_CREATED,
    DRAFT_INSERTED,
    DRAFT_DECIDED,
    CHATBOT_ANSWERED,
    CHATBOT_HANDED_OFF,
    CHATBOT_HANDOFF_REQUESTED,
    CHATBOT_HANDOFF_EXPIRED,
    SETTINGS_UPDATED,
)
