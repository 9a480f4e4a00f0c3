"""Forms of the routing settings pages (teams, agents, business hours, SLA policies, rules).

They only check shape; the routing services validate meaning (the same code the API runs),
and :func:`add_routing_errors` puts what they refuse beside the field at fault. Edit forms
are ``FingerprintForm``\\s: saving over somebody's change made meanwhile is refused."""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar, cast

from django import forms
from django.core.exceptions import ValidationError

from autocrm.routing.businesstime import WEEKDAYS
from autocrm.routing.models import (
    AgentProfile,
    AssignmentMethod,
    Availability,
    BusinessHours,
    SlaPolicy,
    Team,
)
from autocrm.routing.rules import EVENTS
from autocrm.tickets.models import Channel
from autocrm.workspace.rule_builder_forms import RuleBuilderForm, record_item_error
from autocrm.workspace.settings_forms import FingerprintForm, split_list

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
HOURS_HELP = "Ranges like 09:00-12:00, 13:00-17:00; empty: closed."
EVENT_LABELS = {
    "ticket.created": "Ticket created",
    "ticket.updated": "Ticket updated",
    "message.created": "Message added",
}
# "conditions.2.field" -> (field "conditions", "Condition 3: ...").
_ITEM = re.compile(r"^(?P<field>[a-z_]+)\.(?P<index>\d+)(?:\.[a-z_.]+)?$")
_ITEM_NAMES = {"conditions": "Condition", "actions": "Action", "escalation": "Action"}


def add_routing_errors(form: forms.Form, exc: ValidationError) -> None:
    """A routing service's ValidationError as form errors. Its keys name the part of the
    input at fault (``conditions.2.field``, ``hours.3.start``): the error goes to the form
    field that holds that part, saying which item; anything else is a non-field error."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        field, prefix = key, ""
        item = _ITEM.match(key)
        if item and item["field"] in _ITEM_NAMES:
            field = item["field"]
            prefix = f"{_ITEM_NAMES[field]} {int(item['index']) + 1}: "
            for message in messages:  # the builder shows it beside its row
                record_item_error(
                    form, field, int(item["index"]), message, shown_as=f"{prefix}{message}"
                )
        elif item and item["field"] == "hours" and isinstance(form, BusinessHoursForm):
            rows = form.hours()
            index = int(item["index"])
            field = rows[index]["day"] if index < len(rows) else "mon"
        elif key == "hours" and isinstance(form, BusinessHoursForm):
            # An overlap names its day first ("tue 09:00-12:00 overlaps ...").
            first = messages[0].split(" ", 1)[0] if messages else ""
            field = first if first in WEEKDAYS else "mon"
        elif key.startswith("holidays."):
            field = "holidays"
        elif key == "calendar_id":
            field = "calendar"
        elif key.endswith("_id") and key[:-3] in form.fields:
            field = key[:-3]
        elif key == "member_ids" or key.startswith("member_ids."):
            field = "members"
        target = field if field in form.fields else None
        form.add_error(target, [f"{prefix}{message}" for message in messages])


def _as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _choices(field: forms.Field, choices: list[tuple[Any, str]]) -> None:
    cast(forms.ChoiceField, field).choices = choices


# --- teams and agents ---------------------------------------------------------------------


class TeamForm(FingerprintForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    assignment_method = forms.ChoiceField(choices=AssignmentMethod.choices, label="Assignment")
    members = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    lead = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Lead")
    business_hours = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Business hours"
    )
    handover_team = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Outside hours, hand over to"
    )
    offline_grace_minutes = forms.IntegerField(
        required=False,
        label="Re-route after offline (min)",
        help_text="An agent offline this long loses their open tickets of this team to its "
        "assignment method (1-10080); empty: never.",
    )

    def __init__(
        self,
        *args: Any,
        hours: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        agents: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["business_hours"], [("", "Around the clock"), *hours])
        _choices(self.fields["handover_team"], [("", "Nobody"), *teams])
        _choices(self.fields["members"], agents)
        _choices(self.fields["lead"], [("", "No lead"), *agents])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        lead = data.get("lead")
        if lead is not None and lead not in (data.get("members") or []):
            self.add_error("lead", "The lead must be one of the members.")
        return data

    def changes(self) -> dict[str, Any]:
        """The service's field names for what the form edits (members go separately)."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "assignment_method": data["assignment_method"],
            "lead_id": data["lead"],
            "business_hours_id": data["business_hours"],
            "handover_team_id": data["handover_team"],
            "offline_grace_minutes": data["offline_grace_minutes"],
        }

    @staticmethod
    def initial_from(team: Team, member_ids: list[int]) -> dict[str, Any]:
        return {
            "name": team.name,
            "description": team.description,
            "assignment_method": team.assignment_method,
            "members": member_ids,
            "lead": team.lead_id,
            "business_hours": team.business_hours_id,
            "handover_team": team.handover_team_id,
            "offline_grace_minutes": team.offline_grace_minutes,
        }


