"""Creating, changing and deleting tickets (one, or many at once)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Tenant, as_stored
from autocrm.crm.models import Contact
from autocrm.crm.services import contact_get_or_create, contact_link_user
from autocrm.tickets import access, events
from autocrm.tickets.content import normalize_body
from autocrm.tickets.customfields import custom_fields_validate
from autocrm.tickets.errors import VersionConflictError
from autocrm.tickets.models import Attachment, Channel, Status, Ticket, TicketType
from autocrm.tickets.search import SEARCH_TEXT_LIMIT, search_config
from autocrm.tickets.services.changes import (
    changes_apply,
    changes_save,
    tags_registered,
    ticket_ensure_open,
    ticket_locked,
)
from autocrm.tickets.services.cleaning import (
    clean_assignee,
    clean_choice,
    clean_priority,
    clean_tags,
    clean_team,
    custom_field_definitions,
)


def _requester_for(*, tenant: Tenant, actor: Actor, email: str | None, name: str) -> Contact:
    if actor.is_customer:
        assert actor.user is not None
        contact = Contact.objects.filter(tenant=tenant, user=actor.user).first()
        if contact is None:
            contact, _ = contact_get_or_create(
                tenant=tenant, actor=actor, email=actor.user.email, name=name
            )
            contact_link_user(tenant=tenant, actor=actor, contact=contact, user=actor.user)
        return contact
    if not email:
        raise ValidationError({"requester_email": "A requester email is required."})
    try:
        contact, _ = contact_get_or_create(tenant=tenant, actor=actor, email=email, name=name)
    except ValidationError as exc:
        raise ValidationError({"requester_email": "Enter a valid email address."}) from exc
    return contact


# --- tickets ------------------------------------------------------------------------------


def ticket_create(
    *,
    tenant: Tenant,
    actor: Actor,
    subject: str,
    body: str,
    requester_email: str | None = None,
    requester_name: str = "",
    priority: str = "normal",
    status: str = Status.NEW,
    type: str = "",
    channel: str = Channel.API,
    tags: Iterable[str] = (),
    custom_fields: dict[str, Any] | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    metadata: dict[str, Any] | None = None,
    due_at: dt.datetime | None = None,
    body_format: str = "auto",
    channel_message_id: str = "",
    email_message_id: str = "",
    email_in_reply_to: str = "",
    email_references: str = "",
) -> Ticket:
    """A new ticket whose first message is the requester's request (the email channel
    gives that message its email headers; ``ticket.first_message_id`` names it)."""
    access.require_write(actor)
    if actor.role == "light_agent":
        raise PermissionDenied("Light agents cannot create tickets.")
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": "A subject is required."})
    if len(subject) > 500:
        raise ValidationError({"subject": "At most 500 characters."})
    if not body.strip():
        raise ValidationError({"body": "A body is required."})
    if actor.is_customer and (assignee_id or team_id or status != Status.NEW):
        raise PermissionDenied("Customers cannot set assignee, team or status.")
    if actor.is_customer and (tags or metadata or priority != "normal" or due_at):
        raise PermissionDenied("Customers cannot set tags, metadata, priority or a due date.")
    definitions = custom_field_definitions(tenant)
    if actor.is_customer:
        # Customers fill in (and must fill in) only the fields the tenant shows them.
        visible = set(tenant.setting("customer_visible_fields"))
        definitions = {key: field for key, field in definitions.items() if key in visible}
    status = clean_choice("status", status, Status.values)
    if status == Status.CLOSED:
        raise ValidationError({"status": "A new ticket cannot be closed."})
    rank = clean_priority(priority)
    ticket_type = clean_choice("type", type, TicketType.values, blank=True)
    channel = clean_choice("channel", channel, Channel.values)
    tag_names = clean_tags(tags)
    values = custom_fields_validate(
        definitions=definitions, current={}, changes=custom_fields or {}, creating=True
    )
    assignee = clean_assignee(tenant, assignee_id)
    team = clean_team(tenant, team_id)
    try:
        body_html, body_text = normalize_body(body, body_format)
    except ValueError as exc:
        raise ValidationError({"body_format": str(exc)}) from exc
    if not actor.is_customer:
        _check_requester_email(requester_email)
    # Everything is checked: the block below only reads and writes rows, so it needs no
    # savepoint of its own (two round trips) — a database error there fails the request.
    with transaction.atomic(savepoint=False):
        return _ticket_insert(
            tenant=tenant,
            actor=actor,
            requester_email=requester_email,
            requester_name=requester_name,
            subject=subject,
            status=status,
            rank=rank,
            ticket_type=ticket_type,
            channel=channel,
            tag_names=tag_names,
            values=values,
            assignee=assignee,
            team=team,
            metadata=metadata,
            due_at=due_at,
            body_html=body_html,
            body_text=body_text,
            channel_message_id=channel_message_id,
            email_headers=(
                email_message_id[:998],
                email_in_reply_to[:998],
                email_references,
            ),
        )


def _check_requester_email(email: str | None) -> None:
    if not email:
        raise ValidationError({"requester_email": "A requester email is required."})
    try:
        validate_email(email.strip())
    except ValidationError as exc:
        raise ValidationError({"requester_email": "Enter a valid email address."}) from exc


# The ticket and its first message in one statement, for a requester looked up in the same
# statement (by contact id, or by email: then the ticket's columns are null when the
# contact is new). A message with the same channel message id (an inbound message seen
# before) inserts nothing and names its ticket in the last two columns instead.
# One round trip, no ORM compile, prepared once per connection (autocrm.core.sql, hence a
# cast on every parameter); creating tickets is the API's hottest write
# (docs/tickets-performance.md). The search vector is built as in search_vector_sql; tags
# used for the first time become tag definitions as in changes.tags_register.
_TICKET_INSERT_SQL = """
WITH requester AS (
    SELECT id, company_id, email, name FROM crm_contact
    WHERE tenant_id = %(tenant)s::bigint AND {requester_match}
), duplicate AS (
    SELECT id, ticket_id FROM tickets_message
    WHERE tenant_id = %(tenant)s::bigint AND %(channel_message_id)s::text <> ''
      AND channel_message_id = %(channel_message_id)s::text
), ticket AS (
    INSERT INTO tickets_ticket (
        tenant_id, number, subject, status, priority, type, channel,
        requester_id, organization_id, assignee_id, team_id,
        tags, custom_fields, metadata, version,
        created_at, updated_at, solved_at, due_at, search_vector
    )
    SELECT
        %(tenant)s::bigint, autocrm_ticket_number_next(%(tenant)s::bigint),
        %(subject)s::text, %(status)s::text,
        %(priority)s::smallint, %(type)s::text, %(channel)s::text,
        requester.id, requester.company_id, %(assignee)s::bigint, %(team)s::bigint,
        %(tags)s::varchar(50)[], %(custom_fields)s::jsonb, %(metadata)s::jsonb, 1,
        %(now)s::timestamptz, %(now)s::timestamptz, %(solved_at)s::timestamptz,
        %(due_at)s::timestamptz,
        setweight(to_tsvector(%(config)s::regconfig, %(subject)s::text), 'A')
        || setweight(to_tsvector(%(config)s::regconfig, %(search_text)s::text), 'B')
    FROM requester
    WHERE NOT EXISTS (SELECT FROM duplicate)
    RETURNING id, number
), message AS (
    INSERT INTO tickets_message (
        tenant_id, ticket_id, author_contact_id, public,
        body_html, body_text, channel, channel_message_id, created_at,
        email_message_id, email_in_reply_to, email_references
    )
    SELECT %(tenant)s::bigint, ticket.id, requester.id, true,
        %(body_html)s::text, %(body_text)s::text, %(channel)s::text,
        %(channel_message_id)s::text, %(now)s::timestamptz,
        %(email_message_id)s::text, %(email_in_reply_to)s::text, %(email_references)s::text
    FROM ticket, requester
    RETURNING id
), new_tag AS (
    INSERT INTO tickets_tag (tenant_id, name, color, created_at)
    SELECT %(tenant)s::bigint, tag.name, '', %(now)s::timestamptz
    FROM ticket, unnest(%(tags)s::varchar(50)[]) AS tag(name)
    ON CONFLICT DO NOTHING
    RETURNING id, name
)
SELECT ticket.id, ticket.number, message.id,
    requester.id, requester.company_id, requester.email, requester.name,
    (SELECT json_agg(json_build_array(new_tag.id, new_tag.name)) FROM new_tag),
    duplicate.ticket_id, duplicate.id
