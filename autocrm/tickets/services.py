"""Every write to tickets and their messages. Each runs in one transaction, checks the actor's
rights, and appends events (``ticket.updated`` carries every field change as from → to)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import BigIntegerField, F, Func, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from psycopg.types.json import Jsonb

from autocrm.accounts.models import Membership, Role
from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.config_cache import tenant_config_cached
from autocrm.core.events import event_append
from autocrm.core.models import Tenant, as_stored
from autocrm.crm.models import Contact
from autocrm.crm.services import contact_get_or_create, contact_link_user
from autocrm.routing.models import Team
from autocrm.tickets import access
from autocrm.tickets.content import normalize_body
from autocrm.tickets.customfields import custom_fields_validate
from autocrm.tickets.errors import TicketClosedError, VersionConflictError
from autocrm.tickets.models import (
    PRIORITY_BY_NAME,
    Channel,
    CustomField,
    Macro,
    Message,
    Status,
    Ticket,
    TicketType,
)

SEARCH_TEXT_LIMIT = 100_000  # characters of one message that are indexed
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_:\-.]{0,49}$")
EDITABLE_FIELDS = frozenset(
    {
        "subject",
        "status",
        "priority",
        "type",
        "assignee_id",
        "team_id",
        "tags",
        "custom_fields",
        "metadata",
        "due_at",
        "organization_id",
    }
)
ASSIGNABLE_ROLES = (Role.OWNER, Role.ADMIN, Role.AGENT)
SEARCH_LANGUAGES = frozenset(
    {
        "simple",
        "arabic",
        "armenian",
        "basque",
        "catalan",
        "danish",
        "dutch",
        "english",
        "estonian",
        "finnish",
        "french",
        "german",
        "greek",
        "hindi",
        "hungarian",
        "indonesian",
        "irish",
        "italian",
        "lithuanian",
        "nepali",
        "norwegian",
        "portuguese",
        "romanian",
        "russian",
        "serbian",
        "spanish",
        "swedish",
        "tamil",
        "turkish",
        "yiddish",
    }
)


def search_config(tenant: Tenant) -> str:
    """The tenant's text-search language (tenant setting ``search_language``)."""
    language = tenant.settings.get("search_language", "english")
    return language if language in SEARCH_LANGUAGES else "english"


# --- validation helpers --------------------------------------------------------------------


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in tags:
        if not isinstance(raw, str):
            raise ValidationError({"tags": "Tags must be strings."})
        tag = raw.strip().lower().replace(" ", "-")
        if not TAG_PATTERN.match(tag):
            raise ValidationError(
                {
                    "tags": f"'{raw}' is not a valid tag (letters, digits, "
                    "- _ : . ; at most 50 characters)."
                }
            )
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > 50:
        raise ValidationError({"tags": "A ticket has at most 50 tags."})
    return cleaned


def _clean_priority(value: Any) -> int:
    if isinstance(value, str) and value in PRIORITY_BY_NAME:
        return PRIORITY_BY_NAME[value]
    raise ValidationError(
        {"priority": f"Unknown priority '{value}'; use one of {', '.join(PRIORITY_BY_NAME)}."}
    )


def _clean_choice(field: str, value: Any, choices: Iterable[str], *, blank: bool = False) -> str:
    allowed = list(choices)
    if (blank and value == "") or value in allowed:
        return str(value)
    raise ValidationError({field: f"Unknown {field} '{value}'; use one of {', '.join(allowed)}."})


def _clean_assignee(tenant: Tenant, user_id: int | None) -> int | None:
    if user_id is None:
        return None
    if not Membership.objects.filter(
        tenant=tenant, user_id=user_id, role__in=ASSIGNABLE_ROLES
    ).exists():
        raise ValidationError({"assignee_id": "Not an agent of this tenant."})
    return user_id


def _clean_team(tenant: Tenant, team_id: int | None) -> int | None:
    if team_id is None:
        return None
    if not Team.objects.filter(tenant=tenant, pk=team_id).exists():
        raise ValidationError({"team_id": "No such team."})
    return team_id


