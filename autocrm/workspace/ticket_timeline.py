"""Ticket events in words, for the ticket page ("changed the status from open to pending")
and the dashboard's activity feed ("Alex replied to #1042 “Printer on fire”", linked)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from autocrm.accounts import selectors as account_selectors
from autocrm.ai import events as ai_events
from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant
from autocrm.inboxes import events as inbox_events
from autocrm.routing import events as routing_events
from autocrm.routing.selectors import team_names
from autocrm.tickets import events as ticket_events
from autocrm.tickets import selectors
from autocrm.workspace.timeline import TimelineEntry, describe, describe_by_type

FIELD_NAMES = {
    "assignee_id": "assignee",
    "team_id": "team",
    "organization_id": "company",
    "custom_fields": "custom fields",
    "due_at": "due date",
}


class Names:
    """User and team names the events refer to by id, read once for a whole list."""

    def __init__(self, tenant: Tenant, events: list[Event]) -> None:
        user_ids: set[int] = set()
        has_team = False
        for event in events:
            for field, change in _changes(event).items():
                if field == "assignee_id":
                    user_ids |= {v for v in change.values() if isinstance(v, int)}
                has_team = has_team or field == "team_id"
            if event.type == routing_events.TICKET_ROUTED and isinstance(event.payload, dict):
                if isinstance(event.payload.get("assignee_id"), int):
                    user_ids.add(event.payload["assignee_id"])
                has_team = has_team or event.payload.get("team_id") is not None
        self.users = account_selectors.user_labels(tenant=tenant, user_ids=user_ids)
        self.teams: dict[int, str] = {}
        if has_team:
            system = Actor.system("workspace.timeline")
            self.teams = dict(team_names(tenant=tenant, actor=system))

    def value(self, field: str, value: Any) -> str:
        if value in (None, "", []):
            return "nobody" if field == "assignee_id" else "none"
        if field == "assignee_id":
            return self.users.get(value, f"user #{value}")
        if field == "team_id":
            return self.teams.get(value, f"team #{value}")
        if field == "tags":
            return ", ".join(value)
        if field == "status":
            return str(value).replace("_", " ")
        return str(value)


def _changes(event: Event) -> dict[str, dict[str, Any]]:
    payload = event.payload if isinstance(event.payload, dict) else {}
    changes = payload.get("changes")
    return changes if isinstance(changes, dict) else {}


def _records_triage(event: Event) -> bool:
    """Whether this ``ticket.updated`` is AI triage writing its result to ``metadata.ai_triage``
    (and applying what it was sure of): the ``ai.ticket.triaged`` event appended with it in the
    same transaction says the triage itself."""
    change = _changes(event).get("metadata") or {}
    return (change.get("from") or {}).get("ai_triage") != (change.get("to") or {}).get("ai_triage")


def _triage_updates(events: list[Event]) -> dict[int, Event]:
    """The ``ticket.updated`` event of each triage, by the id of its ``ai.ticket.triaged``
    event: the two are one step (one line), and both stay in the log because triggers read
    the update (ADR 0058) and the ticket page's live update reads the triage event. In a
    newest-first list the update is the triage event's next older neighbour on that ticket;
    an update whose triage event is not beside it keeps a line of its own."""
    found: dict[int, Event] = {}
    for newer, older in itertools.pairwise(events):
        if (
            newer.type == ai_events.TICKET_TRIAGED
            and older.type == ticket_events.TICKET_UPDATED
            and (newer.subject_type, newer.subject_id) == (older.subject_type, older.subject_id)
            and _records_triage(older)
        ):
            found[newer.pk] = older
    return found


def _applied_words(update: Event | None, names: Names) -> str:
    """What a triage applied to the ticket, after its line ("; changed the priority from
    normal to high"); "" when it only recorded its result."""
    words = _change_words(update, names, triage_said=True) if update is not None else ""
    return f"; {words}" if words else ""


def _change_words(event: Event, names: Names, *, triage_said: bool = False) -> str:
    """The changes of a ``ticket.updated`` event in words; ``triage_said`` when the AI
    triage's own line says what it recorded (the metadata then needs no words, and nothing
    else changed reads as "")."""
    parts = []
    for field, change in _changes(event).items():
        if field == "tags":
            before, after = set(change.get("from") or []), set(change.get("to") or [])
            if after - before:
                parts.append(f"added the tags {', '.join(sorted(after - before))}")
            if before - after:
                parts.append(f"removed the tags {', '.join(sorted(before - after))}")
            continue
        if field == "custom_fields":
            parts.extend(_custom_field_words(change.get("from"), change.get("to")))
            continue
        if field == "metadata":
            # Integration data, not words; AI triage records its result there for rules.
            if not _records_triage(event):
                parts.append("changed the metadata")
            elif not triage_said:
                parts.append("recorded the AI triage")
            continue
        label = FIELD_NAMES.get(field, field.replace("_", " "))
        old, new = names.value(field, change.get("from")), names.value(field, change.get("to"))
        parts.append(f"changed the {label} from {old} to {new}")
    if triage_said:
        return "; ".join(parts)
    return "; ".join(parts) or "updated the ticket"


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _custom_field_words(before: Any, after: Any) -> list[str]:
    """Per key ("set seats to 25", "cleared plan"); the event holds keys, not labels."""
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    parts = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            parts.append(f"cleared {key}")
        elif before.get(key) != after[key]:
            parts.append(f"set {key} to {_shown(after[key])}")
    return parts


def _how(event: Event) -> str:
    payload = event.payload if isinstance(event.payload, dict) else {}
    macro = payload.get("macro")
    if isinstance(macro, dict):
        return f" (macro “{macro.get('name', '')}”)"
    if payload.get("bulk"):
        return " (bulk change)"
    return ""


def _in_ticket(event: Event, names: Names) -> str:
    """The sentence without naming the ticket (it is the page's own)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    if event.type == ticket_events.TICKET_CREATED:
        return f"created the ticket (priority {payload.get('priority', 'normal')})"
    if event.type == ticket_events.TICKET_UPDATED:
        return _change_words(event, names) + _how(event)
    if event.type == ticket_events.TICKET_MERGED:
        return f"merged this ticket into #{(payload.get('into') or {}).get('number', '?')}"
    if event.type == ticket_events.TICKET_MERGED_INTO:
        return f"merged #{(payload.get('from') or {}).get('number', '?')} into this ticket"
    if event.type == ticket_events.TICKET_SPLIT:
        return f"split messages off into #{(payload.get('into') or {}).get('number', '?')}"
    return _routing_or_ai(event.type, payload, names) or describe_by_type(event.type, payload)


METRICS = {"first_reply": "first reply", "next_reply": "next reply", "resolution": "resolution"}


def _routing_or_ai(event_type: str, payload: dict[str, Any], names: Names) -> str:
    """Sentences for what routing, SLA timers and AI triage did to this ticket ("" for
    other types, which are said from their type)."""
    metric = METRICS.get(str(payload.get("metric")), "")
    if event_type == routing_events.SLA_APPLIED:
        return f"applied the SLA policy “{payload.get('policy', '')}”"
    if event_type == routing_events.SLA_WARNING:
        return f"warned that the {metric or 'SLA'} target is near"
    if event_type == routing_events.SLA_BREACHED:
        return f"recorded an SLA breach of the {metric or 'SLA'} target"
    if event_type == routing_events.RULE_FIRED:
        return f"ran the {payload.get('kind') or 'rule'} “{payload.get('rule', '')}”"
    if event_type == routing_events.TICKET_ROUTED:
        team = names.value("team_id", payload.get("team_id"))
        if payload.get("assignee_id"):
            return f"routed the ticket to {names.value('assignee_id', payload['assignee_id'])}"
        reason = str(payload.get("reason") or "").replace("_", " ")
        return f"routed the ticket to the team {team}" + (f" ({reason})" if reason else "")
    if event_type == ai_events.TICKET_TRIAGED:
        suggestions = payload.get("suggestions")
        category = suggestions.get("category") if isinstance(suggestions, dict) else None
        found = f": category {category.get('value')}" if isinstance(category, dict) else ""
        waiting = " (waiting for review)" if payload.get("state") == "review" else ""
        return f"triaged the ticket{found}{waiting}"
    return ""


def describe_ticket_events(tenant: Tenant, events: list[Event]) -> list[TimelineEntry]:
    names = Names(tenant, events)
    folded = _triage_updates(events)
    said = {update.pk for update in folded.values()}
    entries = []
    for event in events:
        if event.pk in said:
            continue  # said in its triage's line
        base = describe(event)
        entries.append(
            TimelineEntry(
                actor=base.actor,
                text=_in_ticket(event, names) + _applied_words(folded.get(event.pk), names),
                created_at=event.created_at,
                type=event.type,
            )
        )
    return entries


TICKET_SUBJECT = "tickets.ticket"  # Event.subject_type of events about a ticket itself
# E-mails about a ticket, by the event type's verb ("sent an e-mail about #12 “…”").
EMAIL_WORDS = {
    inbox_events.EMAIL_QUEUED: "queued an e-mail",
    inbox_events.EMAIL_SENT: "sent an e-mail",
    inbox_events.EMAIL_DEFERRED: "could not send an e-mail yet (retrying)",
    inbox_events.EMAIL_FAILED: "gave up sending an e-mail",
    inbox_events.EMAIL_BOUNCED: "had an e-mail bounce",
    inbox_events.EMAIL_RECEIVED: "received an e-mail",
}


def _payload(event: Event) -> dict[str, Any]:
    return event.payload if isinstance(event.payload, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(event: Event) -> int | None:
    return _int(_payload(event).get("number"))


def _ticket_id(event: Event) -> int | None:
    """The ticket an event is about: its subject, or the ``ticket_id`` of its payload
    (messages, attachments, e-mails)."""
    if event.subject_type == TICKET_SUBJECT and str(event.subject_id).isdigit():
        return int(event.subject_id)
    return _int(_payload(event).get("ticket_id"))


def _feed_words(event: Event, names: Names) -> tuple[str, str]:
    """(words before the ticket's name, words after it) for the activity feed."""
    payload = _payload(event)
    if event.type == ticket_events.MESSAGE_CREATED:
        if payload.get("from_requester"):
            return "replied on", ""
        return ("replied to", "") if payload.get("public") else ("added an internal note to", "")
    if event.type == ticket_events.TICKET_CREATED:
        return "created", ""
    if event.type == ticket_events.ATTACHMENT_CREATED:
        return f"attached {payload.get('filename', 'a file')} to", ""
    if event.type == ticket_events.TICKET_DELETED:
        return "deleted", ""
    if event.type == ticket_events.TICKET_UPDATED:
        words = _change_words(event, names) + _how(event)
        head, _, tail = words.partition(" from ")
        if tail:
            return f"{head} of", f" from {tail}"
        return f"{words} on", ""
    if event.type in EMAIL_WORDS:
        return f"{EMAIL_WORDS[event.type]} about", ""
    # "routed the ticket to Ana" -> "routed #12 “…” to Ana"; else "… on #12 “…”".
    words = _in_ticket(event, names)
    before, found, after = words.partition("the ticket")
    if found:
        return before.rstrip(), after
    if event.type == routing_events.SLA_APPLIED:
        return f"{words} to", ""
    return f"{words} on", ""


def activity(
    *, tenant: Tenant, actor: Actor, events: Iterable[Event], user_labels: dict[int, str]
) -> list[TimelineEntry]:
    """The dashboard feed: events about a ticket (its own, its messages, routing, SLA, AI,
    e-mails) name and link it; the others read as the account timeline always has. The
    tickets are read in one query for the whole feed."""
    events = list(events)
    names = Names(tenant, events)
    ids = {i for e in events if (i := _ticket_id(e)) is not None}
    numbers = {n for e in events if e.type in ticket_events.EVENT_TYPES and (n := _number(e))}
    by_id: dict[int, tuple[int, str]] = {}
    by_number: dict[int, str] = {}
    for pk, found, subject in selectors.ticket_labels(
        tenant=tenant, actor=actor, ids=ids, numbers=numbers
    ):
        by_id[pk] = (found, subject)
        by_number[found] = subject  # every ticket found by id is also known by number
    folded = _triage_updates(events)
    said = {update.pk for update in folded.values()}
    entries = []
    for event in events:
        if event.pk in said:
            continue  # said in its triage's line
        base = describe(event, user_labels)
        ticket_id = _ticket_id(event)
        number = _number(event)
        if ticket_id is not None and ticket_id in by_id:
            number = by_id[ticket_id][0]
        elif event.type not in ticket_events.EVENT_TYPES:
            number = None  # not a ticket event, and not a ticket the reader may see
        if number is None:
            entries.append(base)
            continue
        # Only tickets the reader may see are named (a restricted agent sees that something
        # happened, not what it was about).
        known = number in by_number
        subject = by_number.get(number, "")
        before, after = _feed_words(event, names)
        visible = known and event.type != ticket_events.TICKET_DELETED
        entries.append(
            TimelineEntry(
                actor=base.actor,
                text=before,
                created_at=event.created_at,
                type=event.type,
                target=f"#{number} “{subject}”" if subject else f"#{number}",
                url=reverse("workspace:agent_ticket", args=[tenant.slug, number])
                if visible
                else "",
                suffix=after + _applied_words(folded.get(event.pk), names),
            )
        )
    return entries
