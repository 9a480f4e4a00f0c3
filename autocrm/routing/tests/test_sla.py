"""SLA policies: API validation, timers through the event spine, pause/resume, the sweep."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import connections

from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications.models import InAppNotification
from autocrm.routing import services
from autocrm.routing.models import SlaPolicy, SlaTimer
from autocrm.routing.tasks import sla_events_dispatch, sla_sweep_run
from autocrm.routing.tests.factories import SYSTEM, business_hours, dispatch_all, team
from autocrm.tickets import services as ticket_services
from autocrm.tickets.tests.api_client import Api
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db


def policy(tenant: Tenant, **values: object) -> SlaPolicy:
    defaults: dict[str, object] = {
        "conditions": [{"field": "priority", "op": "is", "value": "urgent"}],
        "first_reply_minutes": 60,
        "next_reply_minutes": 30,
        "resolution_minutes": 480,
    }
    with tenant_context(tenant):
        return services.sla_policy_create(
            tenant=tenant,
            actor=SYSTEM,
            name=str(values.pop("name", "Urgent")),
            **{**defaults, **values},
        )


def timers(tenant: Tenant, ticket_id: int) -> dict[str, SlaTimer]:
    with tenant_context(tenant):
        return {t.metric: t for t in SlaTimer.objects.filter(ticket_id=ticket_id)}


def test_policy_crud_and_bad_input(api: Api, tenant_a: Tenant) -> None:
    body = {
        "name": "VIP",
        "conditions": [{"field": "tags", "op": "contains", "value": "vip"}],
        "first_reply_minutes": 30,
    }
    created = api.call("post", "/sla-policies", body)
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    assert api.call("get", "/sla-policies").json()["items"][0]["id"] == pid
    assert (
        api.call("patch", f"/sla-policies/{pid}", {"resolution_minutes": 120}).json()[
            "resolution_minutes"
        ]
        == 120
    )
    cases: list[tuple[dict[str, Any], str]] = [
        ({"conditions": [{"field": "mood", "op": "is", "value": "x"}]}, "conditions.0.field"),
        ({"first_reply_minutes": None}, "body.first_reply_minutes"),
        ({"escalation": [{"type": "explode"}]}, "escalation.0.type"),
        ({"calendar_id": 999999}, "body.calendar_id"),
    ]
    for bad, field in cases:
        response = api.call("post", "/sla-policies", {**body, **bad})
        assert response.status_code == 422, (bad, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field
    with tenant_context(tenant_a):
        assert SlaPolicy.objects.count() == 1
    assert api.call("delete", f"/sla-policies/{pid}").status_code == 204


def test_timers_start_on_create_and_replies_meet_them(tenant_a: Tenant) -> None:
    policy(tenant_a)
    with tenant_context(tenant_a):
        t = ticket(tenant_a, priority="urgent")
        ignored = ticket(tenant_a, priority="low")
    dispatch_all(tenant_a)
    found = timers(tenant_a, t.pk)
    assert set(found) == {"first_reply", "resolution"} and timers(tenant_a, ignored.pk) == {}
    first = found["first_reply"]
    assert first.state == "running"
    assert first.due_at == t.created_at + dt.timedelta(minutes=60)
    assert first.warn_at == first.due_at - dt.timedelta(minutes=30)
    with tenant_context(tenant_a):
        ticket_services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="On it"
        )
    dispatch_all(tenant_a)
    assert timers(tenant_a, t.pk)["first_reply"].state == "met"
    # The requester answers: the next-reply clock starts; the agent's answer meets it.
    with tenant_context(tenant_a):
        ticket_services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="Still broken", as_requester=True
        )
    dispatch_all(tenant_a)
    assert timers(tenant_a, t.pk)["next_reply"].state == "running"
    with tenant_context(tenant_a):
        ticket_services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="Fixed"
        )
        ticket_services.ticket_change_status(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, status="solved"
        )
    dispatch_all(tenant_a)
    after = timers(tenant_a, t.pk)
    assert after["next_reply"].state == "met" and after["resolution"].state == "met"


def test_pending_pauses_and_reopening_resumes_with_the_time_left(tenant_a: Tenant) -> None:
    policy(tenant_a, first_reply_minutes=None, next_reply_minutes=None, resolution_minutes=120)
    with tenant_context(tenant_a):
        t = ticket(tenant_a, priority="urgent")
    dispatch_all(tenant_a)
    due = timers(tenant_a, t.pk)["resolution"].due_at
    assert due is not None
    with tenant_context(tenant_a):
        ticket_services.ticket_change_status(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, status="pending"
        )
    dispatch_all(tenant_a)
    paused = timers(tenant_a, t.pk)["resolution"]
    assert paused.state == "paused" and paused.remaining_seconds == pytest.approx(
        (due - paused.paused_at).total_seconds()  # type: ignore[operator]
    )
    with tenant_context(tenant_a):
        ticket_services.ticket_change_status(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, status="open"
        )
    resumed_event = dispatch_all(tenant_a)
    assert "ticket.updated" in resumed_event
    resumed = timers(tenant_a, t.pk)["resolution"]
    assert resumed.state == "running" and resumed.due_at is not None
    # The deadline moved by exactly the time spent pending.
    with tenant_context(tenant_a):
        reopened_at = Event.objects.filter(type="ticket.updated").latest("id").created_at
    assert resumed.due_at == reopened_at + dt.timedelta(seconds=paused.remaining_seconds or 0)


def test_business_hours_policies_count_the_teams_hours(tenant_a: Tenant) -> None:
    hours = business_hours(
        tenant_a,
        time_zone="UTC",
        hours=[
            {"day": d, "start": "09:00", "end": "17:00"}
            for d in ("mon", "tue", "wed", "thu", "fri")
        ],
    )
    support = team(tenant_a, business_hours_id=hours.pk)
    policy(tenant_a, business_hours=True, conditions=[], first_reply_minutes=120)
    with tenant_context(tenant_a):
        t = ticket(tenant_a, team_id=support.pk)
    dispatch_all(tenant_a)
    first = timers(tenant_a, t.pk)["first_reply"]
    with tenant_context(tenant_a):
        assert first.due_at == services.calendar_of(hours).add(t.created_at, 7200)
    assert first.business_hours_id == hours.pk


def test_a_changed_priority_switches_policy(tenant_a: Tenant) -> None:
    policy(tenant_a, name="Urgent", first_reply_minutes=30, position=0)
    policy(tenant_a, name="Default", conditions=[], first_reply_minutes=600, position=1)
    with tenant_context(tenant_a):
        t = ticket(tenant_a, priority="normal")
    dispatch_all(tenant_a)
    assert timers(tenant_a, t.pk)["first_reply"].target_minutes == 600
    with tenant_context(tenant_a):
        ticket_services.ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, changes={"priority": "urgent"}
        )
    dispatch_all(tenant_a)
    assert timers(tenant_a, t.pk)["first_reply"].target_minutes == 30


@pytest.mark.django_db(transaction=True, databases=["default", "owner"])
def test_the_sweep_warns_then_breaches_once_and_escalates(tenant_a: Tenant) -> None:
    """Committed data and the sweep's own (owner) connection, as in the worker."""
    policy(
        tenant_a,
        conditions=[],
        first_reply_minutes=60,
        next_reply_minutes=None,
        resolution_minutes=None,
        warn_before_minutes=10,
        escalation=[
            {"type": "set", "field": "priority", "value": "urgent"},
            {"type": "add_tags", "value": ["sla-breached"]},
        ],
    )
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
    dispatch_all(tenant_a)
    start = t.created_at
    assert sla_sweep_run(start + dt.timedelta(minutes=40)) == {"sla.warning": 0, "sla.breached": 0}
    assert sla_sweep_run(start + dt.timedelta(minutes=55)) == {"sla.warning": 1, "sla.breached": 0}
    assert sla_sweep_run(start + dt.timedelta(minutes=61)) == {"sla.warning": 0, "sla.breached": 1}
    assert sla_sweep_run(start + dt.timedelta(minutes=90)) == {"sla.warning": 0, "sla.breached": 0}
    # The sweep's events go out in batches, one job per tenant and up to SWEEP_BATCH events.
    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT args FROM procrastinate_jobs WHERE task_name = %s"
            " AND (args->>'tenant_id')::bigint = %s ORDER BY id",
            [sla_events_dispatch.name, tenant_a.pk],
        )
        # Django's cursors leave jsonb undecoded.
        batches = [json.loads(row[0]) for row in cursor.fetchall()]
    assert [len(b["event_ids"]) for b in batches] == [1, 1]
    for args in batches:
        sla_events_dispatch(**args)
    with tenant_context(tenant_a):
        assert not Event.objects.filter(pk__in=[b["event_ids"][0] for b in batches]).filter(
            dispatched_at=None
        )
    dispatched = dispatch_all(tenant_a)
    assert "sla.warning" not in dispatched  # done by the batch job
    assert "rule.fired" in dispatched
    with tenant_context(tenant_a):
        t.refresh_from_db()
        assert t.priority_name == "urgent" and "sla-breached" in t.tags
        assert timers(tenant_a, t.pk)["first_reply"].breached_at is not None
        assert not InAppNotification.objects.exists()  # nobody assigned


def test_ticket_sla_endpoint(api: Api, tenant_a: Tenant) -> None:
    policy(tenant_a, conditions=[])
    created = api.call(
        "post", "/tickets", {"subject": "Help", "body": "x", "requester_email": "a@b.test"}
    ).json()
    dispatch_all(tenant_a)
    body = api.call("get", f"/tickets/{created['id']}/sla").json()
    assert sorted(t["metric"] for t in body) == ["first_reply", "resolution"]
    assert api.call("get", "/tickets/99999999/sla").status_code == 404
