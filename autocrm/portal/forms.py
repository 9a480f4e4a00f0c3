"""Forms of the help centre (validation of shape only; services validate and write)."""

from __future__ import annotations

from typing import Any

from django import forms

from autocrm.portal.services import SIGNUP_POLICIES
from autocrm.tickets.models import CustomField, FieldType

SIGNUP_POLICY_CHOICES = list(
    zip(
        SIGNUP_POLICIES,
        [
            "Open: anyone may sign up",
            "Invitation only: addresses you invite",
            "By email domain: addresses at the domains below",
        ],
        strict=True,
    )
)


def _color_input() -> forms.TextInput:
    return forms.TextInput(
        attrs={"placeholder": "#4f46e5", "pattern": "#[0-9a-fA-F]{6}", "spellcheck": "false"}
    )


class HelpCentreSettingsForm(forms.Form):
    brand_name = forms.CharField(
        label="Help centre name",
        max_length=200,
        required=False,
        help_text="Shown in the header and page titles. Empty: the workspace name.",
    )
    primary_color = forms.CharField(
        label="Primary colour",
        max_length=50,
        required=False,
        widget=_color_input(),
        help_text="Buttons and links, as #rrggbb. Empty: the default indigo.",
    )
    header_color = forms.CharField(
        label="Header colour",
        max_length=50,
        required=False,
        widget=_color_input(),
        help_text="The header's background, as #rrggbb. Text on it turns light or dark to stay "
        "readable.",
    )
    footer_text = forms.CharField(
        label="Footer text",
        max_length=500,
        required=False,
        widget=forms.TextInput(),
        help_text="A line of plain text, e.g. your opening hours.",
    )
    custom_domain = forms.CharField(
        label="Custom domain",
        max_length=253,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "help.example.com", "spellcheck": "false"}),
        help_text="A host name of yours that serves this help centre; see “Custom domain” "
        "in docs/help-centre.md for the DNS and proxy steps.",
    )
    signup_policy = forms.ChoiceField(
        label="Who may create an account", choices=SIGNUP_POLICY_CHOICES, widget=forms.RadioSelect
    )
    signup_domains = forms.CharField(
        label="Email domains allowed to sign up",
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "example.com, example.org"}),
        help_text="Used with “By email domain”; separate with commas.",
    )
    customers_see_organization_tickets = forms.BooleanField(
        label="Customers see their company's requests",
        required=False,
        help_text="People of a company see every request of that company, not only their own.",
    )
    csat_enabled = forms.BooleanField(
        label="Ask for a rating when a request is solved", required=False
    )


class LogoForm(forms.Form):
    logo = forms.FileField(
        label="Logo",
        help_text="PNG, JPEG, WebP or GIF, at most 512 KB; shown about 32 pixels high.",
    )


class CustomerSignupForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not only digits, not a common password.",
    )


class ProfileForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What uses it, e.g. “order system”.",
    )
    scope = forms.ChoiceField(
        label="Access",
        choices=[
            ("read", "Read your requests"),
            ("write", "Read, submit and answer your requests"),
        ],
        initial="read",
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); checked by the service."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _custom_field(field: CustomField) -> forms.Field:
    """The form field of a ticket custom field (values are checked again by the service)."""
    common: dict[str, Any] = {"label": field.label, "required": field.required}
    kind = field.field_type
    options = [(str(o), str(o)) for o in field.options]
    if kind == FieldType.NUMBER:
        return forms.DecimalField(**common)
    if kind == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldType.CHECKBOX:
        return forms.BooleanField(label=field.label, required=False)
    if kind == FieldType.DROPDOWN:
        return forms.ChoiceField(choices=[("", "—"), *options], **common)
    if kind == FieldType.MULTI_SELECT:
        return forms.MultipleChoiceField(
            choices=options, widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=10_000, **common)


CUSTOM_PREFIX = "cf_"


class RequestForm(forms.Form):
    subject = forms.CharField(
        label="Subject",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    body = forms.CharField(
        label="How can we help?",
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text="Describe what happened and what you expected. Plain text.",
    )

    def __init__(self, *args: Any, custom_fields: list[CustomField], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_definitions = custom_fields
        for field in custom_fields:
            self.fields[CUSTOM_PREFIX + field.key] = _custom_field(field)
        self.fields["attachments"] = MultipleFileField(
            label="Attachments",
            help_text="Up to 5 files: images, PDF, text or office documents.",
        )

    def custom_values(self) -> dict[str, Any]:
        """The custom fields' cleaned values as the tickets service takes them."""
        values: dict[str, Any] = {}
        for field in self.custom_definitions:
            value = self.cleaned_data.get(CUSTOM_PREFIX + field.key)
            if value in (None, "", []):
                continue
            if field.field_type == FieldType.NUMBER:
                value = str(value)
            elif field.field_type == FieldType.DATE:
                value = value.isoformat()
            elif field.field_type == FieldType.CHECKBOX and not value:
                continue
            values[field.key] = value
        return values


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply", max_length=50_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = MultipleFileField(label="Attachments")


class RatingForm(forms.Form):
    rating = forms.ChoiceField(
        label="How would you rate the help you got?",
        choices=[("good", "Good, I'm satisfied"), ("bad", "Bad, I'm unsatisfied")],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Anything to add? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
