"""Template helpers of the deal, forecast and calendar pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """``EUR 12,000`` (cents only when there are any): a board is read at a glance."""
    if amount is None:
        return ""
    value = Decimal(amount)
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{currency} {text}".strip()


@register.filter
def score_band(score: int | None) -> str:
    if score is None:
        return "none"
    return "high" if score >= 70 else "mid" if score >= 40 else "low"


@register.filter
def signed(points: int) -> str:
    return f"{points:+d}"


_EVENT_LABELS = {
    "deal.created": "Created",
    "deal.updated": "Changed",
    "deal.stage_changed": "Moved",
    "deal.won": "Won",
    "deal.lost": "Lost",
    "deal.reopened": "Reopened",
    "deal.converted": "Converted from a lead",
}


@register.filter
def deal_event_label(event_type: str) -> str:
    return _EVENT_LABELS.get(event_type, event_type)


@register.filter
def changed_fields(changes: Any) -> str:
    if not isinstance(changes, dict):
        return ""
    return ", ".join(sorted(k.removesuffix("_id").replace("_", " ") for k in changes))
