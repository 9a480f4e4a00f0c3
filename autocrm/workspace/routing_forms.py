"""Forms of the routing settings pages (teams, business hours, SLA policies, rules)."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms

from autocrm.routing.businesstime import WEEKDAYS
from autocrm.routing.models import AssignmentMethod

DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


HOURS_HELP = "Ranges like 09:00-12:00, 13:00-17:00; empty: closed."


class TeamForm(forms.Form):
    name = forms.CharField(max_length=100)
    assignment_method = forms.ChoiceField(choices=AssignmentMethod.choices, label="Assignment")
    business_hours = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Business hours"
    )
    handover_team = forms.TypedChoiceField(
        coerce=int, required=False, empty_value=None, label="Outside hours, hand over to"
    )
    members = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
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
        cast(forms.ChoiceField, self.fields["business_hours"]).choices = [
            ("", "Around the clock"),
            *hours,
        ]
        cast(forms.ChoiceField, self.fields["handover_team"]).choices = [("", "Nobody"), *teams]
        cast(forms.ChoiceField, self.fields["members"]).choices = agents


class BusinessHoursForm(forms.Form):
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


class SlaPolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    priority = forms.ChoiceField(
        required=False, label="For priority",
        choices=[("", "Any ticket"), ("urgent", "Urgent"), ("high", "High"),
                 ("normal", "Normal"), ("low", "Low")],
    )  # fmt: skip
    first_reply_minutes = forms.IntegerField(required=False, min_value=1, label="First reply (min)")
    next_reply_minutes = forms.IntegerField(required=False, min_value=1, label="Next reply (min)")
    resolution_minutes = forms.IntegerField(required=False, min_value=1, label="Resolution (min)")
    business_hours = forms.BooleanField(required=False, label="Count business hours only")
    position = forms.IntegerField(initial=0, label="Order")


def _json_list(value: str, label: str) -> list[Any]:
    try:
        data = json.loads(value or "[]")
    except ValueError as exc:
        raise forms.ValidationError(f"{label} must be JSON: {exc}") from exc
    if not isinstance(data, list):
        raise forms.ValidationError(f"{label} must be a JSON list.")
    return data


class RuleForm(forms.Form):
    kind = forms.ChoiceField(choices=[("trigger", "Trigger"), ("automation", "Automation")])
    name = forms.CharField(max_length=100)
    on = forms.MultipleChoiceField(
        required=False, label="Runs on (triggers)", widget=forms.CheckboxSelectMultiple,
        choices=[("ticket.created", "Ticket created"), ("ticket.updated", "Ticket updated"),
                 ("message.created", "Message added")],
    )  # fmt: skip
    match = forms.ChoiceField(choices=[("all", "All conditions"), ("any", "Any condition")])
    conditions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial='[{"field": "text", "op": "contains", "value": "refund"}]',
    )
    actions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        initial='[{"type": "add_tags", "value": ["billing"]}]',
    )
    position = forms.IntegerField(initial=0, label="Order")

    def clean_conditions(self) -> list[Any]:
        return _json_list(self.cleaned_data["conditions"], "Conditions")

    def clean_actions(self) -> list[Any]:
        return _json_list(self.cleaned_data["actions"], "Actions")
