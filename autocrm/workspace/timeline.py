"""Audit events as sentences for people: "Ana invited bob@example.com as agent"."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from autocrm.accounts import events
from autocrm.accounts.models import Role
from autocrm.core.actors import SYSTEM_LABEL_PREFIX
from autocrm.core.models import Event


@dataclass(frozen=True)
class TimelineEntry:
    actor: str
    text: str
    created_at: datetime
    type: str
    # A ticket the sentence names, shown as a link after ``text``, then ``suffix``.
    target: str = ""
    url: str = ""
    suffix: str = ""


def _role(value: Any) -> str:
    try:
        return str(Role(value).label).lower()
    except ValueError:
        return str(value)


def _email(payload: dict[str, Any]) -> str:
    return str(
        payload.get("email") or payload.get("user_label") or f"user #{payload.get('user_id', '?')}"
    )


def _setting_label(key: str) -> str:
    return key.removeprefix("settings.").replace("_", " ")


def _settings_updated(payload: dict[str, Any]) -> str:
    parts = []
    for key, change in (payload.get("changes") or {}).items():
        old, new = change.get("from"), change.get("to")
        if isinstance(new, bool):
            parts.append(f"turned {'on' if new else 'off'} “{_setting_label(key)}”")
        else:
            parts.append(f"changed {_setting_label(key)} from “{old}” to “{new}”")
    return ", ".join(parts) or "updated the workspace settings"


def _role_changed(payload: dict[str, Any]) -> str:
    role = payload.get("role") or {}
    who = _email(payload)
    return f"changed {who}'s role from {_role(role.get('from'))} to {_role(role.get('to'))}"


DESCRIBERS: dict[str, Callable[[dict[str, Any]], str]] = {
    events.TENANT_CREATED: lambda p: f"created the workspace {p.get('name', '')}".rstrip(),
    events.TENANT_SETTINGS_UPDATED: _settings_updated,
    events.MEMBERSHIP_CREATED: lambda p: f"added {_email(p)} as {_role(p.get('role'))}",
    events.MEMBERSHIP_ROLE_CHANGED: _role_changed,
    events.MEMBERSHIP_REMOVED: lambda p: f"removed {_email(p)} ({_role(p.get('role'))})",
    events.INVITATION_CREATED: lambda p: f"invited {_email(p)} as {_role(p.get('role'))}",
    events.INVITATION_ACCEPTED: lambda p: f"accepted the invitation as {_role(p.get('role'))}",
    events.INVITATION_REVOKED: lambda p: f"revoked the invitation for {_email(p)}",
    events.API_KEY_CREATED: lambda p: (
        f"created the API key “{p.get('name', '')}” ({p.get('scope', '')})"
    ),
    events.API_KEY_REVOKED: lambda p: f"revoked the API key “{p.get('name', '')}”",
    # Routing's presence and the agents' own choice ("set ana@… to online (presence)").
    "agent.availability_changed": lambda p: (
        f"set {_email(p)} to {str(p.get('to', '?')).replace('_', ' ')}"
        + (" (presence)" if p.get("source") == "presence" else "")
    ),
}


# Events without a sentence of their own are said from their type: "tag.created" with a name
# reads "created the tag “billing”", "sla.breached" reads "SLA breached"; never a raw code.
_NOUNS = {
    "ai": "AI",
    "ai.draft": "AI draft",
    "ai.ticket": "ticket",
    "ai.triage": "AI triage",
    "ai.triage_model": "triage model",
    "api_key": "API key",
    "business_hours": "business hours calendar",
    "custom_field": "custom field",
    "help.customer": "customer profile",
    "help.request": "help request",
    "kb.article": "article",
    "kb.category": "knowledge base category",
    "kb.section": "knowledge base section",
    "kb.upload": "knowledge base image",
    "sla": "SLA",
    "sla_policy": "SLA policy",
    "ticket_view": "saved view",
}
_ACTIONS = {
    "accepted", "added", "applied", "approved", "archived", "assigned", "changed", "created",
    "decided", "deferred", "deleted", "deflected", "disabled", "enabled", "exported", "imported",
    "linked", "merged", "moved", "published", "rated", "read", "rejected", "removed", "renamed",
    "reset", "restored", "reviewed", "revoked", "rotated", "routed", "sent", "split", "trained",
    "triaged", "updated", "voted",
}  # fmt: skip
# Where the type alone would read badly.
_SENTENCES = {
    "contact.user_linked": "linked a contact to a user account",
    "email.deferred": "email deferred",
    "email.rejected": "email rejected",
    "help.customer.profile_updated": "updated their help centre profile",
    "kb.article.voted": "voted on an article",
    "notification.preferences_updated": "updated their notification preferences",
    "team.member_added": "added a member to a team",
    "team.member_removed": "removed a member from a team",
    "ticket.merged_into": "received a merged ticket",
    "ticket.satisfaction_rated": "rated a ticket",
    "webhook.redelivery_requested": "requested a webhook redelivery",
}
_LABEL_KEYS = ("name", "title", "subject", "email", "key", "slug", "address")


def _article(noun: str) -> str:
    # Acronyms are read letter by letter: "an SLA policy", "an API key", "a KB image".
    vowel_sound = noun[:1] in "AEFHILMNORSX" if noun[:2].isupper() else noun[:1] in "aeiouAEIOU"
    return f"an {noun}" if vowel_sound else f"a {noun}"


def describe_by_type(event_type: str, payload: dict[str, Any]) -> str:
    if event_type in _SENTENCES:
        return _SENTENCES[event_type]
    subject, _, verb = event_type.rpartition(".")
    noun = _NOUNS.get(subject) or subject.replace(".", " ").replace("_", " ") or "record"
    label = next((str(payload[k]) for k in _LABEL_KEYS if payload.get(k)), "")
    words = verb.replace("_", " ")
    last = words.rsplit(" ", 1)[-1]
    if last in _ACTIONS and " " not in words:
        return f"{words} the {noun} “{label}”" if label else f"{words} {_article(noun)}"
    if last in _ACTIONS:  # "secret_rotated", "user_linked": the noun's part, then the verb
        return f"{last} the {noun}{' “' + label + '”' if label else ''}'s {words.rsplit(' ', 1)[0]}"
    sentence = f"{noun} {words}"  # "inbox fetch failed", "email received", "SLA breached"
    return f"{sentence}: “{label}”" if label else sentence


def describe(event: Event, user_labels: dict[int, str] | None = None) -> TimelineEntry:
    """``user_labels`` maps user ids named in payloads to emails (for events that only
    carry the id)."""
    describer = DESCRIBERS.get(event.type)
    payload = dict(event.payload) if isinstance(event.payload, dict) else {}
    if user_labels and payload.get("user_id") in user_labels:
        payload["user_label"] = user_labels[payload["user_id"]]
    text = describer(payload) if describer else describe_by_type(event.type, payload)
    actor = event.actor.display_name if event.actor else (event.actor_label or "System")
    if event.actor is None and (
        event.actor_label == "system" or event.actor_label.startswith(SYSTEM_LABEL_PREFIX)
    ):
        actor = "System"
    return TimelineEntry(actor=actor, text=text, created_at=event.created_at, type=event.type)


def payload_user_ids(events: Iterable[Event]) -> set[int]:
    return {
        e.payload["user_id"]
        for e in events
        if isinstance(e.payload, dict) and isinstance(e.payload.get("user_id"), int)
    }


def describe_all(
    events: Iterable[Event], user_labels: dict[int, str] | None = None
) -> list[TimelineEntry]:
    return [describe(event, user_labels) for event in events]
