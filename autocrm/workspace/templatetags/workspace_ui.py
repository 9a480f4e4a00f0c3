"""Template helpers of the agent shell: current view name, workspace switcher, initials."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from autocrm.accounts import selectors
from autocrm.accounts.models import ADMIN_ROLES, STAFF_ROLES
from autocrm.core.models import Tenant
from autocrm.realtime.selectors import page_snapshot

register = template.Library()


@register.simple_tag(takes_context=True)
def url_name(context: dict[str, Any]) -> str:
    """The namespaced name of the current view (``workspace:settings``), for nav highlight."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace the signed-in user belongs to, for the switcher."""

    tenant_id: int
    name: str
    url: str


@register.simple_tag(takes_context=True)
def user_workspaces(context: dict[str, Any]) -> list[Workspace]:
    """The signed-in user's workspaces (the middleware has put the request in a tenant or
    user context, so their own membership rows are readable): plain values, on every page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    rows = selectors.user_workspace_rows(user_id=user.pk)
    return [
        Workspace(tenant_id, name, workspace_url(slug, staff=role in STAFF_ROLES))
        for tenant_id, name, slug, role in rows
    ]


def workspace_url(slug: str, *, staff: bool) -> str:
    """Where a membership leads: the agent dashboard for staff, the portal for customers."""
    if staff:
        return reverse("workspace:dashboard", args=[slug])
    return reverse("portal:requests", args=[slug])


@functools.cache
def _icon_svg(name: str) -> SafeString:
    # components/icon.html stays the one source of the icons; each is rendered once per
    # process (the agent shell shows fourteen on every page: as includes they were a sixth
    # of its render time).
    return mark_safe(render_to_string("components/icon.html", {"name": name}))  # noqa: S308 - our own static SVG


@register.simple_tag
def icon(name: str) -> SafeString:
    """``{% icon "inbox" %}``: the SVG icon of that name."""
    return _icon_svg(name)


@register.simple_tag(takes_context=True)
def agent_nav(context: Any, current: str) -> SafeString:
    """``{% agent_nav current %}``: the shell's primary navigation (layouts/_agent_nav.html).
    Its 17 links and their "current page" tests cost a fifth of every agent page's CPU, yet
    depend only on the tenant's slug, the member's role and the page: rendered once per
    combination and process (bounded), except with DEBUG, where template edits show at once."""
    tenant = context.get("tenant")
    membership = context.get("membership")
    slug = tenant.slug if tenant is not None else None
    role = membership.role if membership is not None else None
    if settings.DEBUG:
        return _render_agent_nav(slug, role, current)
    return _cached_agent_nav(slug, role, current)


def _render_agent_nav(slug: str | None, role: str | None, current: str) -> SafeString:
    membership = (
        None
        if role is None
        else {"is_staff_role": role in STAFF_ROLES, "is_admin_role": role in ADMIN_ROLES}
    )
    context = {"tenant": None if slug is None else {"slug": slug}, "membership": membership}
    return mark_safe(  # noqa: S308 - a template's output, escaped as it rendered
        render_to_string("layouts/_agent_nav.html", {**context, "current": current})
    )


_cached_agent_nav = functools.lru_cache(maxsize=2048)(_render_agent_nav)


@register.filter
def startswith(value: str, prefix: str) -> bool:
    """Whether a URL name starts with a prefix: a settings section stays marked current on
    its add/edit/delete pages (``settings_sla``, ``settings_sla_edit``…)."""
    return str(value).startswith(prefix)


@register.filter
def iso(moment: Any) -> str:
    """``2026-11-30T09:12:00+00:00`` for ``<time datetime>`` (the ``date:'c'`` filter's
    output without its localisation machinery, which dense lists pay per cell)."""
    return moment.isoformat() if isinstance(moment, dt.datetime) else ""


@register.filter
def stamp(moment: Any) -> str:
    """``30 Nov 2026, 09:12`` (in UTC, as the pages say), for titles and headers."""
    return moment.strftime("%-d %b %Y, %H:%M") if isinstance(moment, dt.datetime) else ""


def initials_of(name: str | None, email: str | None) -> str:
    """``Ana Lima`` → ``AL``; without a name the address's first letter; else ``?``."""
    name = (name or "").strip()
    if name:
        parts = name.split()
        return (parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")).upper()
    return (email or "?")[:1].upper()


@register.filter
def initials(user: Any) -> str:
    return initials_of(getattr(user, "name", ""), getattr(user, "email", ""))


@register.filter
def status_label(value: str) -> str:
    """``on_hold`` → ``On hold``."""
    return str(value).replace("_", " ").capitalize()


@register.filter
def ago(moment: Any) -> str:
    """A compact age for dense tables: ``now``, ``12m``, ``3h``, ``5d``, then the date."""
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


@register.simple_tag
def live_snapshot(tenant: Tenant) -> dict[str, int]:
    """The page's time and newest readable event, for its first socket's catch-up (live.js)."""
    return page_snapshot(tenant=tenant)
