"""The rule language's vocabulary, in one place: every condition field with its label, the
operators it takes and the kind of value it compares with; every action with its label and
the kind of value it takes. :mod:`autocrm.routing.rules` validates and evaluates from these
tables, and the settings pages' guided builder (``autocrm.workspace.rule_builder``) draws its
rows from them, so a field or action added here is accepted by the API, evaluated by the
engine and offered by the builder at once (ADR 0051).

Value kinds say what a value is, not how a page draws it: ``choice`` (one of ``choices``),
``team`` / ``agent`` / ``organization`` (an id of the tenant's), ``tag``, ``text``,
``hours`` (a number of hours), ``time_window`` (two HH:MM times and a time zone); actions
also ``assignee`` ("auto" or a user id), ``tags`` (a list), ``message`` (to, subject, body),
``url`` and ``macro`` (a shared macro's id)."""

from __future__ import annotations

from dataclasses import dataclass

from autocrm.tickets.models import Channel, Status, TicketType

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
EVENTS = ("ticket.created", "ticket.updated", "message.created")
# The ticket fields whose change a ticket.updated event lists (``changed`` condition).
CHANGEABLE = (
    "status",
    "priority",
    "type",
    "team_id",
    "assignee_id",
    "tags",
    "subject",
    "custom_fields",
)

EQUALITY = ("is", "is_not", "in", "not_in", "present", "absent")
TEXT = ("is", "is_not", "contains", "not_contains", "present", "absent")
ORDERED = ("is", "is_not", "gt", "gte", "lt", "lte", "in", "not_in")
MEMBERSHIP = ("contains", "not_contains", "present", "absent")
HOURS = ("gt", "gte", "lt", "lte")
PREFIX_OPS = (*TEXT, "in", "not_in")

OP_LABELS = {
    "is": "is",
    "is_not": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "present": "is set",
    "absent": "is empty",
    "contains": "contains",
    "not_contains": "does not contain",
    "gt": "is more than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "not_between": "is not between",
}
# Operators that compare with no value, and those that compare with a list of values.
NO_VALUE_OPS = ("present", "absent")
LIST_OPS = ("in", "not_in")

Choices = tuple[tuple[str, str], ...]
STATUS_CHOICES: Choices = tuple((s, str(Status(s).label)) for s in STATUSES)
PRIORITY_CHOICES: Choices = tuple((p, p.capitalize()) for p in PRIORITIES)
TYPE_CHOICES: Choices = tuple((str(v), str(label)) for v, label in TicketType.choices)
CHANNEL_CHOICES: Choices = tuple((str(v), str(label)) for v, label in Channel.choices)
CHANGEABLE_CHOICES: Choices = (
    ("status", "Status"),
    ("priority", "Priority"),
    ("type", "Type"),
    ("team_id", "Team"),
    ("assignee_id", "Assignee"),
    ("tags", "Tags"),
    ("subject", "Subject"),
    ("custom_fields", "Custom fields"),
)


@dataclass(frozen=True)
class ConditionField:
    name: str
    label: str
    ops: tuple[str, ...]
    kind: str = "text"
    choices: Choices = ()
    group: str = "Ticket"


CONDITION_FIELDS: tuple[ConditionField, ...] = (
    ConditionField("status", "Status", EQUALITY, "choice", STATUS_CHOICES),
    ConditionField("priority", "Priority", ORDERED, "choice", PRIORITY_CHOICES),
    ConditionField("type", "Type", EQUALITY, "choice", TYPE_CHOICES),
    ConditionField("channel", "Channel", EQUALITY, "choice", CHANNEL_CHOICES),
    ConditionField("team_id", "Team", EQUALITY, "team"),
    ConditionField("assignee_id", "Assignee", EQUALITY, "agent"),
    ConditionField("subject", "Subject", TEXT),
    ConditionField("tags", "Tags", MEMBERSHIP, "tag"),
    ConditionField("organization_id", "Company", EQUALITY, "organization", group="Requester"),
    ConditionField("requester_email", "Requester email", TEXT, group="Requester"),
    ConditionField("requester_domain", "Requester domain", EQUALITY, group="Requester"),
    ConditionField("text", "Subject or new message", ("contains", "not_contains"), group="Event"),
    ConditionField(
        "changed",
        "Fields changed",
        ("contains", "not_contains"),
        "choice",
        CHANGEABLE_CHOICES,
        group="Event",
    ),
    ConditionField(
        "time_of_day", "Time of day", ("between", "not_between"), "time_window", group="Event"
    ),
    ConditionField("hours_since_created", "Time since created", HOURS, "hours", group="Time"),
    ConditionField("hours_since_updated", "Time since updated", HOURS, "hours", group="Time"),
)
TIME_FIELDS = ("hours_since_created", "hours_since_updated")


