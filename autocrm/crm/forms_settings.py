"""Forms of the sales settings lists: activity templates and deal assignment rules. They check
shape with the API's bounds (schemas_deals); the services check meaning (a free name, staff
members, a pipeline of this workspace) and their errors come back on the fields."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from autocrm.crm.models import ActivityKind, ActivityTemplate, DealAssignmentRule, DealKind
from autocrm.crm.services.activities import TEMPLATE_FIELDS
from autocrm.workspace.settings_forms import FingerprintForm

MAX_AMOUNT = Decimal("999999999999.99")


class ActivityTemplateForm(FingerprintForm):
    name = forms.CharField(label="Name", max_length=100)
    kind = forms.ChoiceField(label="Kind", choices=ActivityKind.choices)
    subject = forms.CharField(label="Subject", max_length=200)
    body = forms.CharField(
        label="Details", max_length=10_000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    due_in_days = forms.IntegerField(
        label="Due in (days)",
        min_value=0,
        max_value=3650,
        required=False,
        help_text="Empty: no due date (notes, open tasks).",
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=0, max_value=10_080, required=False, initial=0
    )
    remind_minutes_before = forms.IntegerField(
        label="Remind (minutes before)",
        min_value=0,
        max_value=10_080,
        required=False,
        help_text="Empty: no reminder. Needs a due date.",
    )

    @staticmethod
    def values_of(template: ActivityTemplate) -> dict[str, Any]:
        return {f: getattr(template, f) for f in TEMPLATE_FIELDS}

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "kind": d["kind"],
            "subject": d["subject"],
            "body": d.get("body") or "",
            "due_in_days": d.get("due_in_days"),
            "duration_minutes": d.get("duration_minutes") or 0,
            "remind_minutes_before": d.get("remind_minutes_before"),
        }


class DealAssignmentRuleForm(FingerprintForm):
    name = forms.CharField(label="Name", max_length=100)
    active = forms.BooleanField(label="Active", required=False, initial=True)
    pipeline_id = forms.TypedChoiceField(
        label="Pipeline", coerce=int, required=False, empty_value=None
    )
    kind = forms.ChoiceField(
        label="Leads or deals", choices=[("", "Both"), *DealKind.choices], required=False
    )
    min_amount = forms.DecimalField(
        label="Amount at least",
        min_value=0,
        max_value=MAX_AMOUNT,
        decimal_places=2,
        required=False,
        help_text="Empty: any amount.",
    )
    contact_tag = forms.CharField(
        label="Contact has tag", max_length=50, required=False, help_text="Empty: any contact."
    )
    user_ids = forms.TypedMultipleChoiceField(
        label="Hand out in turn to",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one person."},
    )

    def __init__(
        self,
        *args: Any,
        pipelines: list[tuple[int, str]],
        people: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        pipeline = self.fields["pipeline_id"]
        assert isinstance(pipeline, forms.ChoiceField)
        pipeline.choices = [("", "Any pipeline"), *pipelines]
        users = self.fields["user_ids"]
        assert isinstance(users, forms.ChoiceField)
        users.choices = people

    @staticmethod
    def values_of(rule: DealAssignmentRule) -> dict[str, Any]:
        return {
            "name": rule.name,
            "active": rule.active,
            "pipeline_id": rule.pipeline_id,
            "kind": rule.kind,
            "min_amount": rule.min_amount,
            "contact_tag": rule.contact_tag,
            "user_ids": list(rule.user_ids),
        }

    def values(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "active": d["active"],
            "pipeline_id": d.get("pipeline_id"),
            "kind": d.get("kind") or "",
            "min_amount": d.get("min_amount"),
            "contact_tag": d.get("contact_tag") or "",
            "user_ids": d["user_ids"],
        }
