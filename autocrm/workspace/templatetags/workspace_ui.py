"""Template helpers of the agent shell: current view name, workspace switcher, initials."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from autocrm.accounts import selectors
from autocrm.accounts.models import Membership

register = template.Library()


@register.simple_tag(takes_context=True)
def url_name(context: dict[str, Any]) -> str:
    """The namespaced name of the current view (``workspace:settings``), for nav highlight."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


@register.simple_tag(takes_context=True)
def user_workspaces(context: dict[str, Any]) -> list[Membership]:
    """The signed-in user's memberships (the middleware has put the request in a tenant or
    user context, so their own membership rows are readable)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(selectors.user_memberships(user_id=user.pk))


@register.simple_tag
def workspace_url(membership: Membership) -> str:
    """Where a membership leads: the agent dashboard for staff, the portal for customers."""
    if membership.is_staff_role:
        return reverse("workspace:dashboard", args=[membership.tenant.slug])
    return reverse("portal:home", args=[membership.tenant.slug])


@register.filter
def initials(user: Any) -> str:
    name = (getattr(user, "name", "") or "").strip()
    if name:
        parts = name.split()
        return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()
    email = getattr(user, "email", "") or "?"
    return email[:1].upper()
