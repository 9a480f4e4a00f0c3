"""Writes of segments: saved filters and static lists of contacts (crm.models.Segment)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.crm import access, events
from autocrm.crm.models import Contact, Segment, SegmentMember
from autocrm.crm.segment_filters import clean_segment_filters

MAX_MEMBERS_PER_CALL = 10_000


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "A segment needs a name."})
    if len(name) > 120:
        raise ValidationError({"name": "At most 120 characters."})
    return name


def _save(segment: Segment) -> None:
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as exc:
        raise ValidationError({"name": "A segment with this name exists already."}) from exc


@transaction.atomic
def segment_create(
    *,
    tenant: Tenant,
    actor: Actor,
    name: str,
    kind: str,
    filters: dict[str, Any] | None = None,
    contact_ids: Iterable[int] = (),
) -> Segment:
    """A saved filter (``kind="filter"`` with ``filters``) or a static list (``"static"``,
    optionally with its first members)."""
    access.require_edit(actor)
    if kind not in Segment.Kind.values:
        raise ValidationError({"kind": "Choose 'filter' or 'static'."})
    if kind == Segment.Kind.STATIC and filters:
        raise ValidationError({"filters": "A static list has members, not filters."})
    segment = Segment(
        tenant=tenant,
        name=_clean_name(name),
        kind=kind,
        filters=clean_segment_filters(filters or {}) if kind == Segment.Kind.FILTER else {},
        created_by=actor.user,
    )
    _save(segment)
    event_append(
        tenant=tenant,
        type=events.SEGMENT_CREATED,
        subject=segment,
        actor=actor,
        payload={"name": segment.name, "kind": segment.kind, "filters": segment.filters},
    )
    if contact_ids:
        segment_members_add(tenant=tenant, actor=actor, segment=segment, contact_ids=contact_ids)
    return segment


@transaction.atomic
def segment_update(
    *, tenant: Tenant, actor: Actor, segment: Segment, changes: dict[str, Any]
) -> Segment:
    """Rename a segment, or change a saved filter's filters."""
    access.require_edit(actor)
    before = {"name": segment.name, "filters": segment.filters}
    if "name" in changes:
        segment.name = _clean_name(changes["name"] or "")
    if changes.get("filters") is not None:
        if segment.kind != Segment.Kind.FILTER:
            raise ValidationError({"filters": "A static list has members, not filters."})
        segment.filters = clean_segment_filters(changes["filters"])
    _save(segment)
    after = {"name": segment.name, "filters": segment.filters}
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed:
        event_append(
            tenant=tenant,
            type=events.SEGMENT_UPDATED,
            subject=segment,
            actor=actor,
            payload={"changes": changed},
        )
    return segment


@transaction.atomic
def segment_delete(*, tenant: Tenant, actor: Actor, segment: Segment) -> None:
    access.require_edit(actor)
    payload = {"name": segment.name, "kind": segment.kind}
    subject = ("crm.segment", segment.pk)
    segment.delete()
    event_append(
        tenant=tenant, type=events.SEGMENT_DELETED, subject=subject, actor=actor, payload=payload
    )


def _static(segment: Segment) -> None:
    if segment.kind != Segment.Kind.STATIC:
        raise ValidationError(
            {"contact_ids": "Members are added to static lists; a saved filter selects them."}
        )


@transaction.atomic
def segment_members_add(
    *, tenant: Tenant, actor: Actor, segment: Segment, contact_ids: Iterable[int]
) -> int:
    """Put contacts on a static list; ids of no contact of the tenant are an error, ones
    already on it are ignored. Returns how many were added."""
    access.require_edit(actor)
    _static(segment)
    wanted = list(dict.fromkeys(int(i) for i in contact_ids))
    if len(wanted) > MAX_MEMBERS_PER_CALL:
        raise ValidationError({"contact_ids": f"At most {MAX_MEMBERS_PER_CALL} at a time."})
    found = set(Contact.objects.filter(tenant=tenant, pk__in=wanted).values_list("pk", flat=True))
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationError({"contact_ids": f"No contact with id {missing[0]}."})
    members = SegmentMember.objects.filter(tenant=tenant, segment=segment)
    before = members.count()
    SegmentMember.objects.bulk_create(
        [SegmentMember(tenant=tenant, segment=segment, contact_id=i) for i in wanted],
        ignore_conflicts=True,
    )
    added = members.count() - before
    if added:
        event_append(
            tenant=tenant,
            type=events.SEGMENT_MEMBERS_ADDED,
            subject=segment,
            actor=actor,
            payload={"contact_ids": wanted[:1000], "count": added},
        )
    return added


@transaction.atomic
def segment_members_remove(
    *, tenant: Tenant, actor: Actor, segment: Segment, contact_ids: Iterable[int]
) -> int:
    access.require_edit(actor)
    _static(segment)
    ids = list(dict.fromkeys(int(i) for i in contact_ids))
    removed, _ = SegmentMember.objects.filter(
        tenant=tenant, segment=segment, contact_id__in=ids
    ).delete()
    if removed:
        event_append(
            tenant=tenant,
            type=events.SEGMENT_MEMBERS_REMOVED,
            subject=segment,
            actor=actor,
            payload={"contact_ids": ids[:1000], "count": removed},
        )
    return removed
