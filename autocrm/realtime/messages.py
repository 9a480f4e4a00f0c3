"""What travels on the bus for an event, and what each socket forwards of it.

``bus_message`` turns an event (with its ticket's current team and assignee) into a bus
message; ``for_socket`` decides, for one socket's user, what (if anything) the browser gets.
Both are pure functions: the worker's handler, the re-sync after a reconnect and the
consumer share them, and the tests pin the rules without a server.
"""

from __future__ import annotations

from typing import Any

from autocrm.ai import events as ai_events
from autocrm.core.models import Event
from autocrm.realtime import bus
from autocrm.tickets import events as ticket_events
from autocrm.tickets.access import TicketVisibility

TICKET_TYPES = frozenset(
    {
        ticket_events.TICKET_CREATED,
        ticket_events.TICKET_UPDATED,
        ticket_events.TICKET_MERGED,
        ticket_events.TICKET_MERGED_INTO,
        ticket_events.TICKET_SPLIT,
        ticket_events.TICKET_DELETED,
        ticket_events.MESSAGE_CREATED,
        ticket_events.ATTACHMENT_CREATED,
        # Triage's result: the open ticket page refreshes its AI panel.
        ai_events.TICKET_TRIAGED,
    }
)
TICKET_SUBJECT = "tickets.ticket"


def ticket_id_of(event: Event) -> int | None:
    if event.subject_type == TICKET_SUBJECT:
        return int(event.subject_id)
    value = event.payload.get("ticket_id")
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _from(diff: dict[str, Any], field: str) -> Any:
    change = diff.get(field)
    return change.get("from") if isinstance(change, dict) else None


def bus_message(
    event: Event, *, team_id: int | None, assignee_id: int | None, actor_name: str
) -> dict[str, Any]:
    """The bus message of a ticket event. ``team_id``/``assignee_id`` are the ticket's now
    (None for a deleted ticket: then only those who see every ticket hear of it)."""
    payload = event.payload
    diff = payload.get("changes") if isinstance(payload.get("changes"), dict) else {}
    message: dict[str, Any] = {
        "k": bus.TICKET,
        "tenant": event.tenant_id,
        "id": event.pk,
        "event": event.type,
        "ticket_id": ticket_id_of(event),
        "number": payload.get("number"),
        "team": team_id,
        "assignee": assignee_id,
        "actor": event.actor_id,
        "actor_name": actor_name,
        "fields": sorted(diff)[:20],
    }
    if "team_id" in diff:
        message["was_team"] = _from(diff, "team_id")
    if "assignee_id" in diff:
        message["was_assignee"] = _from(diff, "assignee_id")
    if event.type == ticket_events.MESSAGE_CREATED:
        message["message"] = int(event.subject_id)
        message["public"] = bool(payload.get("public"))
        message["from_requester"] = bool(payload.get("from_requester"))
    return message


def notification_message(
    *, tenant_id: int, event_id: int, user_id: int, notification: dict[str, Any], unread: int | None
) -> dict[str, Any]:
    return {
        "k": bus.NOTIFICATION,
        "tenant": tenant_id,
        "id": event_id,
        "user": user_id,
        "notification": notification,
        "unread": unread,
    }


_TICKET_KEYS = ("id", "event", "number", "actor", "actor_name", "fields", "message", "public")


def for_socket(
    message: dict[str, Any], *, visibility: TicketVisibility, user_id: int
) -> dict[str, Any] | None:
    """What a socket of ``user_id`` sends its browser for a bus message, or None.

    A ticket the user may not see is never named; one that just left their sight (moved to
    another team, unassigned from them) is named as gone, so it leaves their queue."""
    kind = message.get("k")
    if kind == bus.TICKET:
        if visibility.sees(team_id=message.get("team"), assignee_id=message.get("assignee")):
            out = {key: message[key] for key in _TICKET_KEYS if key in message}
            out["type"] = "ticket"
            out["mine"] = message.get("actor") == user_id
            out["assigned_to_me"] = message.get("assignee") == user_id
            return out
        if ("was_team" in message or "was_assignee" in message) and visibility.sees(
            team_id=message.get("was_team", message.get("team")),
            assignee_id=message.get("was_assignee", message.get("assignee")),
        ):
            return {"type": "ticket.gone", "id": message.get("id"), "number": message.get("number")}
        return None
    if kind == bus.NOTIFICATION:
        if message.get("user") != user_id:
            return None
        return {
            "type": "notification",
            "id": message.get("id"),
            "notification": message.get("notification"),
            "unread": message.get("unread"),
        }
    return None
