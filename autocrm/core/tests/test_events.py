"""The event outbox, end to end with a real procrastinate worker on the test database."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from autocrm.accounts.tests.factories import SYSTEM
from autocrm.core import events
from autocrm.core.events import event_append
from autocrm.core.models import Event, EventHandling, Tenant
from autocrm.core.tasks import SWEEP_AFTER, events_dispatch, events_sweep
from autocrm.core.tenancy import tenant_context
from autocrm.testing.worker import clear_jobs, make_jobs_due, run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "owner"])

# The types these tests append (a real app registers its own in AppConfig.ready()).
events.event_types_register(
    ["test.happened", "test.other", "test.parent", "test.child", "test.child_rolled_back"]
)


class Boom(Exception):
    pass


class Calls:
    """What the test handlers were called with; they run in worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, int]] = Counter()
        self.fail_next: set[str] = set()

    def record(self, handler: str, event: Event) -> None:
        with self._lock:
            self.counts[(handler, event.pk)] += 1
            if handler in self.fail_next:
                self.fail_next.discard(handler)
                raise Boom(f"{handler} fails once")

    def of(self, handler: str, event: Event) -> int:
        return self.counts[(handler, event.pk)]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """Only this test's handlers are registered while it runs."""
    recorder = Calls()
    monkeypatch.setattr(events, "_handlers", {})
    events.event_handler("first")(lambda event: recorder.record("first", event))
    events.event_handler("flaky")(lambda event: recorder.record("flaky", event))
    events.event_handler("only_for_other", types=["test.other"])(
        lambda event: recorder.record("only_for_other", event)
    )
    clear_jobs()
    yield recorder
    clear_jobs()


@pytest.fixture
def tenant() -> Tenant:
    return Tenant.objects.create(slug="acme", name="Acme")


def append(tenant: Tenant, type: str = "test.happened") -> Event:
    with tenant_context(tenant):
        return event_append(tenant=tenant, type=type, subject=("test.thing", 1), actor=SYSTEM)


def dispatch_jobs(event: Event) -> list[ProcrastinateJob]:
    return [
        job
        for job in ProcrastinateJob.objects.filter(task_name="core.events_dispatch")
        if job.args.get("event_id") == event.pk
    ]


def reload(event: Event) -> Event:
    with tenant_context(Tenant.objects.get(pk=event.tenant_id)):
        return Event.objects.get(pk=event.pk)


def test_a_rolled_back_event_leaves_no_job(tenant: Tenant, calls: Calls) -> None:
    with pytest.raises(Boom), tenant_context(tenant):
        event_append(tenant=tenant, type="test.happened", subject=("test.thing", 1), actor=SYSTEM)
        raise Boom
    assert not ProcrastinateJob.objects.filter(task_name="core.events_dispatch").exists()
    with tenant_context(tenant):
        assert not Event.objects.exists()


def test_event_append_refuses_to_run_outside_a_transaction(tenant: Tenant) -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        event_append(tenant=tenant, type="test.happened", subject=("test.thing", 1), actor=SYSTEM)


def test_the_appended_event_is_returned_as_stored(tenant: Tenant, calls: Calls) -> None:
    with tenant_context(tenant):
        event = event_append(
            tenant=tenant,
            type="test.happened",
            subject=("test.thing", 7),
            actor=SYSTEM,
            payload={"from": "a", "to": ["b", 2]},
        )
    stored = reload(event)
    fields = [f.attname for f in Event._meta.concrete_fields]
    assert {f: getattr(event, f) for f in fields} == {f: getattr(stored, f) for f in fields}
    assert (event.actor_label, event.subject_id) == ("system:tests", "7")
    assert not event._state.adding


def test_a_committed_event_runs_each_matching_handler_once(tenant: Tenant, calls: Calls) -> None:
    event = append(tenant)
    [job] = dispatch_jobs(event)
    assert job.status == "todo" and job.queue_name == "events"
    assert job.args == {"tenant_id": tenant.pk, "event_id": event.pk}

    run_worker_until_idle(["events"])

    assert calls.of("first", event) == 1 and calls.of("flaky", event) == 1
    assert calls.of("only_for_other", event) == 0
    assert reload(event).dispatched_at is not None
    assert [j.status for j in dispatch_jobs(event)] == ["succeeded"]
    with tenant_context(tenant):
        assert set(EventHandling.objects.values_list("handler", flat=True)) == {"first", "flaky"}

    run_worker_until_idle(["events"])  # nothing left to do
    assert calls.of("first", event) == 1


