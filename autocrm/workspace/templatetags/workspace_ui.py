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
    return reverse("portal:requests", args=[membership.tenant.slug])


@register.filter
def initials(user: Any) -> str:
    name = (getattr(user, "name", "") or "").strip()
    if name:
        parts = name.split()
        return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()
    email = getattr(user, "email", "") or "?"
    return email[:1].upper()


@register.filter
def status_label(value: str) -> str:
    """``on_hold`` → ``On hold``."""
    return str(value).replace("_", " ").capitalize()


@register.filter
def ago(moment: Any) -> str:
    """A compact age for dense tables: ``now``, ``12m``, ``3h``, ``5d``, then the date."""
    import datetime as dt

    from django.utils import timezone

    if not isinstance(moment, dt.datetime):
        return ""
    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 7 * 86400:
        return f"{seconds // 86400}d"
    return moment.strftime("%-d %b" if moment.year == timezone.now().year else "%-d %b %Y")


@register.filter
def filesize(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


@register.filter
def duration(value: Any) -> str:
    """A time span as people say it: ``45 min``, ``3 h 20 min``, ``2 d 4 h``."""
    import datetime as dt

    if not isinstance(value, dt.timedelta):
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