FROM (SELECT) AS one
LEFT JOIN ticket ON true LEFT JOIN message ON true
LEFT JOIN requester ON true LEFT JOIN duplicate ON true
"""
_TICKET_INSERT_FOR_CONTACT = _TICKET_INSERT_SQL.replace(
    "{requester_match}", "id = %(requester)s::bigint"
)
_TICKET_INSERT_FOR_EMAIL = _TICKET_INSERT_SQL.replace(
    "{requester_match}", "email = %(requester)s::text"
)


def _ticket_insert(
    *,
    tenant: Tenant,
    actor: Actor,
    requester_email: str | None,
    requester_name: str,
    subject: str,
    status: str,
    rank: int,
    ticket_type: str,
    channel: str,
    tag_names: list[str],
    values: dict[str, Any],
    assignee: int | None,
    team: int | None,
    metadata: dict[str, Any] | None,
    due_at: dt.datetime | None,
    body_html: str,
    body_text: str,
    channel_message_id: str,
    email_headers: tuple[str, str, str],
) -> Ticket:
    now = timezone.now()
    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "subject": subject,
        "status": status,
        "priority": rank,
        "type": ticket_type,
        "channel": channel,
        "assignee": assignee,
        "team": team,
        "tags": tag_names,
        "custom_fields": Jsonb(values),
        "metadata": Jsonb(metadata or {}),
        "now": now,
        "solved_at": now if status == Status.SOLVED else None,
        "due_at": due_at,
        "config": search_config(tenant),
        "search_text": body_text[:SEARCH_TEXT_LIMIT],
        "body_html": body_html,
        "body_text": body_text,
        "channel_message_id": channel_message_id,
        "email_message_id": email_headers[0],
        "email_in_reply_to": email_headers[1],
        "email_references": email_headers[2],
    }
    row = None
    if not actor.is_customer and requester_email:  # usually a known contact: one statement
        params["requester"] = requester_email.strip().lower()
        row = sql.fetch_one(_TICKET_INSERT_FOR_EMAIL, params)
    if row is None or (row[0] is None and row[8] is None):
        # A customer's own ticket, or a requester seen for the first time.
        requester = _requester_for(
            tenant=tenant, actor=actor, email=requester_email, name=requester_name
        )
        params["requester"] = requester.pk
        row = sql.fetch_one(_TICKET_INSERT_FOR_CONTACT, params)
        assert row is not None
    if row[8] is not None:  # the same inbound message again: no second ticket
        existing = Ticket.objects.get(tenant=tenant, pk=row[8])
        existing.first_message_id = row[9]
        return existing
    assert row[0] is not None, "the requester contact exists in this transaction"
    ticket_id, number, message_id, requester_id, company_id, email, name, new_tags = row[:8]
    requester = as_stored(
        Contact(id=requester_id, tenant=tenant, company_id=company_id, email=email, name=name)
    )
    ticket = as_stored(
        Ticket(
            id=ticket_id,
            tenant=tenant,
            number=number,
            subject=subject,
            status=status,
            priority=rank,
            type=ticket_type,
            channel=channel,
            requester=requester,
            organization_id=company_id,
            assignee_id=assignee,
            team_id=team,
            tags=tag_names,
            custom_fields=values,
            metadata=metadata or {},
            version=1,
            created_at=now,
            updated_at=now,
            solved_at=params["solved_at"],
            due_at=due_at,
        )
    )
    ticket.first_message_id = message_id
    event_append(
        tenant=tenant,
        type=events.TICKET_CREATED,
        subject=ticket,
        actor=actor,
        payload={
            "number": number,
            "subject": subject,
            "status": status,
            "priority": ticket.priority_name,
            "channel": channel,
            "requester": {"id": requester_id, "email": email},
            "tags": tag_names,
            "message_id": message_id,
        },
    )
    tags_registered(tenant=tenant, actor=actor, ticket=ticket, created=new_tags or [])
    return ticket


@transaction.atomic
def ticket_update(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    changes: dict[str, Any],
    if_version: int | None = None,
) -> Ticket:
    """Change fields of one ticket. ``if_version`` (from the ETag) guards lost updates."""
    access.require_change(actor, changes)
    ticket = ticket_locked(tenant=tenant, actor=actor, ticket_id=ticket_id)
    if if_version is not None and if_version != ticket.version:
        raise VersionConflictError(ticket.version)
    ticket_ensure_open(ticket)
    now = timezone.now()
    diff = changes_apply(tenant=tenant, ticket=ticket, changes=changes, now=now)
    changes_save(tenant=tenant, actor=actor, ticket=ticket, diff=diff, now=now)
    return ticket


def ticket_assign(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    assignee_id: int | None,
    team_id: int | None = None,
) -> Ticket:
    changes: dict[str, Any] = {"assignee_id": assignee_id}
    if team_id is not None:
        changes["team_id"] = team_id
    return ticket_update(tenant=tenant, actor=actor, ticket_id=ticket_id, changes=changes)


def ticket_change_status(*, tenant: Tenant, actor: Actor, ticket_id: int, status: str) -> Ticket:
    return ticket_update(
        tenant=tenant, actor=actor, ticket_id=ticket_id, changes={"status": status}
    )


@transaction.atomic
def ticket_tags_change(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
) -> Ticket:
    access.require_edit(actor)
    ticket = ticket_locked(tenant=tenant, actor=actor, ticket_id=ticket_id)
    ticket_ensure_open(ticket)
    removing = set(clean_tags(remove))
    tags = [t for t in ticket.tags if t not in removing] + clean_tags(add)
    now = timezone.now()
    diff = changes_apply(tenant=tenant, ticket=ticket, changes={"tags": tags}, now=now)
    changes_save(tenant=tenant, actor=actor, ticket=ticket, diff=diff, now=now)
    return ticket


@transaction.atomic
def tickets_bulk_update(
    *, tenant: Tenant, actor: Actor, ticket_ids: list[int], changes: dict[str, Any]
) -> list[Ticket]:
    """Apply the same changes to many tickets, all or nothing. ``tags_add``/``tags_remove``
    may be given besides the editable fields."""
    access.require_edit(actor)
    ids = list(dict.fromkeys(ticket_ids))
    if not ids or len(ids) > 1000:
        raise ValidationError({"ticket_ids": "Give 1 to 1000 ticket ids."})
    changes = dict(changes)
    tags_add = clean_tags(changes.pop("tags_add", []) or [])
    tags_remove = set(clean_tags(changes.pop("tags_remove", []) or []))
    if not changes and not tags_add and not tags_remove:
        raise ValidationError({"changes": "Nothing to change."})
    tickets = list(
        Ticket.objects.select_for_update()
        .filter(access.ticket_scope(tenant=tenant, actor=actor))
        .filter(tenant=tenant, pk__in=ids)
        .order_by("pk")
    )
    missing = sorted(set(ids) - {t.pk for t in tickets})
    if missing:
        raise ValidationError({"ticket_ids": f"Not found: {', '.join(map(str, missing))}."})
    closed = [t.number for t in tickets if t.status == Status.CLOSED]
    if closed:
        raise ValidationError(
            {"ticket_ids": "Closed tickets are read-only: " + ", ".join(f"#{n}" for n in closed)}
        )
    now = timezone.now()
    for ticket in tickets:
        per_ticket = dict(changes)
        if tags_add or tags_remove:
            base = per_ticket.get("tags", ticket.tags)
            per_ticket["tags"] = [t for t in base if t not in tags_remove] + tags_add
        diff = changes_apply(tenant=tenant, ticket=ticket, changes=per_ticket, now=now)
        changes_save(
            tenant=tenant, actor=actor, ticket=ticket, diff=diff, now=now, extra={"bulk": True}
        )
    return tickets


# --- messages -----------------------------------------------------------------------------


@transaction.atomic
def ticket_delete(*, tenant: Tenant, actor: Actor, ticket_id: int) -> None:
    """Delete a ticket with its messages and attachment files (admins only). Its events stay
    in the audit log, ending with ``ticket.deleted``."""
    access.require_admin(actor)
    ticket = ticket_locked(tenant=tenant, actor=actor, ticket_id=ticket_id)
    files = [(a.file.storage, a.file.name) for a in Attachment.objects.filter(ticket=ticket)]
    event_append(
        tenant=tenant,
        type=events.TICKET_DELETED,
        subject=ticket,
        actor=actor,
        payload={"number": ticket.number, "subject": ticket.subject},
    )
    Ticket.objects.filter(merged_into=ticket).update(merged_into=None)
    ticket.delete()

    def remove_files() -> None:
        for storage, name in files:
            if name:
                storage.delete(name)

    transaction.on_commit(remove_files)
