"""``{% ai_sidebar_panel %}``: the AI panel of the ticket page, filled from the page's own
context (request and ticket), so the workspace's view needs no AI knowledge."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("workspace/ai/_panel.html", takes_context=True)
def ai_sidebar_panel(context: template.Context) -> dict[str, Any]:
    from autocrm.ai.views import sidebar_context

    request, ticket = context["request"], context["ticket"]
    panel = sidebar_context(request, ticket)
    panel.update({"tenant": context.get("tenant"), "ticket": ticket, "request": request})
    return panel
