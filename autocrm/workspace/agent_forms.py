"""Forms of the agent workspace: bulk actions, the property panel and the composer."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from autocrm.tickets.models import CustomField, FieldType, Priority, Status, TicketType
from autocrm.workspace import widgets
from autocrm.workspace.widgets import QuickSelect

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


def bulk_choices(
    *, agents: list[tuple[int, str]], macros: list[tuple[int, str]]
) -> dict[str, list[tuple[Any, str]]]:
    """The choices of ``BulkForm``'s selects: what the queue page offers (as ready-made
    options, without building a form per page) and what a bulk request may send."""
    return {
        "assignee": _choices_with_blank(
            [("none", "Unassigned"), *[(str(pk), name) for pk, name in agents]], "Assignee…"
        ),
        "status": _choices_with_blank(list(Status.choices), "Status…"),
        "priority": _choices_with_blank(
            [(label, label.capitalize()) for _, label in Priority.choices], "Priority…"
        ),
        "macro": _choices_with_blank(list(macros), "Apply macro…"),
    }


class BulkForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True)
    assignee = forms.ChoiceField(required=False)
    status = forms.ChoiceField(required=False)
    priority = forms.ChoiceField(required=False)
    tags_add = forms.CharField(required=False, max_length=500)
    macro = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    merge_into = forms.IntegerField(required=False, min_value=1, max_value=2**62)

    def __init__(
        self,
        *args: Any,
        agents: list[tuple[int, str]],
        macros: list[tuple[int, str]] = [],  # noqa: B006 (read only)
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        # Which ids exist is the service's check (it names the missing ones).
        ids_field = self.fields["ids"]
        assert isinstance(ids_field, forms.TypedMultipleChoiceField)
        ids_field.valid_value = lambda value: str(value).isascii() and str(value).isdigit()  # type: ignore[method-assign]
        for name, choices in bulk_choices(agents=agents, macros=macros).items():
            _choice_field(self, name).choices = choices

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

    def action(self) -> str:
        """``changes``, ``macro`` or ``merge``; "" when nothing or more than one kind is
        chosen (a macro or a merge is its own step, never mixed with field changes)."""
        kinds = [
            kind
            for kind, chosen in (
                ("changes", bool(self.changes())),
                ("macro", self.cleaned_data["macro"] is not None),
                ("merge", self.cleaned_data["merge_into"] is not None),
            )
            if chosen
        ]
        return kinds[0] if len(kinds) == 1 else ""


CUSTOM_FIELD_PREFIX = "cf_"


def custom_form_field(definition: CustomField, current: Any) -> forms.Field:
    """A typed input for one custom field definition. Every one is optional here: "required"
    is enforced when a ticket is created, and an agent may clear a value later. A stored
    value that is no longer an option stays selectable, so saving other fields keeps it."""
    label = definition.label
    kind = definition.field_type
    options = list(definition.options)
    if kind in (FieldType.DROPDOWN, FieldType.MULTI_SELECT):
        stale = current if isinstance(current, list) else [current]
        options += [v for v in stale if v not in (None, "") and v not in options]
    if kind == FieldType.NUMBER:
        return forms.CharField(
            label=label, required=False, widget=widgets.NumberInput(attrs={"step": "any"})
        )
    if kind == FieldType.DATE:
        return forms.DateField(
            label=label, required=False, widget=widgets.DateInput(attrs={"type": "date"})
        )
    if kind == FieldType.CHECKBOX:
        return forms.BooleanField(label=label, required=False, widget=widgets.CheckboxInput)
    if kind == FieldType.DROPDOWN:
        return forms.ChoiceField(
            label=label,
            required=False,
            choices=[("", "—"), *[(o, o) for o in options]],
            widget=QuickSelect,
        )
    if kind == FieldType.MULTI_SELECT:
        return forms.MultipleChoiceField(
            label=label,
            required=False,
            choices=[(o, o) for o in options],
            widget=forms.CheckboxSelectMultiple,
        )
    return forms.CharField(label=label, required=False, max_length=10_000, widget=widgets.TextInput)


def _custom_value(kind: str, value: Any) -> Any:
    """A cleaned form value as the tickets service takes it (empty removes the value)."""
    if kind == FieldType.DATE:
        return value.isoformat() if value else None
    if kind == FieldType.NUMBER:
        return value.strip() or None
    return value


class PropertiesForm(forms.Form):
    version = forms.IntegerField(widget=widgets.HiddenInput, min_value=1)
    status = forms.ChoiceField(choices=Status.choices, widget=QuickSelect)
    priority = forms.ChoiceField(
        choices=[(label, label.capitalize()) for _, label in Priority.choices],
        widget=QuickSelect,
    )
    type = forms.ChoiceField(
        required=False, choices=[("", "—"), *TicketType.choices], widget=QuickSelect
    )
    assignee = forms.ChoiceField(required=False, widget=QuickSelect)
    team = forms.ChoiceField(required=False, widget=QuickSelect)
    tags = forms.CharField(required=False, max_length=1000, widget=widgets.TextInput)

    def __init__(
        self,
        *args: Any,
        agents: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        custom_fields: list[CustomField] = (),  # type: ignore[assignment]
        current_custom: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choice_field(self, "assignee").choices = _choices_with_blank(
            [(str(pk), name) for pk, name in agents], "Unassigned"
        )
        _choice_field(self, "team").choices = _choices_with_blank(
            [(str(pk), name) for pk, name in teams], "No team"
        )
        self.current_custom = dict(current_custom or {})
        self.custom_definitions = {f.key: f for f in custom_fields}
        for definition in custom_fields:
            name = CUSTOM_FIELD_PREFIX + definition.key
            self.fields[name] = custom_form_field(
                definition, self.current_custom.get(definition.key)
            )
            self.initial.setdefault(name, self.current_custom.get(definition.key))

    def custom_bound_fields(self) -> list[forms.BoundField]:
        return [self[CUSTOM_FIELD_PREFIX + key] for key in self.custom_definitions]

    def standard_bound_fields(self) -> list[forms.BoundField]:
        return [f for f in self.visible_fields() if not f.name.startswith(CUSTOM_FIELD_PREFIX)]

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        changes: dict[str, Any] = {
            "status": data["status"],
            "priority": data["priority"],
            "type": data["type"],
            "assignee_id": int(data["assignee"]) if data["assignee"] else None,
            "team_id": int(data["team"]) if data["team"] else None,
            "tags": split_tags(data["tags"]),
        }
        custom: dict[str, Any] = {}
        for key, definition in self.custom_definitions.items():
            value = _custom_value(definition.field_type, data[CUSTOM_FIELD_PREFIX + key])
            current = self.current_custom.get(key)
            # Only what the agent changed: an untouched value is never re-validated (or
            # dropped) because its definition changed since it was stored.
            if str(value or "") != str(current or "") and not (
                definition.field_type == FieldType.CHECKBOX and not value and not current
            ):
                custom[key] = value
        if custom:
            changes["custom_fields"] = custom
        return changes


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
    # The newest message the page showed when the reply was written: a reply posted after
    # someone else's is sent only once the agent has seen theirs (the collision check).
    last_message = forms.IntegerField(min_value=0, required=False)


class MacroForm(forms.Form):
    macro = forms.IntegerField(min_value=1, error_messages={"required": "Choose a macro."})


class MergeForm(forms.Form):
    into = forms.IntegerField(min_value=1, max_value=2**62)
