"""Writes of activities (tasks, calls, meetings, notes) and activity templates.

An activity links to any of a contact, a company, a deal and a ticket (or none: a
personal task on the calendar). It
has an owner (who does it and is reminded), a due time, and a reminder time; changing the
reminder time re-arms it (``reminded_at`` cleared), completing it disarms it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import Activity, ActivityKind, ActivityTemplate, Company, Contact, Deal
from autocrm.crm.services.common import clean_owner, field_error

LINKS = ("contact_id", "company_id", "deal_id", "ticket_id")
TRACKED = (
    "kind",
    "subject",
    "body",
    "due_at",
    "duration_minutes",
    "remind_at",
    "owner_id",
    *LINKS,
)
MAX_DURATION = 7 * 24 * 60


def _snapshot(activity: Activity) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in TRACKED:
        value = getattr(activity, name)
        out[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


def _clean_text(value: Any, field: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()[:limit]
    if required and not text:
        raise field_error(field, "This is required.")
    if "\x00" in text:
        raise field_error(field, "Text cannot hold NUL characters.")
    return text


def _clean_kind(value: Any) -> str:
    if value not in ActivityKind.values:
        raise field_error("kind", "Use task, call, meeting or note.")
    return str(value)


def _clean_duration(value: Any) -> int:
    minutes = int(value or 0)
    if not 0 <= minutes <= MAX_DURATION:
        raise field_error("duration_minutes", "The duration is 0 to 10080 minutes (a week).")
    return minutes


def _link_rows(tenant: Tenant, values: dict[str, Any]) -> dict[str, Any]:
    """The linked records, each checked to exist in this tenant (an id from another tenant
    is as unknown as a made-up one)."""
    from autocrm.tickets.models import Ticket

    models: dict[str, Any] = {
        "contact_id": Contact,
        "company_id": Company,
        "deal_id": Deal,
        "ticket_id": Ticket,
    }
    out: dict[str, Any] = {}
    for field in LINKS:
        if field not in values:
            continue
        pk = values[field]
        if pk is None:
            out[field[:-3]] = None
            continue
        row = models[field].objects.filter(tenant=tenant, pk=pk).first()
        if row is None:
            raise field_error(field, f"No {field[:-3]} with id {pk}.")
        out[field[:-3]] = row
    return out


def _check_times(activity: Activity) -> None:
    if activity.remind_at is not None and activity.due_at is None:
        raise field_error("remind_at", "A reminder needs a due time.")
    if activity.kind == ActivityKind.NOTE and activity.due_at is not None:
        raise field_error("due_at", "A note has no due time.")


@transaction.atomic
def activity_create(
    *,
    tenant: Tenant,
    actor: Actor,
    kind: str,
    subject: str,
    body: str = "",
    due_at: dt.datetime | None = None,
    duration_minutes: int = 0,
    remind_at: dt.datetime | None = None,
    owner_id: int | None = None,
    contact_id: int | None = None,
    company_id: int | None = None,
    deal_id: int | None = None,
    ticket_id: int | None = None,
    template_id: int | None = None,
    done: bool = False,
) -> Activity:
    """A new activity. With ``template_id`` the template fills what is not given (kind,
    subject, body, due in N days, duration, reminder N minutes before). The owner defaults
    to the member creating it. ``done``: logged after the fact (a call that took place)."""
    access.require_edit(actor)
    if template_id is not None:
        template = ActivityTemplate.objects.filter(tenant=tenant, pk=template_id).first()
        if template is None:
            raise field_error("template_id", f"No activity template with id {template_id}.")
        kind = kind or template.kind
        subject = subject or template.subject
        body = body or template.body
        duration_minutes = duration_minutes or template.duration_minutes
        if due_at is None and template.due_in_days is not None:
            due_at = timezone.now() + dt.timedelta(days=template.due_in_days)
        if remind_at is None and due_at is not None and template.remind_minutes_before is not None:
            remind_at = due_at - dt.timedelta(minutes=template.remind_minutes_before)
    if owner_id is None and actor.user is not None:
        owner_id = actor.user.pk
    activity = Activity(
        tenant=tenant,
        kind=_clean_kind(kind),
        subject=_clean_text(subject, "subject", 200, required=True),
        body=_clean_text(body, "body", 10_000),
        due_at=due_at,
        duration_minutes=_clean_duration(duration_minutes),
        remind_at=remind_at,
        owner=clean_owner(tenant, owner_id),
        created_by=actor.user,
        done_at=timezone.now() if done else None,
        **_link_rows(
            tenant,
            {
                "contact_id": contact_id,
                "company_id": company_id,
                "deal_id": deal_id,
                "ticket_id": ticket_id,
            },
        ),
    )
    if activity.deal is not None and activity.contact is None:
        activity.contact = activity.deal.contact
    _check_times(activity)
    activity.save()
    payload = _snapshot(activity)
    if template_id is not None:
        payload["template_id"] = template_id
    if done:
        payload["done"] = True
    event_append(
        tenant=tenant, type=events.ACTIVITY_CREATED, subject=activity, actor=actor, payload=payload
    )
    return activity


@transaction.atomic
def activity_update(
    *, tenant: Tenant, actor: Actor, activity: Activity, changes: dict[str, Any]
) -> Activity:
    """Change what ``changes`` names; ``done`` true/false completes or reopens it. A new
    ``remind_at`` (or ``due_at``) re-arms the reminder."""
    access.require_edit(actor)
    activity = Activity.objects.select_for_update().get(tenant=tenant, pk=activity.pk)
    before = _snapshot(activity)
    was_done = activity.done_at is not None
    if "kind" in changes:
        activity.kind = _clean_kind(changes["kind"])
    if "subject" in changes:
        activity.subject = _clean_text(changes["subject"], "subject", 200, required=True)
    if "body" in changes:
        activity.body = _clean_text(changes["body"], "body", 10_000)
    if "due_at" in changes:
        activity.due_at = changes["due_at"]
    if "duration_minutes" in changes:
        activity.duration_minutes = _clean_duration(changes["duration_minutes"])
    if "remind_at" in changes:
        activity.remind_at = changes["remind_at"]
    if "owner_id" in changes:
        activity.owner = clean_owner(tenant, changes["owner_id"])
    for field, row in _link_rows(tenant, changes).items():
        setattr(activity, field, row)
    if "done" in changes:
        activity.done_at = (activity.done_at or timezone.now()) if changes["done"] else None
    _check_times(activity)
    if (activity.remind_at, activity.due_at) != (
        _parse(before["remind_at"]),
        _parse(before["due_at"]),
    ):
        activity.reminded_at = None
    activity.save()
    after = _snapshot(activity)
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    is_done = activity.done_at is not None
    if is_done != was_done:
        event_append(
            tenant=tenant,
            type=events.ACTIVITY_COMPLETED if is_done else events.ACTIVITY_REOPENED,
            subject=activity,
            actor=actor,
            payload={"subject": activity.subject, "kind": activity.kind},
        )
    if diff:
        event_append(
            tenant=tenant,
            type=events.ACTIVITY_UPDATED,
            subject=activity,
            actor=actor,
            payload={"changes": diff},
        )
    return activity


def _parse(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


@transaction.atomic
def activity_delete(*, tenant: Tenant, actor: Actor, activity: Activity) -> None:
    access.require_edit(actor)
    event_append(
        tenant=tenant,
        type=events.ACTIVITY_DELETED,
        subject=activity,
        actor=actor,
        payload=_snapshot(activity),
    )
    activity.delete()


# --- templates ------------------------------------------------------------------------------

TEMPLATE_FIELDS = (
    "name",
    "kind",
    "subject",
    "body",
    "due_in_days",
    "duration_minutes",
    "remind_minutes_before",
)


def _template_values(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in values:
        out["name"] = _clean_text(values["name"], "name", 100, required=True)
    if "kind" in values:
        out["kind"] = _clean_kind(values["kind"])
    if "subject" in values:
        out["subject"] = _clean_text(values["subject"], "subject", 200, required=True)
    if "body" in values:
        out["body"] = _clean_text(values["body"], "body", 10_000)
    if "duration_minutes" in values:
        out["duration_minutes"] = _clean_duration(values["duration_minutes"])
    for field, top in (("due_in_days", 3650), ("remind_minutes_before", 7 * 24 * 60)):
        if field in values:
            v = values[field]
            if v is not None and not 0 <= int(v) <= top:
                raise field_error(field, f"0 to {top}.")
            out[field] = None if v is None else int(v)
    return out


def _template_name_free(tenant: Tenant, name: str, pk: int | None = None) -> None:
    taken = ActivityTemplate.objects.filter(tenant=tenant, name__iexact=name)
    if pk is not None:
        taken = taken.exclude(pk=pk)
    if taken.exists():
        raise field_error("name", f"A template named {name!r} exists.")


@transaction.atomic
def activity_template_create(*, tenant: Tenant, actor: Actor, **values: Any) -> ActivityTemplate:
    access.require_admin(actor)
    cleaned = _template_values({"body": "", "duration_minutes": 0, **values})
    for required in ("name", "kind", "subject"):
        if required not in cleaned:
            raise field_error(required, "This is required.")
    _template_name_free(tenant, cleaned["name"])
    template = ActivityTemplate.objects.create(tenant=tenant, **cleaned)
    event_append(
        tenant=tenant,
        type=events.ACTIVITY_TEMPLATE_CREATED,
        subject=template,
        actor=actor,
        payload={f: getattr(template, f) for f in TEMPLATE_FIELDS},
    )
    return template


@transaction.atomic
def activity_template_update(
    *, tenant: Tenant, actor: Actor, template: ActivityTemplate, changes: dict[str, Any]
) -> ActivityTemplate:
    access.require_admin(actor)
    template = ActivityTemplate.objects.select_for_update().get(tenant=tenant, pk=template.pk)
    before = {f: getattr(template, f) for f in TEMPLATE_FIELDS}
    cleaned = _template_values(changes)
    if "name" in cleaned:
        _template_name_free(tenant, cleaned["name"], template.pk)
    for field, value in cleaned.items():
        setattr(template, field, value)
    template.save()
    after = {f: getattr(template, f) for f in TEMPLATE_FIELDS}
    diff = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if diff:
        event_append(
            tenant=tenant,
            type=events.ACTIVITY_TEMPLATE_UPDATED,
            subject=template,
            actor=actor,
            payload={"changes": diff},
        )
    return template


@transaction.atomic
def activity_template_delete(*, tenant: Tenant, actor: Actor, template: ActivityTemplate) -> None:
    access.require_admin(actor)
    event_append(
        tenant=tenant,
        type=events.ACTIVITY_TEMPLATE_DELETED,
        subject=template,
        actor=actor,
        payload={"name": template.name},
    )
    template.delete()
