"""Forms of the deal and activity pages: they parse what people type; the services validate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from autocrm.crm.models import ActivityKind, DealKind

REMINDER_CHOICES = [
    ("", "No reminder"),
    ("0", "At the time"),
    ("5", "5 minutes before"),
    ("15", "15 minutes before"),
    ("30", "30 minutes before"),
    ("60", "1 hour before"),
    ("1440", "1 day before"),
]


def _set_choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class DealForm(forms.Form):
    title = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=DealKind.choices, initial=DealKind.DEAL)
    stage = forms.TypedChoiceField(coerce=int, label="Pipeline and stage")
    amount = forms.DecimalField(
        min_value=0, max_value=999_999_999_999, decimal_places=2, required=False, initial=0
    )
    currency = forms.CharField(max_length=3, min_length=3, required=False)
    expected_close_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    contact_email = forms.EmailField(
        required=False, label="Contact (email)", help_text="An address of an existing contact."
    )
    company = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: Any,
        stages: list[tuple[str, list[tuple[int, str]]]],
        owners: list[tuple[int, str]],
        companies: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["stage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = stages  # grouped by pipeline: <optgroup>s
        _set_choices(self, "owner", [("", "By the assignment rules"), *owners])
        _set_choices(self, "company", [("", "The contact's company"), *companies])

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "kind": d["kind"],
            "stage_id": d["stage"],
            "amount": d.get("amount") or 0,
            "currency": (d.get("currency") or "").upper(),
            "expected_close_date": d.get("expected_close_date"),
            "owner_id": d.get("owner"),
            "company_id": d.get("company"),
        }


class DealCloseForm(forms.Form):
    status = forms.ChoiceField(choices=[("won", "Won"), ("lost", "Lost"), ("open", "Reopen")])
    reason = forms.CharField(max_length=300, required=False)


class DealFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    owner = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "Leads and deals"), *DealKind.choices])
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), ("open", "Open"), ("won", "Won"), ("lost", "Lost")],
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[("-created_at", "Newest"), ("-amount", "Largest"), ("title", "Title")],
    )
    cursor = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(
            self,
            "owner",
            [
                ("", "Any owner"),
                ("me", "Mine"),
                ("none", "No owner"),
                *[(str(pk), name) for pk, name in owners],
            ],
        )


class ActivityForm(forms.Form):
    template = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    kind = forms.ChoiceField(
        choices=[("", "From the template"), *ActivityKind.choices], required=False
    )
    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    due_at = forms.DateTimeField(
        required=False,
        label="Due",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    duration_minutes = forms.IntegerField(
        required=False, min_value=0, max_value=10_080, label="Minutes"
    )
    remind = forms.ChoiceField(choices=REMINDER_CHOICES, required=False, label="Reminder")
    owner = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    contact = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    company = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    deal = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    ticket = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )
    next = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)
    # Set by "log activity" (the ticket sidebar): it already happened.
    done = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        templates: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "owner", [("", "Me"), *owners])
        _set_choices(self, "template", [("", "No template"), *templates])

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        due: dt.datetime | None = d.get("due_at")
        if due is not None and timezone.is_naive(due):
            due = timezone.make_aware(due)
        remind_at = None
        if d.get("remind") not in (None, "") and due is not None:
            remind_at = due - dt.timedelta(minutes=int(d["remind"]))
        return {
            "template_id": d.get("template"),
            "kind": d.get("kind") or "",
            "subject": d.get("subject") or "",
            "body": d.get("body") or "",
            "due_at": due,
            "duration_minutes": d.get("duration_minutes") or 0,
            "remind_at": remind_at,
            "owner_id": d.get("owner"),
            "contact_id": d.get("contact"),
            "company_id": d.get("company"),
            "deal_id": d.get("deal"),
            "ticket_id": d.get("ticket"),
            "done": bool(d.get("done")),
        }