@dataclass(frozen=True)
class FieldPrefix:
    """A family of fields named ``<prefix><key>`` (custom fields, AI triage results)."""

    prefix: str
    label: str
    group: str
    known_keys: tuple[str, ...] = ()


PREFIXED: tuple[FieldPrefix, ...] = (
    FieldPrefix("cf.", "Custom field", "Custom fields"),
    # What the AI triage job stores under metadata.ai_triage (autocrm.ai.services.triage).
    FieldPrefix(
        "ai.", "AI triage", "AI triage", ("category", "language", "sentiment", "priority", "state")
    ),
)
PREFIXES = tuple(p.prefix for p in PREFIXED)


@dataclass(frozen=True)
class ActionKind:
    """One choice of the builder's action list. ``key`` is unique; ``type`` (and ``field`` for
    ``set``) is what the stored action says."""

    key: str
    type: str
    label: str
    kind: str
    field: str | None = None
    choices: Choices = ()
    summary: str = ""  # the list's sentence: "{value}" filled in


ACTION_KINDS: tuple[ActionKind, ...] = (
    ActionKind("set:status", "set", "Set status", "choice", "status", STATUS_CHOICES,
               "set status to {value}"),
    ActionKind("set:priority", "set", "Set priority", "choice", "priority", PRIORITY_CHOICES,
               "set priority to {value}"),
    ActionKind("set:type", "set", "Set type", "choice", "type", TYPE_CHOICES,
               "set type to {value}"),
    ActionKind("set:team_id", "set", "Move to team", "team", "team_id",
               summary="assign to team {value}"),
    ActionKind("set:assignee_id", "set", "Set assignee", "agent", "assignee_id",
               summary="set assignee to {value}"),
    ActionKind("assign", "assign", "Assign", "assignee", summary="assign to {value}"),
    ActionKind("add_tags", "add_tags", "Add tags", "tags", summary="add tags {value}"),
    ActionKind("remove_tags", "remove_tags", "Remove tags", "tags",
               summary="remove tags {value}"),
    ActionKind("email", "email", "Send an email", "message", summary="email {value}"),
    ActionKind("notify", "notify", "Notify in the app", "message", summary="notify {value}"),
    ActionKind("webhook", "webhook", "Call a webhook", "url", summary="call {value}"),
    ActionKind("macro", "macro", "Apply a macro", "macro", summary="apply macro {value}"),
)  # fmt: skip
ACTIONS = tuple(dict.fromkeys(a.type for a in ACTION_KINDS))
SET_FIELDS = tuple(a.field for a in ACTION_KINDS if a.type == "set" and a.field)
# Who an email or in-app notification goes to, besides an address (email) or a user (notify).
RECIPIENTS: Choices = (
    ("requester", "the requester"),
    ("assignee", "the assignee"),
    ("team_lead", "the team lead"),
)


def condition_field(name: str) -> ConditionField | None:
    """The field ``name`` names: a listed one, or one of a prefixed family (``cf.plan``)."""
    for spec in CONDITION_FIELDS:
        if spec.name == name:
            return spec
    for family in PREFIXED:
        key = name.removeprefix(family.prefix)
        if name.startswith(family.prefix) and key:
            return ConditionField(name, f"{family.label}: {key}", PREFIX_OPS, group=family.group)
    return None


def action_kind(action: dict[str, object]) -> ActionKind | None:
    """The builder's action kind of a stored action (``set`` by its field)."""
    for spec in ACTION_KINDS:
        if spec.type == action.get("type") and spec.field in (None, action.get("field")):
            return spec
    return None
