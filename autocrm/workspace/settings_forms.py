"""Forms of the ticket-configuration settings pages (saved views, macros, tags, custom fields,
webhooks). They only validate shape; the tickets and notifications services validate meaning
and their ValidationErrors come back as form errors.

Edit forms carry a ``fingerprint`` of the row as it was shown: when someone changed the row
meanwhile, saving is refused with a form error instead of silently overwriting their change
(these rows have no version column, and a hash of what the form edits is enough)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Self

from django import forms
from django.http import QueryDict

from autocrm.tickets.models import FieldType, Macro, Priority, Status, TicketType
from autocrm.tickets.query import SORTS

SORT_LABELS = {
    "-updated_at": "Recently updated first",
    "updated_at": "Least recently updated first",
    "-created_at": "Newest first",
    "created_at": "Oldest first",
    "priority": "Priority",
    "-number": "Highest number first",
    "number": "Lowest number first",
    "relevance": "Relevance (with free text)",
}
STALE_MESSAGE = (
    "Someone changed this {what} while you were editing it. The form now shows their "
    "version; make your change again and save."
)
# Macro actions the form edits as fields; any other action (set by the API) is kept as is.
MACRO_FORM_ACTIONS = ("status", "priority", "type", "assignee_id", "tags_add", "tags_remove")


def fingerprint(values: dict[str, Any]) -> str:
    """A short hash of a row's editable values, to notice a concurrent change."""
    data = json.dumps(values, sort_keys=True, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:32]


def with_fingerprint(values: dict[str, Any]) -> dict[str, Any]:
    """An edit form's initial data: the row's editable ``values`` and their fingerprint."""
    return {**values, "fingerprint": fingerprint(values)}


def split_list(text: str) -> list[str]:
    """Items of a comma- or newline-separated list, trimmed, empties dropped, order kept."""
    return [item.strip() for item in re.split(r"[,\n]", text or "") if item.strip()]


ACTION_LABELS = {
    "status": "Status",
    "priority": "Priority",
    "type": "Type",
    "assignee_id": "Assign to",
    "team_id": "Team",
    "tags": "Tags",
    "tags_add": "Add tags",
    "tags_remove": "Remove tags",
    "custom_fields": "Fields",
}


def describe_actions(actions: list[dict[str, Any]], agent_names: dict[int, str]) -> list[str]:
    """A macro's actions in words for the list ("Priority: high", "Assign to: Ana")."""
    described = []
    for action in actions:
        field, value = action.get("field"), action.get("value")
        if field == "assignee_id":
            shown = agent_names.get(value, "a former member") if value else "nobody"
        elif field == "priority" and isinstance(value, int):
            shown = str(Priority(value).label) if value in Priority.values else str(value)
        elif isinstance(value, list):
            shown = ", ".join(map(str, value))
        elif isinstance(value, dict):
            shown = ", ".join(f"{k} = {v}" for k, v in value.items())
        else:
            shown = str(value)
        described.append(f"{ACTION_LABELS.get(str(field), str(field))}: {shown}")
    return described


class FingerprintForm(forms.Form):
    fingerprint = forms.CharField(widget=forms.HiddenInput, required=False)

    def is_stale(self, current: str) -> bool:
        return bool(self.cleaned_data.get("fingerprint")) and (
            self.cleaned_data["fingerprint"] != current
        )

    @classmethod
    def for_edit(
        cls, data: QueryDict | None, values: dict[str, Any], what: str, **kwargs: Any
    ) -> Self:
        """The edit form of a row whose editable ``values`` are these: bound to ``data`` (a
        POST) or not (None). A POST made from an older version of the row comes back as
        :meth:`stale`: invalid, showing the row as it is now."""
        return cls(data, initial=with_fingerprint(values), **kwargs).unless_stale(
            values, what, **kwargs
        )

    def unless_stale(self, values: dict[str, Any], what: str, **kwargs: Any) -> Self:
        """This form, or, when it is a valid POST made from an older version of the row whose
        editable ``values`` are these, :meth:`stale`. (The rule builder's pages check their
        builder buttons first: a button press is not validated, so not checked either.)"""
        if self.is_bound and self.is_valid() and self.is_stale(fingerprint(values)):
            return type(self).stale(with_fingerprint(values), what, **kwargs)
        return self

    @classmethod
    def stale(cls, initial: dict[str, Any], what: str, **kwargs: Any) -> Self:
        """The form again, filled with the row as it is now, with the stale-edit error."""
        data = {
            key: "on" if value is True else value
            for key, value in initial.items()
            if value is not False and value is not None
        }
        form = cls(data=data, initial=initial, **kwargs)
        form.is_valid()
        form.add_error(None, STALE_MESSAGE.format(what=what))
        return form


