"""Triggers and automations: API validation, running through the event spine, ordering,
the per-ticket log, the loop guard, dry runs, and time-based automations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from procrastinate.contrib.django.models import ProcrastinateJob

from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.notifications.models import InAppNotification
from autocrm.routing import services
from autocrm.routing.models import Automation, RuleRun, Trigger
from autocrm.routing.tests.factories import SYSTEM, agents, dispatch_all, team
from autocrm.tickets import services as ticket_services
from autocrm.tickets.models import Macro
from autocrm.tickets.tests.api_client import Api
from autocrm.tickets.tests.factories import ticket

pytestmark = pytest.mark.django_db

REFUND = {
    "name": "Refunds are billing",
    "on": ["ticket.created"],
    "conditions": [{"field": "text", "op": "contains", "value": "refund"}],
    "actions": [
        {"type": "set", "field": "priority", "value": "high"},
        {"type": "add_tags", "value": ["billing"]},
    ],
}


def trigger(tenant: Tenant, **values: Any) -> Trigger:
    with tenant_context(tenant):
        return services.trigger_create(tenant=tenant, actor=SYSTEM, **{**REFUND, **values})


def test_trigger_crud(api: Api, tenant_a: Tenant) -> None:
    created = api.call("post", "/triggers", REFUND)
    assert created.status_code == 201, created.content
    tid = created.json()["id"]
    assert api.call("get", "/triggers").json()["items"][0]["id"] == tid
    assert api.call("patch", f"/triggers/{tid}", {"active": False}).json()["active"] is False
    assert api.call("get", f"/triggers/{tid}").json()["name"] == REFUND["name"]
    assert api.call("delete", f"/triggers/{tid}").status_code == 204


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # Adds a tag on every update with no condition its action makes false: a loop.
        (
            {
                "on": ["ticket.updated"],
                "conditions": [],
                "actions": [{"type": "add_tags", "value": ["x"]}],
            },
            "body.actions",
        ),
        ({"conditions": [{"field": "shoe_size", "op": "is", "value": 9}]}, "conditions.0.field"),
        (
            {
                "conditions": [
                    {
                        "field": "time_of_day",
                        "op": "between",
                        "value": ["09:00", "17:00"],
                        "time_zone": "Nowhere/City",
                    }
                ]
            },
            "conditions.0.time_zone",
        ),
        ({"actions": [{"type": "macro", "value": 999999}]}, "actions.0.value"),
        ({"actions": [{"type": "assign", "value": 999999}]}, "actions.0.value"),
        ({"on": ["ticket.deleted"]}, "body.on.0"),
    ],
)
def test_bad_triggers_are_422_and_nothing_is_saved(
    api: Api, tenant_a: Tenant, change: dict[str, Any], field: str
) -> None:
    response = api.call("post", "/triggers", {**REFUND, **change})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    with tenant_context(tenant_a):
        assert not Trigger.objects.exists()


def test_a_looping_update_is_refused_on_patch_too(api: Api) -> None:
    tid = api.call(
        "post",
        "/triggers",
        {
            **REFUND,
            "on": ["ticket.updated"],
            "conditions": [{"field": "tags", "op": "not_contains", "value": "billing"}],
        },
    ).json()["id"]
    response = api.call("patch", f"/triggers/{tid}", {"conditions": []})
    assert response.status_code == 422
    assert api.call("get", f"/triggers/{tid}").json()["conditions"] != []


def test_triggers_run_in_order_and_log_what_fired(tenant_a: Tenant) -> None:
    first = trigger(tenant_a, position=1)
    # Runs after the first and sees its change (priority high now).
    second = trigger(
        tenant_a,
        name="High billing to lead",
        position=2,
        conditions=[
            {"field": "priority", "op": "is", "value": "high"},
            {"field": "tags", "op": "contains", "value": "billing"},
        ],
        actions=[{"type": "add_tags", "value": ["escalate"]}],
    )
    trigger(
        tenant_a,
        name="Never",
        position=3,
        conditions=[{"field": "channel", "op": "is", "value": "sms"}],
    )
    with tenant_context(tenant_a):
        t = ticket(tenant_a, subject="Refund please", body="I want a refund")
        other = ticket(tenant_a, subject="Hello", body="Just saying hi")
    dispatch_all(tenant_a)
    with tenant_context(tenant_a):
        t.refresh_from_db()
        other.refresh_from_db()
        assert t.priority_name == "high" and t.tags == ["billing", "escalate"]
        assert other.tags == [] and other.priority_name == "normal"
        runs = list(RuleRun.objects.filter(ticket=t).order_by("id").values_list("rule_id", "kind"))
    assert runs == [(first.pk, "trigger"), (second.pk, "trigger")]


def test_rule_runs_endpoint(api: Api, tenant_a: Tenant) -> None:
    trigger(tenant_a)
    created = api.call(
        "post", "/tickets", {"subject": "Refund", "body": "refund", "requester_email": "a@b.test"}
    ).json()
    dispatch_all(tenant_a)
    body = api.call("get", f"/tickets/{created['id']}/rule-runs").json()
    assert [r["rule_name"] for r in body["items"]] == [REFUND["name"]]


def test_message_added_assign_notify_email_and_macro(tenant_a: Tenant) -> None:
    [agent] = agents(tenant_a, 1)
    support = team(tenant_a, members=[agent], assignment_method="round_robin", lead_id=agent)
    with tenant_context(tenant_a):
        shared = Macro.objects.create(
            tenant=tenant_a, name="Ack", actions=[{"field": "type", "value": "problem"}]
        )
    trigger(
        tenant_a,
        name="Angry",
        on=["message.created"],
        conditions=[
            {"field": "text", "op": "contains", "value": "angry"},
            {"field": "tags", "op": "not_contains", "value": "angry"},
        ],
        actions=[
            {"type": "set", "field": "team_id", "value": support.pk},
            {"type": "assign", "value": "auto"},
            {"type": "add_tags", "value": ["angry"]},
            {
                "type": "notify",
                "to": "team_lead",
                "subject": "Angry customer on #{{ticket.number}}",
            },
            {"type": "email", "to": "ops@example.test", "subject": "Angry: {{ticket.subject}}"},
            {"type": "macro", "value": shared.pk},
        ],
    )
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        ticket_services.ticket_message_add(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, body="I am angry", as_requester=True
        )
    mail.outbox.clear()
    dispatch_all(tenant_a)
    with tenant_context(tenant_a):
        t.refresh_from_db()
        assert (t.team_id, t.assignee_id, t.type) == (support.pk, agent, "problem")
        assert "angry" in t.tags
        note = InAppNotification.objects.get(kind="rule")
        assert note.user_id == agent and note.subject == f"Angry customer on #{t.number}"
        assert note.url == f"/{tenant_a.slug}/agent/tickets/{t.number}/"
        assert note.actor_label.startswith("system:trigger:")
    # The e-mail is a job (sent by the worker), deferred in the trigger's transaction.
    job = ProcrastinateJob.objects.get(task_name="routing.rule_email_send")
    assert job.args["to"] == "ops@example.test" and job.args["subject"] == f"Angry: {t.subject}"


def test_two_triggers_feeding_each_other_stop_at_the_chain_limit(tenant_a: Tenant) -> None:
    # Each is fine alone (its own change falsifies it) but together they ping-pong.
    trigger(
        tenant_a,
        name="Up",
        on=["ticket.updated"],
        conditions=[{"field": "priority", "op": "is", "value": "low"}],
        actions=[{"type": "set", "field": "priority", "value": "high"}],
    )
    trigger(
        tenant_a,
        name="Down",
        on=["ticket.updated"],
        conditions=[{"field": "priority", "op": "is", "value": "high"}],
        actions=[{"type": "set", "field": "priority", "value": "low"}],
    )
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        ticket_services.ticket_update(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, changes={"priority": "low"}
        )
    dispatch_all(tenant_a, rounds=60)
    with tenant_context(tenant_a):
        assert RuleRun.objects.filter(ticket=t).count() == 20


def test_a_trigger_never_fires_on_its_own_change(tenant_a: Tenant) -> None:
    # "changed contains priority" and it sets priority: refused as a loop when saved...
    with pytest.raises(Exception, match="endlessly"):
        trigger(
            tenant_a,
            on=["ticket.updated"],
            conditions=[{"field": "changed", "op": "contains", "value": "priority"}],
            actions=[{"type": "set", "field": "priority", "value": "urgent"}],
        )
    # ... and at run time its own actor's event is skipped even when it could match again.
    own = trigger(
        tenant_a,
        on=["ticket.updated"],
        conditions=[{"field": "changed", "op": "contains", "value": "status"}],
        actions=[{"type": "add_tags", "value": ["status-touched"]}],
    )
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        ticket_services.ticket_change_status(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, status="pending"
        )
    dispatch_all(tenant_a)
    with tenant_context(tenant_a):
        assert RuleRun.objects.filter(ticket=t, rule_id=own.pk).count() == 1


def test_preview_changes_nothing(api: Api, tenant_a: Tenant) -> None:
    with tenant_context(tenant_a):
        pending = ticket(tenant_a)
        ticket_services.ticket_change_status(
            tenant=tenant_a, actor=SYSTEM, ticket_id=pending.pk, status="pending"
        )
        ticket(tenant_a)
    body = api.call(
        "post",
        "/triggers/preview",
        {"conditions": [{"field": "status", "op": "is", "value": "pending"}]},
    ).json()
    assert body["checked"] == 2 and [m["id"] for m in body["matches"]] == [pending.pk]
    assert (
        api.call(
            "post",
            "/automations/preview",
            {"conditions": [{"field": "nope", "op": "is", "value": 1}]},
        ).status_code
        == 422
    )


def test_automations_remind_then_solve_once_each(api: Api, tenant_a: Tenant) -> None:
    remind: dict[str, Any] = {
        "name": "Remind after 3 days",
        "position": 1,
        "conditions": [
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "hours_since_updated", "op": "gte", "value": 72},
            {"field": "tags", "op": "not_contains", "value": "reminded"},
        ],
        "actions": [
            {"type": "email", "to": "requester", "subject": "Still need help?"},
            {"type": "add_tags", "value": ["reminded"]},
        ],
    }
    solve: dict[str, Any] = {
        "name": "Solve after 7 days",
        "position": 2,
        "conditions": [
            {"field": "status", "op": "is", "value": "pending"},
            {"field": "hours_since_updated", "op": "gte", "value": 96},
            {"field": "tags", "op": "contains", "value": "reminded"},
        ],
        "actions": [{"type": "set", "field": "status", "value": "solved"}],
    }
    assert api.call("post", "/automations", remind).status_code == 201
    assert api.call("post", "/automations", solve).status_code == 201
    no_time = api.call("post", "/automations", {**solve, "conditions": solve["conditions"][:1]})
    assert no_time.status_code == 422
    with tenant_context(tenant_a):
        t = ticket(tenant_a)
        ticket_services.ticket_change_status(
            tenant=tenant_a, actor=SYSTEM, ticket_id=t.pk, status="pending"
        )
        t.refresh_from_db()
        day = dt.timedelta(days=1)
        assert services.automations_run(tenant=tenant_a, now=t.updated_at + 2 * day) == 0
        assert (
            services.automations_run(tenant=tenant_a, now=t.updated_at + 3 * day) == 1
        )  # reminded
        assert services.automations_run(tenant=tenant_a, now=t.updated_at + 3 * day) == 0
        t.refresh_from_db()
        assert services.automations_run(tenant=tenant_a, now=t.updated_at + 4 * day) == 1  # solved
        t.refresh_from_db()
        assert t.status == "solved" and "reminded" in t.tags
        assert list(
            RuleRun.objects.filter(ticket=t).order_by("id").values_list("rule_name", flat=True)
        ) == ["Remind after 3 days", "Solve after 7 days"]
        assert Automation.objects.count() == 2