class AgentForm(FingerprintForm):
    """An agent's routing profile: availability, skills, capacity overall and per channel."""

    availability = forms.ChoiceField(choices=Availability.choices)
    skills = forms.CharField(
        required=False,
        max_length=3000,
        help_text="Comma-separated, matched exactly: language:de, product:billing, level:2.",
    )
    capacity = forms.IntegerField(
        label="Capacity (open tickets)",
        initial=0,
        help_text="The most open tickets auto-assignment gives this agent; 0: no limit.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Channel.choices:
            self.fields[f"channel_{value}"] = forms.IntegerField(
                required=False, label=f"{label} (open tickets)",
                help_text="Per channel, on top of the overall capacity; empty or 0: only "
                "the overall limit." if value == Channel.values[0] else "",
            )  # fmt: skip

    def channel_fields(self) -> list[forms.BoundField]:
        return [self[f"channel_{value}"] for value in Channel.values]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("fingerprint", "availability", "skills", "capacity")]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "skills": split_list(data["skills"]),
            "capacity": data["capacity"],
            "channel_capacity": {
                value: data[f"channel_{value}"]
                for value in Channel.values
                if data.get(f"channel_{value}") is not None
            },
        }

    @staticmethod
    def initial_from(profile: AgentProfile) -> dict[str, Any]:
        return {
            "availability": profile.availability,
            "skills": ", ".join(profile.skills),
            "capacity": profile.capacity,
            **{f"channel_{k}": v for k, v in (profile.channel_capacity or {}).items()},
        }


# --- business hours -----------------------------------------------------------------------


class BusinessHoursForm(FingerprintForm):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(
        max_length=64, initial="UTC", help_text="An IANA name, e.g. Europe/Berlin."
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line: 2026-12-25 Christmas",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            self.fields[day] = forms.CharField(
                required=False, label=DAY_NAMES[day], max_length=200,
                initial="09:00-17:00" if day not in ("sat", "sun") else "",
                help_text=HOURS_HELP if day == "mon" else "",
            )  # fmt: skip

    def hours(self) -> list[dict[str, str]]:
        rows = []
        for day in WEEKDAYS:
            for part in (self.cleaned_data.get(day) or "").split(","):
                if part.strip():
                    start, _, end = part.strip().partition("-")
                    rows.append({"day": day, "start": start.strip(), "end": end.strip()})
        return rows

    def holiday_rows(self) -> list[dict[str, str]]:
        rows = []
        for line in (self.cleaned_data.get("holidays") or "").splitlines():
            if line.strip():
                date, _, name = line.strip().partition(" ")
                rows.append({"date": date, "name": name.strip()})
        return rows

    def values(self) -> dict[str, Any]:
        return {
            "name": self.cleaned_data["name"],
            "time_zone": self.cleaned_data["time_zone"].strip(),
            "hours": self.hours(),
            "holidays": self.holiday_rows(),
        }

    @staticmethod
    def initial_from(hours: BusinessHours) -> dict[str, Any]:
        days: dict[str, list[str]] = {day: [] for day in WEEKDAYS}
        for row in hours.hours:
            days[row["day"]].append(f"{row['start']}-{row['end']}")
        holidays = "\n".join(f"{h['date']} {h['name']}".strip() for h in hours.holidays)
        return {
            "name": hours.name,
            "time_zone": hours.time_zone,
            "holidays": holidays,
            **{day: ", ".join(ranges) for day, ranges in days.items()},
        }


# --- SLA policies and rules ---------------------------------------------------------------

CONDITIONS_HELP = (
    'A JSON list of {"field", "op", "value"}, e.g. '
    '<code>[{"field": "priority", "op": "in", "value": ["high", "urgent"]}]</code>; '
    "empty list: every ticket. Fields and operators: docs/routing.md."
)


