"""What every ticket write shares: the locked row, the closed-ticket guard, the number, and
applying and saving field changes (``ticket.updated`` carries each change as from → to)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField, Func, Value
from django.utils import timezone

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant
from autocrm.tickets import access, events
from autocrm.tickets.customfields import custom_fields_validate
from autocrm.tickets.errors import TicketClosedError
from autocrm.tickets.models import Status, Ticket, TicketType
from autocrm.tickets.search import search_vector_rebuild
from autocrm.tickets.services.cleaning import (
    EDITABLE_FIELDS,
    clean_assignee,
    clean_choice,
    clean_organization,
    clean_priority,
    clean_tags,
    clean_team,
    custom_field_definitions,
    json_value,
    priority_name,
)


def ticket_number_next(tenant: Tenant) -> Func:
    """The ticket number, drawn inside the INSERT from the tenant's sequence. A sequence
    never blocks, so concurrent creates in one tenant do not queue behind each other's
    commit; a rolled-back create leaves a gap (numbers are unique and increasing)."""
    return Func(
        Value(tenant.pk), function="autocrm_ticket_number_next", output_field=BigIntegerField()
    )


def ticket_ensure_open(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise TicketClosedError(ticket.number)


def ticket_locked(*, tenant: Tenant, actor: Actor, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.select_for_update()
        .filter(access.ticket_scope(tenant=tenant, actor=actor))
        .filter(tenant=tenant, pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise Ticket.DoesNotExist(f"Ticket {ticket_id} does not exist.")
    return ticket


def changes_apply(
    *, tenant: Tenant, ticket: Ticket, changes: dict[str, Any], now: dt.datetime
) -> dict[str, dict[str, Any]]:
    """Validate and set the changed fields on ``ticket``; return {field: {from, to}}."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: "This field cannot be changed." for field in unknown})
    diff: dict[str, dict[str, Any]] = {}

    def record(field: str, old: Any, new: Any) -> None:
        if old != new:
            diff[field] = {"from": json_value(old), "to": json_value(new)}
            setattr(ticket, field, new)

    for field, value in changes.items():
        if field == "subject":
            subject = str(value or "").strip()
            if not subject or len(subject) > 500:
                raise ValidationError({"subject": "A subject of 1-500 characters is required."})
            record("subject", ticket.subject, subject)
        elif field == "status":
            status = clean_choice("status", value, Status.values)
            if status != ticket.status:
                if status == Status.SOLVED:
                    ticket.solved_at = now
                elif ticket.status == Status.SOLVED:
                    ticket.solved_at = None
            record("status", ticket.status, status)
        elif field == "priority":
            new_rank = clean_priority(value)
            if new_rank != ticket.priority:
                diff["priority"] = {"from": ticket.priority_name, "to": priority_name(new_rank)}
                ticket.priority = new_rank
        elif field == "type":
            record("type", ticket.type, clean_choice("type", value, TicketType.values, blank=True))
        elif field == "assignee_id":
            record("assignee_id", ticket.assignee_id, clean_assignee(tenant, value))
        elif field == "team_id":
            record("team_id", ticket.team_id, clean_team(tenant, value))
        elif field == "organization_id":
            record("organization_id", ticket.organization_id, clean_organization(tenant, value))
        elif field == "tags":
            record("tags", list(ticket.tags), clean_tags(value or []))
        elif field == "custom_fields":
            if not isinstance(value, dict):
                raise ValidationError({"custom_fields": "Must be an object."})
            merged = custom_fields_validate(
                definitions=custom_field_definitions(tenant),
                current=ticket.custom_fields,
                changes=value,
                creating=False,
            )
            record("custom_fields", dict(ticket.custom_fields), merged)
        elif field == "metadata":
            if not isinstance(value, dict):
                raise ValidationError({"metadata": "Must be an object."})
            record("metadata", dict(ticket.metadata), value)
        elif field == "due_at":
            if value is not None and not isinstance(value, dt.datetime):
                raise ValidationError({"due_at": "Must be a date-time."})
            record("due_at", ticket.due_at, value)
    return diff


def changes_save(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket: Ticket,
    diff: dict[str, dict[str, Any]],
    now: dt.datetime,
    event_type: str = events.TICKET_UPDATED,
    extra: dict[str, Any] | None = None,
) -> None:
    if not diff:
        return
    ticket.updated_at = now
    ticket.version += 1
    ticket.save()
    if "subject" in diff:
        search_vector_rebuild(tenant, ticket)
    if "tags" in diff:
        added = [tag for tag in diff["tags"]["to"] if tag not in diff["tags"]["from"]]
        tags_register(tenant=tenant, actor=actor, ticket=ticket, names=added)
    event_append(
        tenant=tenant,
        type=event_type,
        subject=ticket,
        actor=actor,
        payload={"number": ticket.number, "changes": diff, **(extra or {})},
    )


# Tags are known by being used: a tag a ticket carries for the first time becomes a tag
# definition (listed by GET /tags, given a colour there), as in helpdesks where tags are
# free-form. Concurrent first uses meet at the unique (tenant, name) constraint.
TAGS_REGISTER_SQL = """
WITH new_tag AS (
    INSERT INTO tickets_tag (tenant_id, name, color, created_at)
    SELECT %(tenant)s::bigint, tag.name, '', %(now)s::timestamptz
    FROM unnest(%(tags)s::varchar(50)[]) AS tag(name)
    ON CONFLICT DO NOTHING
    RETURNING id, name
)
SELECT json_agg(json_build_array(new_tag.id, new_tag.name)) FROM new_tag
"""


def tags_register(*, tenant: Tenant, actor: Actor, ticket: Ticket, names: list[str]) -> None:
    """Define the tags among ``names`` (clean) that the tenant has not seen before."""
    if not names:
        return
    row = sql.fetch_one(
        TAGS_REGISTER_SQL, {"tenant": tenant.pk, "tags": names, "now": timezone.now()}
    )
    tags_registered(tenant=tenant, actor=actor, ticket=ticket, created=(row and row[0]) or [])


def tags_registered(
    *, tenant: Tenant, actor: Actor, ticket: Ticket, created: list[list[Any]]
) -> None:
    """The ``tag.created`` events of tags first used on ``ticket`` (``[[id, name], ...]``)."""
    for tag_id, name in created:
        event_append(
            tenant=tenant,
            type=events.TAG_CREATED,
            subject=("tickets.tag", tag_id),
            actor=actor,
            payload={"name": name, "color": "", "first_used_on": ticket.number},
        )