def _clean_organization(tenant: Tenant, company_id: int | None) -> int | None:
    from autocrm.crm.models import Company

    if company_id is None:
        return None
    if not Company.objects.filter(tenant=tenant, pk=company_id).exists():
        raise ValidationError({"organization_id": "No such company."})
    return company_id


def _custom_field_definitions(tenant: Tenant) -> dict[str, CustomField]:
    """Cached per process until the definitions change (config_services bump the stamp)."""
    return tenant_config_cached(
        tenant,
        "tickets.custom_fields",
        lambda: {f.key: f for f in CustomField.objects.filter(tenant=tenant)},
    )


def _next_number(tenant: Tenant) -> Func:
    """The ticket number, drawn inside the INSERT from the tenant's sequence. A sequence
    never blocks, so concurrent creates in one tenant do not queue behind each other's
    commit; a rolled-back create leaves a gap (numbers are unique and increasing)."""
    return Func(
        Value(tenant.pk), function="autocrm_ticket_number_next", output_field=BigIntegerField()
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _ensure_open(ticket: Ticket) -> None:
    if ticket.status == Status.CLOSED:
        raise TicketClosedError(ticket.number)


def _locked_ticket(*, tenant: Tenant, actor: Actor, ticket_id: int) -> Ticket:
    ticket = (
        Ticket.objects.select_for_update()
        .filter(access.ticket_scope(tenant=tenant, actor=actor))
        .filter(tenant=tenant, pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise Ticket.DoesNotExist(f"Ticket {ticket_id} does not exist.")
    return ticket


def _search_vector_from(config: str, subject: str, texts: Iterable[str]) -> RawSQL:
    """``setweight(to_tsvector(subject), 'A') || setweight(to_tsvector(text), 'B') ...``,
    the stored search vector (as SQL text: Django's SearchVector expressions cost more to
    compile than the whole insert costs PostgreSQL)."""
    parts = ["setweight(to_tsvector(%s::regconfig, %s), 'A')"]
    params: list[str] = [config, subject]
    for text in texts:
        parts.append("setweight(to_tsvector(%s::regconfig, %s), 'B')")
        params += [config, text[:SEARCH_TEXT_LIMIT]]
    # Fixed SQL text; every value is a parameter.
    return RawSQL(" || ".join(parts), params, output_field=SearchVectorField())  # noqa: S611


def _rebuild_search_vector(tenant: Tenant, ticket: Ticket) -> None:
    texts = (
        Message.objects.filter(tenant=tenant, ticket=ticket)
        .order_by("created_at", "id")
        .values_list("body_text", flat=True)
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        search_vector=_search_vector_from(search_config(tenant), ticket.subject, texts)
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
) -> Ticket:
    """A new ticket whose first message is the requester's request."""
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
    status = _clean_choice("status", status, Status.values)
    if status == Status.CLOSED:
        raise ValidationError({"status": "A new ticket cannot be closed."})
    rank = _clean_priority(priority)
    ticket_type = _clean_choice("type", type, TicketType.values, blank=True)
    channel = _clean_choice("channel", channel, Channel.values)
    clean_tags = _clean_tags(tags)
    values = custom_fields_validate(
        definitions=_custom_field_definitions(tenant),
        current={},
        changes=custom_fields or {},
        creating=True,
    )
    assignee = _clean_assignee(tenant, assignee_id)
    team = _clean_team(tenant, team_id)
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
            clean_tags=clean_tags,
            values=values,
            assignee=assignee,
            team=team,
            metadata=metadata,
            due_at=due_at,
            body_html=body_html,
            body_text=body_text,
            channel_message_id=channel_message_id,
        )


def _check_requester_email(email: str | None) -> None:
    if not email:
        raise ValidationError({"requester_email": "A requester email is required."})
    try:
        validate_email(email.strip())
    except ValidationError as exc:
        raise ValidationError({"requester_email": "Enter a valid email address."}) from exc


# The ticket and its first message in one statement, for a requester looked up in the same
# statement (by contact id, or by email: then no row comes back when the contact is new).
# One round trip, no ORM compile, prepared once per connection (autocrm.core.sql, hence a
# cast on every parameter); creating tickets is the API's hottest write
# (docs/tickets-performance.md). The search vector is built as in _search_vector_from.
_TICKET_INSERT_SQL = """
WITH requester AS (
    SELECT id, company_id, email, name FROM crm_contact
    WHERE tenant_id = %(tenant)s::bigint AND {requester_match}
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
    RETURNING id, number
), message AS (
    INSERT INTO tickets_message (
        tenant_id, ticket_id, author_contact_id, public,
        body_html, body_text, channel, channel_message_id, created_at
    )
    SELECT %(tenant)s::bigint, ticket.id, requester.id, true,
        %(body_html)s::text, %(body_text)s::text, %(channel)s::text,
        %(channel_message_id)s::text, %(now)s::timestamptz
    FROM ticket, requester
    RETURNING id
)
SELECT ticket.id, ticket.number, message.id,
    requester.id, requester.company_id, requester.email, requester.name
FROM ticket, message, requester
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
    clean_tags: list[str],
    values: dict[str, Any],
    assignee: int | None,
    team: int | None,
    metadata: dict[str, Any] | None,
    due_at: dt.datetime | None,
    body_html: str,
    body_text: str,
    channel_message_id: str,
) -> Ticket:
    if channel_message_id:
        duplicate = Message.objects.filter(
            tenant=tenant, channel_message_id=channel_message_id
        ).first()
        if duplicate is not None:  # the same inbound message again: no second ticket
            return Ticket.objects.get(pk=duplicate.ticket_id)
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
        "tags": clean_tags,
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
    }
    row = None
    if not actor.is_customer and requester_email:  # usually a known contact: one statement
        params["requester"] = requester_email.strip().lower()
        row = sql.fetch_one(_TICKET_INSERT_FOR_EMAIL, params)
    if row is None:  # a customer's own ticket, or a requester seen for the first time
        requester = _requester_for(
            tenant=tenant, actor=actor, email=requester_email, name=requester_name
        )
        params["requester"] = requester.pk
        row = sql.fetch_one(_TICKET_INSERT_FOR_CONTACT, params)
        assert row is not None, "the requester contact exists in this transaction"
    ticket_id, number, message_id, requester_id, company_id, email, name = row
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
            tags=clean_tags,
            custom_fields=values,
            metadata=metadata or {},
            version=1,
            created_at=now,
            updated_at=now,
            solved_at=params["solved_at"],
            due_at=due_at,
        )
    )
    event_append(
        tenant=tenant,
        type="ticket.created",
        subject=ticket,
        actor=actor.user,
        actor_label=actor.label,
        payload={
            "number": number,
            "subject": subject,
            "status": status,
            "priority": ticket.priority_name,
            "channel": channel,
            "requester": {"id": requester_id, "email": email},
            "tags": clean_tags,
            "message_id": message_id,
        },
    )
    return ticket


def _apply_changes(
    *, tenant: Tenant, ticket: Ticket, changes: dict[str, Any], now: dt.datetime
) -> dict[str, dict[str, Any]]:
    """Validate and set the changed fields on ``ticket``; return {field: {from, to}}."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: "This field cannot be changed." for field in unknown})
    diff: dict[str, dict[str, Any]] = {}

    def record(field: str, old: Any, new: Any) -> None:
        if old != new:
            diff[field] = {"from": _json_value(old), "to": _json_value(new)}
            setattr(ticket, field, new)

    for field, value in changes.items():
        if field == "subject":
            subject = str(value or "").strip()
            if not subject or len(subject) > 500:
                raise ValidationError({"subject": "A subject of 1-500 characters is required."})
            record("subject", ticket.subject, subject)
        elif field == "status":
            status = _clean_choice("status", value, Status.values)
            if status != ticket.status:
                if status == Status.SOLVED:
                    ticket.solved_at = now
                elif ticket.status == Status.SOLVED:
                    ticket.solved_at = None
            record("status", ticket.status, status)
        elif field == "priority":
            new_rank = _clean_priority(value)
            if new_rank != ticket.priority:
                diff["priority"] = {"from": ticket.priority_name, "to": _priority_name(new_rank)}
                ticket.priority = new_rank
        elif field == "type":
            record("type", ticket.type, _clean_choice("type", value, TicketType.values, blank=True))
        elif field == "assignee_id":
            record("assignee_id", ticket.assignee_id, _clean_assignee(tenant, value))
        elif field == "team_id":
            record("team_id", ticket.team_id, _clean_team(tenant, value))
        elif field == "organization_id":
            record("organization_id", ticket.organization_id, _clean_organization(tenant, value))
        elif field == "tags":
            record("tags", list(ticket.tags), _clean_tags(value or []))
        elif field == "custom_fields":
            if not isinstance(value, dict):
                raise ValidationError({"custom_fields": "Must be an object."})
            merged = custom_fields_validate(
                definitions=_custom_field_definitions(tenant),
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


def _priority_name(rank: int) -> str:
    return next(name for name, value in PRIORITY_BY_NAME.items() if value == rank)


def _save_changes(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket: Ticket,
    diff: dict[str, dict[str, Any]],
    now: dt.datetime,
    event_type: str = "ticket.updated",
    extra: dict[str, Any] | None = None,
) -> None:
    if not diff:
        return
    ticket.updated_at = now
    ticket.version += 1
    ticket.save()
    if "subject" in diff:
        _rebuild_search_vector(tenant, ticket)
    event_append(
        tenant=tenant,
        type=event_type,
        subject=ticket,
        actor=actor.user,
        actor_label=actor.label,
        payload={"number": ticket.number, "changes": diff, **(extra or {})},
    )


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
    access.require_edit(actor)
    ticket = _locked_ticket(tenant=tenant, actor=actor, ticket_id=ticket_id)
    if if_version is not None and if_version != ticket.version:
        raise VersionConflictError(ticket.version)
    _ensure_open(ticket)
    now = timezone.now()
    diff = _apply_changes(tenant=tenant, ticket=ticket, changes=changes, now=now)
    _save_changes(tenant=tenant, actor=actor, ticket=ticket, diff=diff, now=now)
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
    ticket = _locked_ticket(tenant=tenant, actor=actor, ticket_id=ticket_id)
    _ensure_open(ticket)
    removing = set(_clean_tags(remove))
    tags = [t for t in ticket.tags if t not in removing] + _clean_tags(add)
    now = timezone.now()
    diff = _apply_changes(tenant=tenant, ticket=ticket, changes={"tags": tags}, now=now)
    _save_changes(tenant=tenant, actor=actor, ticket=ticket, diff=diff, now=now)
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
    tags_add = _clean_tags(changes.pop("tags_add", []) or [])
    tags_remove = set(_clean_tags(changes.pop("tags_remove", []) or []))
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
        diff = _apply_changes(tenant=tenant, ticket=ticket, changes=per_ticket, now=now)
        _save_changes(
            tenant=tenant, actor=actor, ticket=ticket, diff=diff, now=now, extra={"bulk": True}
        )
    return tickets


# --- messages -----------------------------------------------------------------------------


@transaction.atomic
def ticket_message_add(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    body: str,
    public: bool = True,
    body_format: str = "auto",
    channel: str | None = None,
    channel_message_id: str = "",
    as_requester: bool = False,
) -> Message:
    """A public reply or internal note. Replies from the requester re-open solved and pending
    tickets; an agent's first public reply sets ``first_response_at``."""
    access.require_write(actor)
    if not body.strip():
        raise ValidationError({"body": "A body is required."})
    if actor.is_customer:
        public, as_requester = True, True
    elif actor.role == "light_agent" and public:
        raise PermissionDenied("Light agents can add internal notes only.")
    if as_requester and not public:
        raise ValidationError({"public": "A requester's message is always public."})
    if channel_message_id:
        duplicate = Message.objects.filter(
            tenant=tenant, channel_message_id=channel_message_id
        ).first()
        if duplicate is not None:
            return duplicate
    ticket = _locked_ticket(tenant=tenant, actor=actor, ticket_id=ticket_id)
    _ensure_open(ticket)
    try:
        body_html, body_text = normalize_body(body, body_format)
    except ValueError as exc:
        raise ValidationError({"body_format": str(exc)}) from exc
    channel = _clean_choice(
        "channel", channel or (Channel.PORTAL if actor.is_customer else Channel.API), Channel.values
    )
    now = timezone.now()
    message = Message.objects.create(
        tenant=tenant,
        ticket=ticket,
        public=public,
        body_html=body_html,
        body_text=body_text,
        author_user=None if as_requester else actor.user,
        author_contact=ticket.requester if as_requester else None,
        channel=channel,
        channel_message_id=channel_message_id,
        created_at=now,
    )

    diff: dict[str, dict[str, Any]] = {}
    new_status = ticket.status
    if as_requester and ticket.status in {Status.SOLVED, Status.PENDING}:
        new_status = Status.OPEN
    elif not as_requester and public and ticket.status == Status.NEW:
        new_status = Status.OPEN
    if new_status != ticket.status:
        diff["status"] = {"from": ticket.status, "to": new_status}
    updates: dict[str, Any] = {
        "status": new_status,
        "updated_at": now,
        "version": F("version") + 1,
        "search_vector": RawSQL(
            "coalesce(search_vector, ''::tsvector) || "
            "setweight(to_tsvector(%s::regconfig, %s), 'B')",
            (search_config(tenant), body_text[:SEARCH_TEXT_LIMIT]),
        ),
    }
    if new_status != Status.SOLVED and ticket.status == Status.SOLVED:
        updates["solved_at"] = None
    if not as_requester and public and ticket.first_response_at is None:
        updates["first_response_at"] = now
    Ticket.objects.filter(pk=ticket.pk).update(**updates)
    event_append(
        tenant=tenant,
        type="message.created",
        subject=message,
        actor=actor.user,
        actor_label=actor.label,
        payload={
            "ticket_id": ticket.pk,
            "number": ticket.number,
            "public": public,
            "from_requester": as_requester,
            "channel": channel,
        },
    )
    if diff:
        event_append(
            tenant=tenant,
            type="ticket.updated",
            subject=ticket,
            actor=actor.user,
            actor_label=actor.label,
            payload={
                "number": ticket.number,
                "changes": diff,
                "reason": "requester replied" if as_requester else "agent replied",
            },
        )
    return message


# --- merge and split ----------------------------------------------------------------------


def _system_note(
    *, tenant: Tenant, ticket: Ticket, actor: Actor, text: str, now: dt.datetime
) -> Message:
    """An internal note that records what an action did (merge, split) in the conversation."""
    import html

    return Message.objects.create(
        tenant=tenant,
        ticket=ticket,
        public=False,
        author_user=actor.user,
        body_html=f"<p>{html.escape(text)}</p>",
        body_text=text,
        channel=Channel.INTERNAL,
        created_at=now,
    )


@transaction.atomic
def ticket_merge(*, tenant: Tenant, actor: Actor, source_id: int, target_id: int) -> Ticket:
    """Move the source's conversation into the target and close the source."""
    access.require_edit(actor)
    if source_id == target_id:
        raise ValidationError({"source_id": "A ticket cannot be merged into itself."})
    first, second = sorted([source_id, target_id])  # lock in id order: no deadlocks
    locked = {
        t.pk: t
        for t in (
            _locked_ticket(tenant=tenant, actor=actor, ticket_id=first),
            _locked_ticket(tenant=tenant, actor=actor, ticket_id=second),
        )
    }
    source, target = locked[source_id], locked[target_id]
    _ensure_open(source)
    _ensure_open(target)
    from autocrm.tickets.models import Attachment

    moved = Message.objects.filter(tenant=tenant, ticket=source).update(ticket=target)
    Attachment.objects.filter(tenant=tenant, ticket=source).update(ticket=target)
    now = timezone.now()
    _system_note(
        tenant=tenant,
        ticket=target,
        actor=actor,
        text=f"Ticket #{source.number} was merged into this ticket.",
        now=now,
    )
    _system_note(
        tenant=tenant,
        ticket=source,
        actor=actor,
        text=f"Merged into ticket #{target.number}.",
        now=now,
    )
    target_diff = _apply_changes(
        tenant=tenant,
        ticket=target,
        now=now,
        changes={"tags": list(dict.fromkeys([*target.tags, *source.tags]))},
    )
    source.merged_into = target
    source_diff = _apply_changes(
        tenant=tenant, ticket=source, now=now, changes={"status": Status.CLOSED}
    )
    target.updated_at = source.updated_at = now
    target.version += 1
    source.version += 1
    target.save()
    source.save()
    _rebuild_search_vector(tenant, target)
    _rebuild_search_vector(tenant, source)
    event_append(
        tenant=tenant,
        type="ticket.merged",
        subject=source,
        actor=actor.user,
        actor_label=actor.label,
        payload={
            "number": source.number,
            "into": {"id": target.pk, "number": target.number},
            "changes": source_diff,
            "messages_moved": moved,
        },
    )
    event_append(
        tenant=tenant,
        type="ticket.merged_into",
        subject=target,
        actor=actor.user,
        actor_label=actor.label,
        payload={
            "number": target.number,
            "from": {"id": source.pk, "number": source.number},
            "changes": target_diff,
            "messages_moved": moved,
        },
    )
    return target


@transaction.atomic
def ticket_split(
    *,
    tenant: Tenant,
    actor: Actor,
    ticket_id: int,
    message_ids: list[int],
    subject: str | None = None,
) -> Ticket:
    """Move some messages of a ticket into a new ticket with the same requester."""
    access.require_edit(actor)
    original = _locked_ticket(tenant=tenant, actor=actor, ticket_id=ticket_id)
    _ensure_open(original)
    ids = set(message_ids)
    messages = list(Message.objects.filter(tenant=tenant, ticket=original, pk__in=ids))
    if not ids or len(messages) != len(ids):
        raise ValidationError({"message_ids": "Give messages of this ticket."})
    remaining = Message.objects.filter(tenant=tenant, ticket=original, public=True)
    if not remaining.exclude(pk__in=ids).exists():
        raise ValidationError({"message_ids": "At least one public message must stay."})
    now = timezone.now()
    new_subject = (subject or f"Split from #{original.number}: {original.subject}")[:500]
    new = Ticket.objects.create(
        tenant=tenant,
        number=_next_number(tenant),
        subject=new_subject,
        status=Status.OPEN,
        priority=original.priority,
        type=original.type,
        channel=original.channel,
        requester=original.requester,
        organization=original.organization,
        assignee=original.assignee,
        team=original.team,
        tags=list(original.tags),
        custom_fields=dict(original.custom_fields),
        created_at=now,
        updated_at=now,
    )
    Message.objects.filter(pk__in=ids).update(ticket=new)
    from autocrm.tickets.models import Attachment

    Attachment.objects.filter(tenant=tenant, message_id__in=ids).update(ticket=new)
    _system_note(
        tenant=tenant,
        ticket=original,
        actor=actor,
        text=f"{len(ids)} message(s) moved to ticket #{new.number}.",
        now=now,
    )
    original.updated_at = now
    original.version += 1
    original.save()
    _rebuild_search_vector(tenant, original)
    _rebuild_search_vector(tenant, new)
    event_append(
        tenant=tenant,
        type="ticket.created",
        subject=new,
        actor=actor.user,
        actor_label=actor.label,
        payload={
            "number": new.number,
            "subject": new.subject,
            "status": new.status,
            "split_from": {"id": original.pk, "number": original.number},
        },
    )
    event_append(
        tenant=tenant,
        type="ticket.split",
        subject=original,
        actor=actor.user,
        actor_label=actor.label,
        payload={
            "number": original.number,
            "message_ids": sorted(ids),
            "into": {"id": new.pk, "number": new.number},
        },
    )
    return new


# --- macros -------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+\.[a-z_]+)\s*\}\}")
PLACEHOLDERS = (
    "ticket.number",
    "ticket.subject",
    "ticket.status",
    "requester.name",
    "requester.email",
    "agent.name",
    "agent.email",
)


def macro_render(*, text: str, ticket: Ticket, actor: Actor) -> str:
    import html

    requester = ticket.requester
    values = {
        "ticket.number": str(ticket.number),
        "ticket.subject": ticket.subject,
        "ticket.status": ticket.status,
        "requester.name": requester.display_name,
        "requester.email": requester.email,
        "agent.name": actor.user.display_name if actor.user else "Support",
        "agent.email": actor.user.email if actor.user else "",
    }
    return PLACEHOLDER.sub(lambda m: html.escape(values.get(m.group(1), m.group(0))), text)


def macro_actions_to_changes(actions: list[dict[str, Any]]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for action in actions:
        field, value = action.get("field"), action.get("value")
        if field in {"tags_add", "tags_remove"}:
            changes.setdefault(field, []).extend(value if isinstance(value, list) else [value])
        elif field in EDITABLE_FIELDS:
            changes[field] = value
        else:
            raise ValidationError({"actions": f"Unknown macro action field '{field}'."})
    return changes


@transaction.atomic
def macro_apply(*, tenant: Tenant, actor: Actor, ticket_id: int, macro_id: int) -> Ticket:
    """Run a macro's actions and post its reply, as one change."""
    access.require_edit(actor)
    macro = Macro.objects.filter(tenant=tenant, pk=macro_id, active=True).first()
    if macro is None or (macro.owner_id is not None and macro.owner_id != actor.user_id):
        raise Macro.DoesNotExist(f"Macro {macro_id} does not exist.")
    ticket = _locked_ticket(tenant=tenant, actor=actor, ticket_id=ticket_id)
    _ensure_open(ticket)
    changes = macro_actions_to_changes(macro.actions)
    tags_add = _clean_tags(changes.pop("tags_add", []))
    tags_remove = set(_clean_tags(changes.pop("tags_remove", [])))
    if tags_add or tags_remove:
        base = changes.get("tags", ticket.tags)
        changes["tags"] = [t for t in base if t not in tags_remove] + tags_add
    reply = macro_render(text=macro.reply_body, ticket=ticket, actor=actor).strip()
    if reply:
        ticket_message_add(
            tenant=tenant, actor=actor, ticket_id=ticket.pk, body=reply, public=macro.reply_public
        )
        ticket.refresh_from_db()
    now = timezone.now()
    status_after_reply = changes.pop("status", None)
    diff = _apply_changes(tenant=tenant, ticket=ticket, changes=changes, now=now)
    if status_after_reply is not None:
        diff.update(
            _apply_changes(
                tenant=tenant, ticket=ticket, now=now, changes={"status": status_after_reply}
            )
        )
    _save_changes(
        tenant=tenant,
        actor=actor,
        ticket=ticket,
        diff=diff,
        now=now,
        extra={"macro": {"id": macro.pk, "name": macro.name}},
    )
    return ticket


@transaction.atomic
def ticket_delete(*, tenant: Tenant, actor: Actor, ticket_id: int) -> None:
    """Delete a ticket with its messages and attachment files (admins only). Its events stay
    in the audit log, ending with ``ticket.deleted``."""
    from autocrm.tickets.models import Attachment

    access.require_admin(actor)
    ticket = _locked_ticket(tenant=tenant, actor=actor, ticket_id=ticket_id)
    files = [(a.file.storage, a.file.name) for a in Attachment.objects.filter(ticket=ticket)]
    event_append(
        tenant=tenant,
        type="ticket.deleted",
        subject=ticket,
        actor=actor.user,
        actor_label=actor.label,
        payload={"number": ticket.number, "subject": ticket.subject},
    )
    Ticket.objects.filter(merged_into=ticket).update(merged_into=None)
    ticket.delete()

    def remove_files() -> None:
        for storage, name in files:
            if name:
                storage.delete(name)

    transaction.on_commit(remove_files)
