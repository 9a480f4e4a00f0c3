"""A tenant's AI settings (Settings → AI): triage on or off, the confidence below which a
suggestion waits for review, and the monthly LLM budget. A tenant without a row uses the
defaults (triage on, the model's calibrated floor, ``AI_LLM_MONTHLY_BUDGET``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from autocrm.ai import events
from autocrm.ai.models import AISettings
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant

MAX_BUDGET = Decimal("99999999.99")  # the column's ten digits


def _clean(triage_threshold: float | None, llm_monthly_budget: Decimal | None) -> None:
    errors: dict[str, str] = {}
    if triage_threshold is not None and not 0 <= triage_threshold <= 1:
        errors["triage_threshold"] = "A confidence between 0 and 1 (e.g. 0.7), or empty."
    if llm_monthly_budget is not None and not Decimal(0) <= llm_monthly_budget <= MAX_BUDGET:
        errors["llm_monthly_budget"] = f"Between 0 and {MAX_BUDGET} US dollars, or empty."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def ai_settings_update(
    *,
    tenant: Tenant,
    actor: Actor,
    triage_enabled: bool,
    triage_threshold: float | None,
    llm_monthly_budget: Decimal | None,
) -> AISettings:
    """Owners and admins; appends ``ai.settings.updated`` with what changed (nothing changed:
    no event)."""
    if actor.role not in ("owner", "admin"):
        raise PermissionDenied("Only owners and admins change the AI settings.")
    _clean(triage_threshold, llm_monthly_budget)
    row, _ = AISettings.objects.select_for_update().get_or_create(tenant=tenant)
    values: dict[str, Any] = {
        "triage_enabled": triage_enabled,
        "triage_threshold": triage_threshold,
        "llm_monthly_budget": llm_monthly_budget,
    }
    changes = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changes[name] = {"from": _json(old), "to": _json(value)}
            setattr(row, name, value)
    if changes:
        row.save()
        event_append(
            tenant=tenant,
            type=events.SETTINGS_UPDATED,
            subject=row,
            actor=actor,
            payload={"changes": changes},
        )
    return row


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
