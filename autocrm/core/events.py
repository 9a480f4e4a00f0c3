"""The event spine: services append events in their transaction; handlers fan out later.

``event_append`` writes the Event row and defers the dispatcher job through procrastinate's
Django connector, i.e. on the same connection and in the same transaction: both commit or
neither does (a transactional outbox). This holds inside the worker too, where the app's own
connector is a separate pool: the job is always written through the Django connection.
The worker then runs every registered handler once per event (``EventHandling`` records
it), so redelivery after a crash is harmless. See docs/adr/0003-events-outbox.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connection, models
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.jobs import JobDeferrer
from procrastinate.manager import JobManager

from autocrm.core.models import Event, Tenant

if TYPE_CHECKING:
    from autocrm.accounts.models import User

EventHandler = Callable[[Event], None]


@dataclass(frozen=True)
class _Registration:
    name: str
    event_types: frozenset[str] | None  # None: every type
    func: EventHandler


_handlers: dict[str, _Registration] = {}

# Jobs deferred through this manager are written on Django's "default" connection of the
# calling thread, so they belong to the caller's transaction.
_transactional_jobs = JobManager(connector=DjangoConnector(alias=DEFAULT_DB_ALIAS))


def event_handler(
    name: str, *, types: list[str] | None = None
) -> Callable[[EventHandler], EventHandler]:
    """Register ``func`` as the fan-out handler ``name`` (stable: it keys idempotency)."""

    def decorator(func: EventHandler) -> EventHandler:
        _handlers[name] = _Registration(name, frozenset(types) if types else None, func)
        return func

    return decorator


def handlers_for(event_type: str) -> list[_Registration]:
    return [
        reg
        for reg in _handlers.values()
        if reg.event_types is None or event_type in reg.event_types
    ]


def _subject_of(subject: models.Model | tuple[str, Any]) -> tuple[str, str]:
    if isinstance(subject, tuple):
        return subject[0], str(subject[1])
    return subject._meta.label_lower, str(subject.pk)


def event_append(
    *,
    tenant: Tenant,
    type: str,
    subject: models.Model | tuple[str, Any],
    actor: User | None,
    payload: dict[str, Any] | None = None,
    actor_label: str = "",
) -> Event:
    """Append an event in the caller's transaction (required) and queue its dispatch."""
    if not connection.in_atomic_block:
        raise RuntimeError("event_append must run inside the service's transaction")
    subject_type, subject_id = _subject_of(subject)
    event = Event.objects.create(
        tenant=tenant,
        type=type,
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        actor_label=actor_label or (actor.email if actor else "system"),
        payload=payload or {},
    )
    from autocrm.core.tasks import events_dispatch

    JobDeferrer(job_manager=_transactional_jobs, job=events_dispatch.configure().job).defer(
        tenant_id=tenant.pk, event_id=event.pk
    )
    return event