def test_a_failing_handler_is_retried_without_rerunning_the_others(
    tenant: Tenant, calls: Calls
) -> None:
    calls.fail_next.add("flaky")
    event = append(tenant)

    run_worker_until_idle(["events"])
    assert calls.of("first", event) == 1 and calls.of("flaky", event) == 1
    [job] = dispatch_jobs(event)
    assert job.status == "todo" and job.attempts == 1  # scheduled for a retry (backoff)
    assert job.scheduled_at is not None and job.scheduled_at > timezone.now()
    assert reload(event).dispatched_at is None
    with tenant_context(tenant):  # the failed handler's marker was rolled back with it
        assert list(EventHandling.objects.values_list("handler", flat=True)) == ["first"]

    make_jobs_due()
    run_worker_until_idle(["events"])
    assert calls.of("first", event) == 1
    assert calls.of("flaky", event) == 2
    assert reload(event).dispatched_at is not None
    assert [j.status for j in dispatch_jobs(event)] == ["succeeded"]


def test_redelivering_an_event_is_harmless(tenant: Tenant, calls: Calls) -> None:
    event = append(tenant)
    run_worker_until_idle(["events"])
    # The same event delivered again (a duplicate job, or a crash before the job was marked
    # done): dispatched events are skipped.
    events_dispatch.defer(tenant_id=tenant.pk, event_id=event.pk)
    run_worker_until_idle(["events"])
    assert calls.of("first", event) == 1 and calls.of("flaky", event) == 1

    # A crash after one handler committed but before the event was marked dispatched:
    # only the missing handler runs.
    other = append(tenant)
    with tenant_context(tenant):
        EventHandling.objects.create(tenant=tenant, event=other, handler="first")
    run_worker_until_idle(["events"])
    assert calls.of("first", other) == 0 and calls.of("flaky", other) == 1


def test_direct_calls_are_idempotent_too(tenant: Tenant, calls: Calls) -> None:
    event = append(tenant)
    events_dispatch(tenant_id=tenant.pk, event_id=event.pk)
    events_dispatch(tenant_id=tenant.pk, event_id=event.pk)
    assert calls.of("first", event) == 1


def test_an_event_appended_inside_a_job_is_part_of_the_jobs_transaction(
    tenant: Tenant, calls: Calls
) -> None:
    """In the worker, procrastinate's connector is a separate pool; the outbox job must
    still be written in the handler's transaction, or a rolled-back event gets a job and a
    committed one can be picked up before it is visible."""

    def parent_handler(event: Event) -> None:
        with pytest.raises(Boom), transaction.atomic():
            append(tenant, "test.child_rolled_back")
            raise Boom
        append(tenant, "test.child")

    events.event_handler("spawner", types=["test.parent"])(parent_handler)
    parent = append(tenant, "test.parent")
    run_worker_until_idle(["events"])

    with tenant_context(tenant):
        by_type = {e.type: e for e in Event.objects.all()}
    assert set(by_type) == {"test.parent", "test.child"}
    jobs = ProcrastinateJob.objects.filter(task_name="core.events_dispatch")
    assert sorted(job.args["event_id"] for job in jobs) == sorted(
        [parent.pk, by_type["test.child"].pk]
    )
    assert all(job.status == "succeeded" for job in jobs)
    assert calls.of("first", by_type["test.child"]) == 1
    assert reload(by_type["test.child"]).dispatched_at is not None


def delete_dispatch_jobs(except_event: Event | None = None) -> None:
    keep = except_event.pk if except_event else 0
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE task_name = 'core.events_dispatch' "
            "AND (args->>'event_id')::bigint <> %s",
            [keep],
        )


def _backdate(event: Event, age: dt.timedelta) -> None:
    with tenant_context(Tenant.objects.get(pk=event.tenant_id)):
        Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - age)


def test_the_sweeper_requeues_old_events_whose_job_was_lost(tenant: Tenant, calls: Calls) -> None:
    other_tenant = Tenant.objects.create(slug="globex", name="Globex")
    lost = append(tenant)
    lost_elsewhere = append(other_tenant)
    recent = append(tenant)
    pending = append(tenant)
    old = SWEEP_AFTER + dt.timedelta(minutes=1)
    for event in (lost, lost_elsewhere, pending):
        _backdate(event, old)
    delete_dispatch_jobs(except_event=pending)  # "lost": e.g. deleted by an operator

    app.configure_task("core.events_sweep").defer(timestamp=0)
    run_worker_until_idle(["events"])

    assert calls.of("first", lost) == 1 and calls.of("first", lost_elsewhere) == 1
    assert calls.of("first", pending) == 1  # through its own job, not a second one
    assert len(dispatch_jobs(pending)) == 1
    assert calls.of("first", recent) == 0  # too young: its job may just be slow
    assert reload(lost).dispatched_at is not None
    # Nothing is left to sweep, and a second sweep queues nothing twice.
    assert events_sweep(timestamp=0) == 0


