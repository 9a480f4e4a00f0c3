"""Forms of the agent workspace settings pages (validation only; services do the writes)."""

from __future__ import annotations

from typing import Any

from django import forms

from autocrm.accounts.models import ApiKeyScope, Role

INVITABLE_ROLES = [(value, label) for value, label in Role.choices if value != Role.OWNER]


class GeneralSettingsForm(forms.Form):
    name = forms.CharField(label="Workspace name", max_length=200)
    restrict_agents_to_own_teams = forms.BooleanField(
        label="Agents see only their own teams' tickets",
        help_text="Agents then see tickets of the teams they belong to and tickets assigned "
        "to them. Admins and owners always see everything.",
        required=False,
    )
    default_locale = forms.ChoiceField(
        label="Language of customer e-mails",
        help_text="Used when the customer's contact record names no language; English "
        "templates are the fallback.",
    )
    customer_visible_fields = forms.MultipleChoiceField(
        label="Custom fields customers see",
        help_text="Customers see these fields on their requests (help centre and API); "
        "other fields stay internal to the team.",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, locales: list[str], custom_fields: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        locale = self.fields["default_locale"]
        assert isinstance(locale, forms.ChoiceField)
        locale.choices = [(code, code) for code in locales]
        visible = self.fields["customer_visible_fields"]
        assert isinstance(visible, forms.MultipleChoiceField)
        visible.choices = custom_fields
        if not custom_fields:
            visible.help_text = "No custom fields yet (Settings → Fields)."


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label="Role", choices=INVITABLE_ROLES, initial=Role.AGENT)


class MembershipRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label="Key name", max_length=100, help_text="What uses this key, e.g. “Billing sync”."
    )
    scope = forms.ChoiceField(label="Access", choices=ApiKeyScope.choices, initial=ApiKeyScope.READ)
