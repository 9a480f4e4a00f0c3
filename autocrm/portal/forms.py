"""Forms of the help centre (validation of shape only; services validate and write)."""

from __future__ import annotations

from django import forms

from autocrm.portal.services import SIGNUP_POLICIES

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
