"""Template tags for routing on agent pages: a ticket's SLA timers for the sidebar, rule
actions in words for its log of rules fired."""

from __future__ import annotations

from typing import Any

from django import template

from autocrm.routing import selectors
from autocrm.routing.models import SlaTimer, TimerState
from autocrm.workspace.common import actor_for

register = template.Library()


@register.simple_tag(takes_context=True)
def ticket_sla(context: dict[str, Any], ticket: Any) -> list[SlaTimer]:
    """The ticket's SLA timers that still mean something (cancelled ones are left out)."""
    request = context["request"]
    timers = selectors.sla_timers_for(
        tenant=request.tenant, actor=actor_for(request), ticket_ids=[ticket.pk]
    )[ticket.pk]
    return [t for t in timers if t.state != TimerState.CANCELLED]


@register.filter
def rule_action(action: dict[str, Any]) -> str:
    """One action of a rule in a few words: "set priority urgent", "add_tags billing, vip"."""
    kind = str(action.get("type", ""))
    if kind == "set":
        return f"set {action.get('field')} {action.get('value')}"
    if kind in ("email", "notify"):
        return f"{kind} {action.get('to', '')}".strip()
    if kind == "webhook":
        return "webhook"
    value = action.get("value")
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return f"{kind} {value}" if value is not None else kind