class TicketViewForm(FingerprintForm):
    name = forms.CharField(label="Name", max_length=100)
    query = forms.CharField(
        label="Filter",
        max_length=1000,
        required=False,
        help_text="In the agent search syntax, e.g. "
        "<code>status:open priority:high tag:vip</code>.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    sort = forms.ChoiceField(
        label="Sort", choices=[(s, SORT_LABELS.get(s, s)) for s in SORTS], initial="-updated_at"
    )
    position = forms.IntegerField(label="Position", min_value=0, initial=0, required=False)
    shared = forms.BooleanField(label="Shared with the whole team", required=False, initial=True)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shared"].disabled = editing  # sharing is chosen once, on create


class MacroForm(FingerprintForm):
    name = forms.CharField(label="Name", max_length=100)
    description = forms.CharField(label="Description", max_length=500, required=False)
    set_status = forms.ChoiceField(
        label="Set status", required=False, choices=[("", "— leave —"), *Status.choices]
    )
    set_priority = forms.TypedChoiceField(
        label="Set priority",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "— leave —")] + [(v, str(lbl).title()) for v, lbl in Priority.choices],
    )
    set_type = forms.ChoiceField(
        label="Set type", required=False, choices=[("", "— leave —"), *TicketType.choices]
    )
    set_assignee = forms.TypedChoiceField(
        label="Assign to", required=False, coerce=int, empty_value=None, choices=[]
    )
    tags_add = forms.CharField(label="Add tags", required=False, help_text="Comma-separated.")
    tags_remove = forms.CharField(label="Remove tags", required=False, help_text="Comma-separated.")
    reply_body = forms.CharField(
        label="Reply",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Placeholders: {{ticket.number}}, {{ticket.subject}}, {{requester.name}}, "
        "{{agent.name}} ….",
    )
    reply_public = forms.BooleanField(
        label="Send the reply to the customer (otherwise an internal note)",
        required=False,
        initial=True,
    )
    active = forms.BooleanField(label="Active", required=False, initial=True)
    shared = forms.BooleanField(label="Shared with the whole team", required=False, initial=True)

    def __init__(
        self, *args: Any, agents: list[tuple[int, str]], editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["set_assignee"]
        assert isinstance(assignee, forms.TypedChoiceField)
        assignee.choices = [("", "— leave —"), *agents]
        self.fields["shared"].disabled = editing  # sharing is chosen once, on create

    def actions(self, kept: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The macro's actions: what the form sets, then ``kept`` (actions it does not edit)."""
        data = self.cleaned_data
        actions: list[dict[str, Any]] = []
        for name, field in (
            ("set_status", "status"),
            ("set_priority", "priority"),
            ("set_type", "type"),
            ("set_assignee", "assignee_id"),
        ):
            if data.get(name) not in (None, ""):
                actions.append({"field": field, "value": data[name]})
        for name in ("tags_add", "tags_remove"):
            if tags := split_list(data.get(name, "")):
                actions.append({"field": name, "value": tags})
        return actions + kept

    @staticmethod
    def initial_from(macro: Macro) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "name": macro.name,
            "description": macro.description,
            "reply_body": macro.reply_body,
            "reply_public": macro.reply_public,
            "active": macro.active,
            "shared": macro.owner_id is None,
        }
        for action in macro.actions:
            field, value = action.get("field"), action.get("value")
            if field in ("tags_add", "tags_remove"):
                initial[field] = ", ".join(value if isinstance(value, list) else [value])
            elif field == "assignee_id":
                initial["set_assignee"] = value
            elif field in ("status", "priority", "type"):
                initial[f"set_{field}"] = value
        return initial

    @staticmethod
    def kept_actions(macro: Macro | None) -> list[dict[str, Any]]:
        if macro is None:
            return []
        return [a for a in macro.actions if a.get("field") not in MACRO_FORM_ACTIONS]


class TagForm(forms.Form):
    name = forms.CharField(label="Tag", max_length=50)
    color = forms.CharField(
        label="Colour",
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        initial="#1f6feb",
    )


class CustomFieldForm(FingerprintForm):
    label = forms.CharField(label="Label", max_length=100)
    key = forms.CharField(
        label="Key",
        max_length=50,
        required=False,
        help_text="Used in the API and in searches as <code>cf.KEY:value</code>; made from the "
        "label when left empty. It cannot change later.",
    )
    field_type = forms.ChoiceField(label="Type", choices=FieldType.choices)
    options = forms.CharField(
        label="Options",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Dropdown and multi-select only: one per line.",
    )
    required = forms.BooleanField(label="Required", required=False)
    active = forms.BooleanField(label="Active", required=False, initial=True)
    position = forms.IntegerField(label="Position", min_value=0, initial=0, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            # Stored values depend on key and type: shown, never posted.
            for name in ("key", "field_type"):
                self.fields[name].disabled = True
                self.fields[name].required = False
        else:
            del self.fields["active"]

    def options_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["options"].splitlines() if line.strip()]


class WebhookForm(FingerprintForm):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/autocrm"}),
    )
    event_types = forms.CharField(
        label="Events",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Event types or <code>prefix.*</code> patterns, comma- or line-separated; "
        "empty sends every event.",
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    active = forms.BooleanField(label="Active", required=False, initial=True)