def test_the_sweeper_does_not_queue_an_event_twice(tenant: Tenant, calls: Calls) -> None:
    event = append(tenant)
    _backdate(event, SWEEP_AFTER * 2)
    delete_dispatch_jobs()
    assert events_sweep(timestamp=0) == 1
    assert events_sweep(timestamp=0) == 0
    assert len(dispatch_jobs(event)) == 1


def test_every_apps_event_types_are_registered_and_malformed_ones_refused() -> None:
    from autocrm.accounts.events import EVENT_TYPES as ACCOUNTS
    from autocrm.crm.events import EVENT_TYPES as CRM
    from autocrm.notifications.events import EVENT_TYPES as NOTIFICATIONS
    from autocrm.tickets.events import EVENT_TYPES as TICKETS

    registered = events.event_types_registered()
    for app_types in (ACCOUNTS, CRM, NOTIFICATIONS, TICKETS):
        assert set(app_types) <= registered
    for bad in ("Ticket.created", "ticket", "ticket.*", "ticket created"):
        with pytest.raises(ValueError, match="event types"):
            events.event_types_register([bad])
    assert events.event_types_registered() == registered


def test_an_unregistered_event_type_is_refused(tenant: Tenant, calls: Calls) -> None:
    with tenant_context(tenant), pytest.raises(ValueError, match="Unregistered event type"):
        event_append(tenant=tenant, type="test.unheard_of", subject=("test.thing", 1), actor=SYSTEM)
    with tenant_context(tenant):
        assert not Event.objects.exists()


def test_many_events_get_one_dispatch_job_that_runs_each_once(tenant: Tenant, calls: Calls) -> None:
    calls.fail_next.add("flaky")  # the first event's flaky handler fails once
    with tenant_context(tenant):
        ids = events.event_append_many(
            tenant=tenant,
            actor=SYSTEM,
            drafts=[
                events.EventDraft("test.happened", ("test.thing", n), {"n": n}) for n in range(3)
            ]
            + [events.EventDraft("test.other", ("test.thing", 9), {})],
        )
    with tenant_context(tenant):
        stored = list(Event.objects.order_by("id"))
    assert [e.pk for e in stored] == ids
    assert [(e.type, e.subject_id, e.payload) for e in stored][:2] == [
        ("test.happened", "0", {"n": 0}),
        ("test.happened", "1", {"n": 1}),
    ]
    assert {e.actor_label for e in stored} == {"system:tests"}
    [job] = ProcrastinateJob.objects.filter(task_name="core.events_dispatch_batch")
    assert job.args == {"tenant_id": tenant.pk, "event_ids": ids}
    assert not ProcrastinateJob.objects.filter(task_name="core.events_dispatch").exists()
    # Old and undispatched, but its batch job still waits: the sweeper leaves them alone.
    for event in stored:
        _backdate(event, SWEEP_AFTER + dt.timedelta(minutes=1))
    assert events_sweep(timestamp=0) == 0

    run_worker_until_idle(["events"])
    first = stored[0]
    assert calls.of("flaky", first) == 1 and reload(first).dispatched_at is None
    assert all(reload(e).dispatched_at is not None for e in stored[1:])
    make_jobs_due()
    run_worker_until_idle(["events"])  # the retry runs only the failed handler
    assert calls.of("flaky", first) == 2 and calls.of("first", first) == 1
    assert all(calls.of("first", e) == 1 for e in stored)
    assert calls.of("only_for_other", stored[3]) == 1
    assert all(reload(e).dispatched_at is not None for e in stored)


def test_event_append_many_checks_like_event_append(tenant: Tenant) -> None:
    draft = events.EventDraft("test.happened", ("test.thing", 1), {})
    with pytest.raises(RuntimeError, match="transaction"):
        events.event_append_many(tenant=tenant, actor=SYSTEM, drafts=[draft])
    with tenant_context(tenant), pytest.raises(ValueError, match="Unregistered"):
        events.event_append_many(
            tenant=tenant, actor=SYSTEM, drafts=[events.EventDraft("test.nope", ("t", 1), {})]
        )
    with tenant_context(tenant):
        assert events.event_append_many(tenant=tenant, actor=SYSTEM, drafts=[]) == []


def test_handlers_marked_first_run_before_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "_handlers", {})
    for name, first in (("slow", False), ("push", True), ("later", False), ("all", False)):
        events.event_handler(name, types=["test.happened"] if name != "all" else None, first=first)(
            lambda event: None
        )
    assert [reg.name for reg in events.handlers_for("test.happened")] == [
        "push",
        "slow",
        "later",
        "all",
    ]


def test_the_realtime_push_is_the_first_handler_of_ticket_events() -> None:
    for event_type in ("ticket.created", "ticket.updated", "message.created"):
        registered = events.handlers_for(event_type)
        assert registered[0].name == "realtime", [reg.name for reg in registered]
