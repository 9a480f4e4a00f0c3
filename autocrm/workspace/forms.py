"""Forms of the agent workspace settings pages (validation only; services do the writes)."""

from __future__ import annotations

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