class SlaPolicyForm(RuleBuilderForm):
    builder_fields: ClassVar[dict[str, str]] = {
        "conditions": "conditions",
        "escalation": "actions",
    }
    builder_labels: ClassVar[dict[str, str]] = {
        "conditions": "Conditions",
        "escalation": "On breach, do",
    }
    name = forms.CharField(max_length=100)
    active = forms.BooleanField(required=False, initial=True)
    match = forms.ChoiceField(choices=[("all", "All conditions"), ("any", "Any condition")])
    conditions = forms.CharField(
        required=False,
        initial="[]",
        help_text=CONDITIONS_HELP,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
    )
    first_reply_minutes = forms.IntegerField(required=False, min_value=1, label="First reply (min)")
    next_reply_minutes = forms.IntegerField(required=False, min_value=1, label="Next reply (min)")
    resolution_minutes = forms.IntegerField(required=False, min_value=1, label="Resolution (min)")
    business_hours = forms.BooleanField(required=False, label="Count business hours only")
    calendar = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Business hours to count",
        help_text="Only with business hours counted; none: the ticket's team's hours.",
    )  # fmt: skip
    warn_before_minutes = forms.IntegerField(
        min_value=0, initial=30, label="Warn before a breach (min)"
    )
    escalation = forms.CharField(
        required=False,
        initial="[]",
        label="On breach, do",
        help_text='Actions as for triggers, e.g. <code>[{"type": "set", "field": "priority", '
        '"value": "urgent"}]</code>.',
        widget=forms.Textarea(attrs={"rows": 2, "class": "mono"}),
    )
    position = forms.IntegerField(initial=0, label="Order")

    def __init__(self, *args: Any, calendars: list[tuple[int, str]], **kwargs: Any) -> None:
        self.calendars = calendars
        super().__init__(*args, **kwargs)
        _choices(self.fields["calendar"], [("", "The team's hours"), *calendars])

    def rebuild_kwargs(self) -> dict[str, Any]:
        return {"calendars": self.calendars}

    def clean_conditions(self) -> list[Any]:
        return self.builder_value("conditions", "Conditions")

    def clean_escalation(self) -> list[Any]:
        return self.builder_value("escalation", "Escalation")

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("fingerprint", None)
        data["calendar_id"] = data.pop("calendar")
        return data

    @staticmethod
    def initial_from(policy: SlaPolicy) -> dict[str, Any]:
        return {
            "name": policy.name,
            "active": policy.active,
            "match": policy.match,
            "conditions": _as_json(policy.conditions),
            "first_reply_minutes": policy.first_reply_minutes,
            "next_reply_minutes": policy.next_reply_minutes,
            "resolution_minutes": policy.resolution_minutes,
            "business_hours": policy.business_hours,
            "calendar": policy.calendar_id,
            "warn_before_minutes": policy.warn_before_minutes,
            "escalation": _as_json(policy.escalation),
            "position": policy.position,
        }


class RuleForm(RuleBuilderForm):
    builder_fields: ClassVar[dict[str, str]] = {"conditions": "conditions", "actions": "actions"}
    builder_labels: ClassVar[dict[str, str]] = {"conditions": "Conditions", "actions": "Actions"}
    kind = forms.ChoiceField(choices=[("trigger", "Trigger"), ("automation", "Automation")])
    name = forms.CharField(max_length=100)
    active = forms.BooleanField(required=False, initial=True)
    # Triggers only: an automation runs on time. The create form offers both kinds, so the
    # field stays in it; rule-builder.css hides it while "Automation" is chosen.
    on = forms.MultipleChoiceField(
        required=False, label="Runs on", widget=forms.CheckboxSelectMultiple,
        choices=[(event, EVENT_LABELS[event]) for event in EVENTS],
    )  # fmt: skip
    match = forms.ChoiceField(choices=[("all", "All conditions"), ("any", "Any condition")])
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial='[{"field": "status", "op": "is", "value": "new"}]',
        help_text=CONDITIONS_HELP,
    )
    actions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial='[{"type": "set", "field": "priority", "value": "high"}]',
        help_text='A JSON list of actions, e.g. <code>[{"type": "add_tags", "value": '
        '["billing"]}]</code>; types and their keys: docs/routing.md.',
    )
    position = forms.IntegerField(initial=0, label="Order")

    def __init__(self, *args: Any, kind: str | None = None, **kwargs: Any) -> None:
        self.rule_kind = kind
        super().__init__(*args, **kwargs)
        if kind is not None:  # editing: a trigger stays a trigger
            del self.fields["kind"]
            if kind == "automation":
                del self.fields["on"]

    def rebuild_kwargs(self) -> dict[str, Any]:
        return {"kind": self.rule_kind}

    def clean_conditions(self) -> list[Any]:
        return self.builder_value("conditions", "Conditions")

    def clean_actions(self) -> list[Any]:
        return self.builder_value("actions", "Actions")

    def values(self) -> dict[str, Any]:
        """What the trigger/automation services take (``on`` only for triggers)."""
        data = dict(self.cleaned_data)
        data.pop("fingerprint", None)
        kind = data.pop("kind", self.rule_kind)
        on = data.pop("on", None)
        return {**data, "on": on} if kind == "trigger" else data

    @staticmethod
    def initial_from(rule: Any, kind: str) -> dict[str, Any]:
        initial = {
            "name": rule.name,
            "active": rule.active,
            "match": rule.match,
            "conditions": _as_json(rule.conditions),
            "actions": _as_json(rule.actions),
            "position": rule.position,
        }
        if kind == "trigger":
            initial["on"] = list(rule.on)
        return initial
