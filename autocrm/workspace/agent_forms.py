"""Forms of the agent workspace: bulk actions, the property panel and the composer."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from autocrm.tickets.models import Priority, Status

MAX_BODY_CHARS = 100_000  # a reply longer than this is a paste gone wrong, not a message
SUBMIT_STATUSES = [
    ("", "unchanged"),
    (Status.OPEN, "Open"),
    (Status.PENDING, "Pending"),
    (Status.ON_HOLD, "On hold"),
    (Status.SOLVED, "Solved"),
]
_TAG_SPLIT = re.compile(r"[\s,]+")


def split_tags(value: str) -> list[str]:
    return [t for t in _TAG_SPLIT.split(value or "") if t]


def _choice_field(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def _choices_with_blank(choices: list[tuple[Any, str]], blank: str) -> list[tuple[Any, str]]:
    return [("", blank), *choices]


class BulkForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)
    assignee = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False)
    priority = forms.ChoiceField(required=False)
    tags_add = forms.CharField(required=False, max_length=500)

    def __init__(self, *args: Any, agents: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Which ids exist is the service's check (it names the missing ones).
        ids_field = self.fields["ids"]
        assert isinstance(ids_field, forms.TypedMultipleChoiceField)
        ids_field.valid_value = lambda value: str(value).isascii() and str(value).isdigit()  # type: ignore[method-assign]
        _choice_field(self, "assignee").choices = _choices_with_blank(
            [("none", "Unassigned"), *[(str(pk), name) for pk, name in agents]], "Assignee…"
        )
        _choice_field(self, "status").choices = _choices_with_blank(list(Status.choices), "Status…")
        _choice_field(self, "priority").choices = _choices_with_blank(
            [(label, label.capitalize()) for _, label in Priority.choices], "Priority…"
        )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {}
        if data["assignee"]:
            changes["assignee_id"] = None if data["assignee"] == "none" else int(data["assignee"])
        if data["status"]:
            changes["status"] = data["status"]
        if data["priority"]:
            changes["priority"] = data["priority"]
        if split_tags(data["tags_add"]):
            changes["tags_add"] = split_tags(data["tags_add"])
        return changes


class PropertiesForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(choices=Status.choices)
    priority = forms.ChoiceField(
        choices=[(label, label.capitalize()) for _, label in Priority.choices]
    )
    assignee = forms.ChoiceField(required=False)
    team = forms.ChoiceField(required=False)
    tags = forms.CharField(required=False, max_length=1000)

    def __init__(
        self,
        *args: Any,
        agents: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "assignee").choices = _choices_with_blank(
            [(str(pk), name) for pk, name in agents], "Unassigned"
        )
        _choice_field(self, "team").choices = _choices_with_blank(
            [(str(pk), name) for pk, name in teams], "No team"
        )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "status": data["status"],
            "priority": data["priority"],
            "assignee_id": int(data["assignee"]) if data["assignee"] else None,
            "team_id": int(data["team"]) if data["team"] else None,
            "tags": split_tags(data["tags"]),
        }


class ComposerForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("public", "Public reply"), ("note", "Internal note")], initial="public"
    )
    body = forms.CharField(
        max_length=MAX_BODY_CHARS,
        error_messages={
            "required": "Write a message first.",
            "max_length": f"The message is too long (at most {MAX_BODY_CHARS:,} characters).",
        },
    )
    submit_status = forms.ChoiceField(choices=SUBMIT_STATUSES, required=False)


class MacroForm(forms.Form):
    macro = forms.IntegerField(min_value=1, error_messages={"required": "Choose a macro."})
