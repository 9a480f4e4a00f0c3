"""Forms of the AI app's pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms


class AISettingsForm(forms.Form):
    triage_enabled = forms.BooleanField(
        required=False,
        label="Triage new tickets",
        help_text="Language, sentiment and, once trained, category, priority, team and assignee.",
    )
    triage_threshold = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Confidence needed to apply a suggestion",
        help_text="Between 0 and 1. Below it (or when the ticket looks unlike anything the model "
        "learnt from) the suggestion waits in the AI review queue. Empty: the level the model "
        "chose for itself when it was trained.",
    )
    llm_monthly_budget = forms.DecimalField(
        required=False,
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
        label="Monthly LLM budget (US dollars)",
        help_text="When this month's calls have cost this much, summaries, suggested replies and "
        "the assistant use their extractive form until the month ends. Empty: the server's "
        "default.",
    )
