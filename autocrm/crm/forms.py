"""Forms of the CRM pages: they parse what people type; the services validate it."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from autocrm.crm.services import PhoneInput

_SPLIT = re.compile(r"[\s,;]+")


def split_words(value: str) -> list[str]:
    return [w for w in _SPLIT.split(value or "") if w]


def split_lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def phones_from_lines(value: str) -> list[PhoneInput]:
    """One number a line, optionally followed by a label after a comma: ``+1 415…, work``."""
    phones = []
    for line in split_lines(value):
        number, _, label = line.partition(",")
        phones.append(PhoneInput(number.strip(), label.strip()))
    return phones


def _choices(form: forms.Form, name: str, choices: list[tuple[Any, str]]) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class ContactFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    tag = forms.CharField(required=False, max_length=200)
    owner = forms.ChoiceField(required=False)
    company = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    sort = forms.ChoiceField(required=False, choices=[("name", "Name"), ("-created_at", "Newest")])
    cursor = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(
            self,
            "owner",
            [
                ("", "Any owner"),
                ("me", "Mine"),
                ("none", "No owner"),
                *[(str(pk), name) for pk, name in owners],
            ],
        )


class CompanyFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200)
    tag = forms.CharField(required=False, max_length=200)
    owner = forms.ChoiceField(required=False)
    cursor = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, owners: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(
            self,
            "owner",
            [
                ("", "Any owner"),
                ("me", "Mine"),
                ("none", "No owner"),
                *[(str(pk), name) for pk, name in owners],
            ],
        )


class ContactForm(forms.Form):
    name = forms.CharField(required=False, max_length=200)
    email = forms.CharField(max_length=254, label="Primary email")
    other_emails = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Other emails",
        help_text="One a line.",
    )
    phones = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One a line, a label after a comma: +1 415 555 0100, mobile",
    )
    title = forms.CharField(required=False, max_length=200, label="Job title")
    locale = forms.CharField(
        required=False,
        max_length=10,
        label="Language",
        help_text="Of the e-mails this contact receives, e.g. de or fr-CA; empty: the "
        "workspace's default.",
    )
    company = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Primary company"
    )
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    tags = forms.CharField(required=False, max_length=1000, help_text="Separated by spaces.")
    consent_email = forms.BooleanField(required=False, label="Agreed to email")
    consent_sms = forms.BooleanField(required=False, label="Agreed to SMS")
    consent_phone = forms.BooleanField(required=False, label="Agreed to calls")

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        companies: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "owner", [("", "Nobody"), *owners])
        _choices(self, "company", [("", "None (or by email domain)"), *companies])

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "email": data["email"],
            "emails": split_lines(data["other_emails"]),
            "phones": phones_from_lines(data["phones"]),
            "title": data["title"],
            "locale": data["locale"],
            "company_id": data["company"],
            "owner_id": data["owner"],
            "tags": split_words(data["tags"]),
            "consent_email": data["consent_email"],
            "consent_sms": data["consent_sms"],
            "consent_phone": data["consent_phone"],
        }


class CompanyForm(forms.Form):
    name = forms.CharField(max_length=200)
    domains = forms.CharField(
        required=False, max_length=2000, help_text="Separated by spaces; the first is primary."
    )
    parent = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Parent company"
    )
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    tags = forms.CharField(required=False, max_length=1000, help_text="Separated by spaces.")

    def __init__(
        self,
        *args: Any,
        owners: list[tuple[int, str]],
        companies: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "owner", [("", "Nobody"), *owners])
        _choices(self, "parent", [("", "None"), *companies])

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "domains": split_words(data["domains"]),
            "parent_id": data["parent"],
            "owner_id": data["owner"],
            "tags": split_words(data["tags"]),
        }
