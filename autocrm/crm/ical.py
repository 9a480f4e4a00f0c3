"""A member's activities as an iCalendar feed (RFC 5545, written with ``icalendar``) on a
signed URL: calendar apps poll a URL and send no cookie, so the URL is the credential.

The token signs (tenant id, user id, a fingerprint of the user's password hash): it stops
working when the member leaves the workspace's staff or changes their password, and a
token of one tenant is refused under another's URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core import signing
from django.utils import timezone
from icalendar import Alarm, Calendar, Event

from autocrm.accounts.models import STAFF_ROLES, Membership, User
from autocrm.core.models import Tenant
from autocrm.crm.models import Activity, ActivityKind
from autocrm.crm.selectors_activities import activities_for_feed

SALT = "autocrm.crm.ical-feed"
PAST_DAYS = 90


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.pk}:{user.password}".encode()).hexdigest()[:16]


def feed_token(*, tenant: Tenant, user: User) -> str:
    return signing.dumps([tenant.pk, user.pk, _fingerprint(user)], salt=SALT, compress=True)


def feed_user(*, tenant: Tenant, token: str) -> User | None:
    """The staff member a token is for, or None (bad signature, other tenant, left the
    staff, changed password)."""
    try:
        tenant_id, user_id, fingerprint = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if tenant_id != tenant.pk:
        return None
    membership = (
        Membership.objects.filter(tenant=tenant, user_id=user_id, role__in=STAFF_ROLES)
        .select_related("user")
        .first()
    )
    if membership is None or _fingerprint(membership.user) != fingerprint:
        return None
    return membership.user


def _describe(activity: Activity, base_url: str) -> str:
    lines = [activity.body] if activity.body else []
    for label, obj in (
        ("Contact", activity.contact),
        ("Company", activity.company),
        ("Deal", activity.deal),
    ):
        if obj is not None:
            lines.append(f"{label}: {getattr(obj, 'display_name', None) or str(obj)}")
    lines.append(base_url)
    return "\n".join(lines)


def feed_calendar(*, tenant: Tenant, user: User, base_url: str) -> bytes:
    """The feed's body: each dated activity (from 90 days ago on) as a VEVENT with its
    reminder as a VALARM; done ones carry "✓" in the summary (VEVENT has no "done")."""
    cal = Calendar()
    cal.add("prodid", "-//AutoCRM//Activities//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{tenant.name}: activities of {user.display_name}")
    now = timezone.now()
    host = settings.ALLOWED_HOSTS[0] if settings.ALLOWED_HOSTS else "autocrm"
    for activity in activities_for_feed(
        tenant=tenant, user_id=user.pk, since=now - dt.timedelta(days=PAST_DAYS)
    ):
        assert activity.due_at is not None
        event = Event()
        event.add("uid", f"activity-{activity.pk}@{tenant.slug}.{host}")
        event.add("dtstamp", activity.updated_at)
        event.add("dtstart", activity.due_at)
        minutes = activity.duration_minutes or (
            30 if activity.kind in (ActivityKind.MEETING, ActivityKind.CALL) else 15
        )
        event.add("dtend", activity.due_at + dt.timedelta(minutes=minutes))
        done = "✓ " if activity.done_at else ""
        event.add("summary", f"{done}{activity.get_kind_display()}: {activity.subject}")
        url = f"{base_url}?activity={activity.pk}"
        event.add("description", _describe(activity, url))
        event.add("url", url)
        if activity.remind_at and not activity.done_at:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", activity.subject)
            alarm.add("trigger", activity.remind_at - activity.due_at)
            event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
