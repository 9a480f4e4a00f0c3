"""Template tags for routing on agent pages: a ticket's SLA timers for the sidebar."""

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
