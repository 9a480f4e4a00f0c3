"""Every read of activities and activity templates: tenant-scoped, staff only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from autocrm.core.actors import Actor
from autocrm.core.models import Tenant
from autocrm.crm import access
from autocrm.crm.models import Activity, ActivityTemplate

# "due_at" lists only activities that have a due time (a keyset needs a value to page on).
ACTIVITY_ORDERINGS: dict[str, tuple[str, ...]] = {
    "-created_at": ("-created_at", "-id"),
    "due_at": ("due_at", "id"),
}


@dataclass
class ActivityFilters:
    q: str = ""
    kind: str = ""
    owner: str = ""  # a user id, "me" or "none"
    done: bool | None = None
    contact_id: int | None = None
    company_id: int | None = None
    deal_id: int | None = None
    ticket_id: int | None = None
    due_after: dt.datetime | None = None
    due_before: dt.datetime | None = None


def activity_list(
    *, tenant: Tenant, actor: Actor, filters: ActivityFilters | None = None
) -> QuerySet[Activity]:
    access.require_read(actor)
    f = filters or ActivityFilters()
    rows = Activity.objects.filter(tenant=tenant).select_related(
        "owner", "contact", "company", "deal", "ticket"
    )
    if f.q.strip():
        q = f.q.strip()
        rows = rows.filter(Q(subject__icontains=q) | Q(body__icontains=q))
    if f.kind:
        rows = rows.filter(kind=f.kind)
    if f.owner == "me":
        rows = rows.filter(owner_id=actor.user.pk) if actor.user else rows.none()
    elif f.owner == "none":
        rows = rows.filter(owner=None)
    elif f.owner.isdigit():
        rows = rows.filter(owner_id=int(f.owner))
    if f.done is not None:
        rows = rows.filter(done_at__isnull=not f.done)
    for name in ("contact_id", "company_id", "deal_id", "ticket_id"):
        value = getattr(f, name)
        if value is not None:
            rows = rows.filter(**{name: value})
    if f.due_after is not None:
        rows = rows.filter(due_at__gte=f.due_after)
    if f.due_before is not None:
        rows = rows.filter(due_at__lt=f.due_before)
    return rows


def activity_get(*, tenant: Tenant, actor: Actor, activity_id: int) -> Activity | None:
    return activity_list(tenant=tenant, actor=actor).filter(pk=activity_id).first()


def activity_calendar(
    *,
    tenant: Tenant,
    actor: Actor,
    start: dt.datetime,
    end: dt.datetime,
    owner: str = "me",
    limit: int = 2000,
) -> list[Activity]:
    """Activities due (or starting) in [start, end), earliest first."""
    filters = ActivityFilters(owner=owner, due_after=start, due_before=end)
    rows = activity_list(tenant=tenant, actor=actor, filters=filters)
    return list(rows.order_by("due_at", "id")[:limit])


def activities_for_feed(*, tenant: Tenant, user_id: int, since: dt.datetime) -> list[Activity]:
    """A member's dated activities from ``since`` on, for their iCal feed. The feed's
    signed URL is the credential (calendar apps send no session), so this read names the
    user it is for instead of taking an actor."""
    rows = (
        Activity.objects.filter(tenant=tenant, owner_id=user_id, due_at__gte=since)
        .filter(~Q(kind="note"))
        .select_related("contact", "company", "deal")
        .order_by("due_at", "id")
    )
    return list(rows[:5000])


def activity_template_list(*, tenant: Tenant, actor: Actor) -> QuerySet[ActivityTemplate]:
    access.require_read(actor)
    return ActivityTemplate.objects.filter(tenant=tenant).order_by("name", "id")


def activity_template_get(
    *, tenant: Tenant, actor: Actor, template_id: int
) -> ActivityTemplate | None:
    return activity_template_list(tenant=tenant, actor=actor).filter(pk=template_id).first()
