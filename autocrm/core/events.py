"""The event spine: services append events in their transaction; handlers fan out later.

``event_append`` writes the Event row and defers the dispatcher job (procrastinate's own defer
function) in one statement on Django's connection, i.e. in the caller's transaction: both
commit or neither does (a transactional outbox). This holds inside the worker too, where the
app's own connector is a separate pool: the job is always written through the Django
connection.
The worker then runs every registered handler once per event (``EventHandling`` records
it), so redelivery after a crash is harmless. See docs/adr/0003-events-outbox.md.

Each app declares the types it emits as constants in its ``events.py`` and registers their
tuple ``EVENT_TYPES`` from its AppConfig.ready() with :func:`event_types_register`; webhook
subscriptions are validated against :func:`event_types_registered`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, LiteralString

from django.db import connection, models
from django.utils import timezone
from psycopg.types.json import Jsonb

from autocrm.core import sql
from autocrm.core.actors import Actor
from autocrm.core.models import Event, Tenant, as_stored

EventHandler = Callable[[Event], None]


@dataclass(frozen=True)
class _Registration:
    name: str
    event_types: frozenset[str] | None  # None: every type
    func: EventHandler
    first: bool = False


_handlers: dict[str, _Registration] = {}

# Dotted lowercase names: `ticket.created`, `api_key.revoked`, `ticket.message.created`.
EVENT_TYPE_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
_event_types: set[str] = set()


def event_types_register(types: Iterable[str]) -> None:
    """Declare event types an app emits (from its AppConfig.ready(); repeating is harmless)."""
    types = tuple(types)
    malformed = [t for t in types if not EVENT_TYPE_PATTERN.match(t)]
    if malformed:
        raise ValueError(f"Not dotted lowercase event types: {', '.join(malformed)}")
    _event_types.update(types)


def event_types_registered() -> frozenset[str]:
    """Every event type some installed app emits."""
    return frozenset(_event_types)


# The event row and its dispatch job in one statement on Django's connection, so in the
# caller's transaction. The job goes through procrastinate's own defer function (the one its
# JobManager calls); one round trip instead of two, no ORM compile, and prepared once per
# connection (autocrm.core.sql, hence a cast on every parameter; ADR 0003).
_APPEND_SQL: LiteralString = """
WITH event AS (
    INSERT INTO core_event
        (tenant_id, type, subject_type, subject_id, actor_id, actor_label, payload, created_at)
    VALUES (%(tenant)s::bigint, %(type)s::text, %(subject_type)s::text, %(subject_id)s::text,
            %(actor)s::bigint, %(actor_label)s::text, %(payload)s::jsonb,
            %(created_at)s::timestamptz)
    RETURNING id
)
SELECT event.id, procrastinate_defer_jobs_v1(ARRAY[ROW(
    %(queue)s::text, %(task)s::text, %(priority)s::integer, %(lock)s::text,
    %(queueing_lock)s::text,
    jsonb_build_object('tenant_id', %(tenant)s::bigint, 'event_id', event.id),
    NULL
)::procrastinate_job_to_defer_v1])
FROM event
"""


# Many events of one actor in one statement, with ONE dispatch job for all of them
# (core.events_dispatch_batch): a bulk write (a contact import's chunk of thousands of rows)
# would otherwise queue thousands of jobs ahead of every ticket's events.
_APPEND_MANY_SQL: LiteralString = """
WITH event AS (
    INSERT INTO core_event
        (tenant_id, type, subject_type, subject_id, actor_id, actor_label, payload, created_at)
    SELECT %(tenant)s::bigint, u.type, u.subject_type, u.subject_id, %(actor)s::bigint,
           %(actor_label)s::text, u.payload, %(created_at)s::timestamptz
    FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS u(type text, subject_type text, subject_id text, payload jsonb)
    RETURNING id
), appended AS (
    SELECT array_agg(id ORDER BY id) AS ids FROM event
)
SELECT appended.ids, procrastinate_defer_jobs_v1(ARRAY[ROW(
    %(queue)s::text, %(task)s::text, %(priority)s::integer, %(lock)s::text,
    %(queueing_lock)s::text,
    jsonb_build_object('tenant_id', %(tenant)s::bigint, 'event_ids', to_jsonb(appended.ids)),
    NULL
)::procrastinate_job_to_defer_v1])
FROM appended
"""


@dataclass(frozen=True)
class EventDraft:
    """One event of an ``event_append_many`` call."""

    type: str
    subject: models.Model | tuple[str, Any]
    payload: dict[str, Any]


def event_handler(
    name: str, *, types: list[str] | None = None, first: bool = False
) -> Callable[[EventHandler], EventHandler]:
    """Register ``func`` as the fan-out handler ``name`` (stable: it keys idempotency).
    ``first``: run before the others of the event (the realtime push, which someone is
    waiting for on an open page, should not queue behind SLA timers, triggers, indexing and
    webhooks, each in a transaction of its own)."""

    def decorator(func: EventHandler) -> EventHandler:
        _handlers[name] = _Registration(name, frozenset(types) if types else None, func, first)
        return func

    return decorator


def handlers_for(event_type: str) -> list[_Registration]:
    """The handlers of ``event_type``: the ``first`` ones, then the rest in registration
    order."""
    found = [
        reg
        for reg in _handlers.values()
        if reg.event_types is None or event_type in reg.event_types
    ]
    return sorted(found, key=lambda reg: not reg.first)


def _subject_of(subject: models.Model | tuple[str, Any]) -> tuple[str, str]:
    if isinstance(subject, tuple):
        return subject[0], str(subject[1])
    return subject._meta.label_lower, str(subject.pk)


def _check_append(types: Iterable[str]) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("event_append must run inside the service's transaction")
    unknown = sorted(set(types) - _event_types)
    if unknown:
        # Webhook subscriptions are validated against the registry: an unregistered type
        # could never be subscribed to by name.
        raise ValueError(f"Unregistered event type {unknown[0]!r}: add it to its app's EVENT_TYPES")


def event_append(
    *,
    tenant: Tenant,
    type: str,
    subject: models.Model | tuple[str, Any],
    actor: Actor,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Append an event in the caller's transaction (required) and queue its dispatch. The
    row names the actor's user (if any) and its audit label."""
    _check_append([type])
    subject_type, subject_id = _subject_of(subject)
    event = Event(
        tenant=tenant,
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor.user,
        actor_label=actor.label,
        payload=payload or {},
        created_at=timezone.now(),
    )
    from autocrm.core.tasks import events_dispatch

    params: dict[str, Any] = {
        "tenant": tenant.pk,
        "type": event.type,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "payload": Jsonb(event.payload),
        "created_at": event.created_at,
        "queue": events_dispatch.queue,
        "task": events_dispatch.name,
        "priority": events_dispatch.priority,
        "lock": events_dispatch.lock,
        "queueing_lock": events_dispatch.queueing_lock,
    }
    row = sql.fetch_one(_APPEND_SQL, params)
    assert row is not None  # an INSERT ... RETURNING of one row
    event.pk = row[0]
    return as_stored(event)


def event_append_many(*, tenant: Tenant, actor: Actor, drafts: list[EventDraft]) -> list[int]:
    """Append many events in the caller's transaction (like ``event_append``, one row each,
    the same time stamp) and queue one job that dispatches them all; returns their ids."""
    _check_append(d.type for d in drafts)
    if not drafts:
        return []
    subjects = [_subject_of(d.subject) for d in drafts]
    from autocrm.core.tasks import events_dispatch_batch

    [row] = sql.fetch_bulk(
        _APPEND_MANY_SQL,
        {
            "tenant": tenant.pk,
            "actor": actor.user.pk if actor.user else None,
            "actor_label": actor.label,
            "created_at": timezone.now(),
            "rows": sql.json_rows(
                [
                    {"type": d.type, "subject_type": st, "subject_id": sid, "payload": d.payload}
                    for d, (st, sid) in zip(drafts, subjects, strict=True)
                ]
            ),
            "queue": events_dispatch_batch.queue,
            "task": events_dispatch_batch.name,
            "priority": events_dispatch_batch.priority,
            "lock": events_dispatch_batch.lock,
            "queueing_lock": events_dispatch_batch.queueing_lock,
        },
    )
    return list(row[0])
