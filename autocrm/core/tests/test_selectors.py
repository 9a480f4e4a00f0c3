"""Reads of the core app: the audit timeline and worker liveness."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from django.db import connection

from autocrm.accounts.models import User
from autocrm.core.actors import Actor
from autocrm.core.events import event_append
from autocrm.core.models import Event, Tenant
from autocrm.core.selectors import audit_timeline, worker_last_heartbeat_age
from autocrm.core.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def _append(tenant: Tenant, type: str, subject: tuple[str, int], user: User | None) -> Event:
    actor = (
        Actor.system("tests")
        if user is None
        else Actor.for_user(user, role="agent", tenant_id=tenant.pk)
    )
    with tenant_context(tenant):
        return event_append(
            tenant=tenant, type=type, subject=subject, actor=actor, payload={"n": type}
        )


def test_audit_timeline_is_newest_first_per_subject_and_tenant() -> None:
    acme = Tenant.objects.create(slug="acme", name="Acme")
    globex = Tenant.objects.create(slug="globex", name="Globex")
    actor = User.objects.create_user("ann@acme.example", "a-long-passphrase-42")
    first = _append(acme, "ticket.created", ("tickets.ticket", 7), actor)
    second = _append(acme, "ticket.updated", ("tickets.ticket", 7), None)
    other_subject = _append(acme, "ticket.created", ("tickets.ticket", 8), actor)
    _append(globex, "ticket.created", ("tickets.ticket", 7), None)

    with tenant_context(acme):
        timeline = list(audit_timeline(tenant=acme, subject_type="tickets.ticket", subject_id="7"))
        everything = list(audit_timeline(tenant=acme))
        by_type = list(audit_timeline(tenant=acme, subject_type="tickets.ticket"))
    assert timeline == [second, first]  # same created_at resolution: id breaks the tie
    assert timeline[1].actor == actor and timeline[1].actor_label == "ann@acme.example"
    assert timeline[0].actor is None and timeline[0].actor_label == "system:tests"
    assert everything == [other_subject, second, first]
    assert by_type == everything


def test_audit_timeline_accepts_integer_subject_ids() -> None:
    acme = Tenant.objects.create(slug="acme", name="Acme")
    event = _append(acme, "ticket.created", ("tickets.ticket", 42), None)
    with tenant_context(acme):
        assert list(audit_timeline(tenant=acme, subject_type="tickets.ticket", subject_id=42)) == [
            event
        ]


def test_audit_timeline_never_shows_another_tenants_events() -> None:
    acme = Tenant.objects.create(slug="acme", name="Acme")
    globex = Tenant.objects.create(slug="globex", name="Globex")
    _append(globex, "ticket.deleted", ("x.y", 1), None)
    with tenant_context(acme):
        # Even asking for the other tenant explicitly: row-level security hides its rows.
        assert list(audit_timeline(tenant=globex)) == []
    assert list(audit_timeline(tenant=acme)) == []  # and no tenant context: no rows at all


def test_actor_is_loaded_with_the_events(
    django_assert_num_queries: Callable[[int], AbstractContextManager[object]],
) -> None:
    acme = Tenant.objects.create(slug="acme", name="Acme")
    actor = User.objects.create_user("ann@acme.example", "a-long-passphrase-42")
    for n in range(3):
        _append(acme, "ticket.created", ("tickets.ticket", n), actor)
    with tenant_context(acme), django_assert_num_queries(1):
        events = list(audit_timeline(tenant=acme))
        assert {e.actor.email for e in events if e.actor} == {"ann@acme.example"}


def test_worker_heartbeat_age() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_workers")
        assert worker_last_heartbeat_age() is None
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES "
            "(now() - interval '90 s'), (now() - interval '12 s')"
        )
    age = worker_last_heartbeat_age()
    assert age is not None and 11 <= age <= 13
