"""Editing, deleting and reordering routing configuration from the settings pages: forms come
pre-filled, the services' refusals (the issue's bad input) show beside the field and save
nothing, a stale form is refused, and only owners and admins may change anything."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.models import User
from autocrm.accounts.tests.factories import member
from autocrm.core.models import Event, Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.routing import services
from autocrm.routing.models import (
    AgentProfile,
    Automation,
    BusinessHours,
    SlaPolicy,
    Team,
    TeamMember,
    Trigger,
)
from autocrm.routing.tests.factories import SYSTEM, business_hours, team

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client: Client, tenant_a: Tenant) -> Client:
    client.force_login(member(tenant_a, "admin", name="Ana Admin"))
    return client


def _form(client: Client, url: str) -> dict[str, Any]:
    """The form on ``url`` as the browser would submit it untouched (inputs, checked boxes,
    selected options, textareas)."""
    return parse_form(client.get(url).content.decode())


def _json_form(client: Client, url: str) -> dict[str, Any]:
    """The form on ``url`` after "Advanced: edit as JSON" (conditions and actions as text)."""
    switched = client.post(url, {**_form(client, url), "builder": "json"})
    assert switched.status_code == 200
    return parse_form(switched.content.decode())


def parse_form(html: str) -> dict[str, Any]:
    form = html[html.index('<form class="form"') :]
    form = form[: form.index("</form>")]
    data: dict[str, Any] = {}

    def put(name: str, value: str) -> None:
        data.setdefault(name, []).append(value)

    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name[1] == "csrfmiddlewaretoken":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind[1] == "checkbox":
            if " checked" in tag:
                put(name[1], value[1] if value and value[1] else "on")
        else:
            put(name[1], _unescape(value[1]) if value else "")
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        put(name, _unescape(body.removeprefix("\n")))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        for value in re.findall(r'<option value="([^"]*)"[^>]*selected', body):
            put(name, value)
    return {k: v if len(v) > 1 or k in ("on", "members") else v[0] for k, v in data.items()}


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _trigger(tenant: Tenant, name: str = "Refunds", **values: Any) -> Trigger:
    with tenant_context(tenant):
        return services.trigger_create(
            tenant=tenant,
            actor=SYSTEM,
            name=name,
            on=values.pop("on", ["ticket.created"]),
            conditions=values.pop(
                "conditions", [{"field": "text", "op": "contains", "value": "refund"}]
            ),
            actions=values.pop("actions", [{"type": "add_tags", "value": ["billing"]}]),
            **values,
        )


def _policy(tenant: Tenant, name: str = "Urgent", **values: Any) -> SlaPolicy:
    with tenant_context(tenant):
        return services.sla_policy_create(
            tenant=tenant,
            actor=SYSTEM,
            name=name,
            first_reply_minutes=values.pop("first_reply_minutes", 60),
            **values,
        )


def _events(tenant: Tenant, type_: str) -> int:
    with tenant_context(tenant):
        return Event.objects.filter(tenant=tenant, type=type_).count()


# --- SLA policies -------------------------------------------------------------------------


def test_an_sla_policy_is_edited_in_a_prefilled_form(admin: Client, tenant_a: Tenant) -> None:
    hours = business_hours(tenant_a, "Berlin office")
    policy = _policy(
        tenant_a,
        conditions=[{"field": "priority", "op": "is", "value": "urgent"}],
        escalation=[{"type": "add_tags", "value": ["breached"]}],
    )
    url = f"/acme/settings/sla/{policy.pk}/"
    form = _form(admin, url)
    # The guided builder shows the stored conditions and escalation as rows.
    assert (form["conditions-0-field"], form["conditions-0-op"]) == ("priority", "is")
    assert form["conditions-0-value"] == "urgent"
    assert form["first_reply_minutes"] == "60" and form["name"] == "Urgent"
    assert (form["escalation-0-type"], form["escalation-0-value"]) == ("add_tags", "breached")
    form.update(
        first_reply_minutes="30", business_hours="on", calendar=str(hours.pk), name="Urgent 24/7"
    )
    assert admin.post(url, form).status_code == 302
    with tenant_context(tenant_a):
        policy.refresh_from_db()
    assert (policy.name, policy.first_reply_minutes, policy.calendar_id) == (
        "Urgent 24/7",
        30,
        hours.pk,
    )
    assert policy.business_hours is True
    assert policy.conditions == [{"field": "priority", "op": "is", "value": "urgent"}]
    assert policy.escalation == [{"type": "add_tags", "value": ["breached"]}]
    page = admin.get("/acme/settings/sla/").content.decode()
    assert "Urgent 24/7" in page and "business hours (Berlin office)" in page


def test_an_sla_condition_on_an_unknown_field_is_a_form_error(
    admin: Client, tenant_a: Tenant
) -> None:
    policy = _policy(tenant_a)
    url = f"/acme/settings/sla/{policy.pk}/"
    form = _json_form(admin, url)
    assert json.loads(form["conditions"]) == [] and form["editor"] == "json"
    form["conditions"] = '[{"field": "mood", "op": "is", "value": "angry"}]'
    form["first_reply_minutes"] = "5"
    response = admin.post(url, form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Condition 1: Unknown field &#x27;mood&#x27;." in page
    assert 'id="id_conditions_error"' in page  # beside the field, not at the top
    with tenant_context(tenant_a):
        policy.refresh_from_db()
    assert (policy.conditions, policy.first_reply_minutes) == ([], 60)
    created = admin.post("/acme/settings/sla/", {**form, "name": "Other"})
    assert created.status_code == 400 and "Unknown field" in created.content.decode()
    with tenant_context(tenant_a):
        assert SlaPolicy.objects.count() == 1


def test_a_stale_sla_form_is_refused_and_shows_the_newer_version(
    admin: Client, tenant_a: Tenant
) -> None:
    policy = _policy(tenant_a)
    url = f"/acme/settings/sla/{policy.pk}/"
    form = _form(admin, url)
    with tenant_context(tenant_a):  # someone else saves meanwhile
        services.sla_policy_update(
            tenant=tenant_a, actor=SYSTEM, policy=policy, changes={"resolution_minutes": 480}
        )
    response = admin.post(url, {**form, "first_reply_minutes": "15"})
    page = response.content.decode()
    assert response.status_code == 400 and "Someone changed this SLA policy" in page
    assert 'value="480"' in page  # their version is what the form shows now
    with tenant_context(tenant_a):
        policy.refresh_from_db()
    assert (policy.first_reply_minutes, policy.resolution_minutes) == (60, 480)


def test_sla_policies_move_up_and_down_and_are_deleted(admin: Client, tenant_a: Tenant) -> None:
    first, second, third = (_policy(tenant_a, name) for name in ("First", "Second", "Third"))
    assert (
        admin.post(f"/acme/settings/sla/{third.pk}/move/", {"direction": "up"}).status_code == 302
    )
    with tenant_context(tenant_a):
        order = list(SlaPolicy.objects.order_by("position", "id").values_list("name", flat=True))
    assert order == ["First", "Third", "Second"]
    admin.post(f"/acme/settings/sla/{first.pk}/move/", {"direction": "up"})  # already first
    admin.post(f"/acme/settings/sla/{first.pk}/move/", {"direction": "down"})
    with tenant_context(tenant_a):
        order = list(SlaPolicy.objects.order_by("position", "id").values_list("name", flat=True))
    assert order == ["Third", "First", "Second"]
    assert _events(tenant_a, "sla_policy.updated") >= 3  # each renumbered row, an event
    page = admin.get("/acme/settings/sla/").content.decode()
    assert page.index(">Third</a>") < page.index(">First</a>") < page.index(">Second</a>")
    assert 'aria-label="Move Third up"' in page
    assert admin.get(f"/acme/settings/sla/{second.pk}/delete/").status_code == 405  # POST only
    assert 'data-confirm="Delete the SLA policy' in page
    assert admin.post(f"/acme/settings/sla/{second.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not SlaPolicy.objects.filter(pk=second.pk).exists()
    assert admin.post(f"/acme/settings/sla/{first.pk}/toggle/").status_code == 302
    with tenant_context(tenant_a):
        first.refresh_from_db()
    assert first.active is False


# --- triggers and automations ----------------------------------------------------------------


def test_a_trigger_is_edited_and_a_looping_edit_saves_nothing(
    admin: Client, tenant_a: Tenant
) -> None:
    trigger = _trigger(tenant_a)
    url = f"/acme/settings/rules/triggers/{trigger.pk}/"
    form = _json_form(admin, url)
    assert form["on"] == ["ticket.created"] or form["on"] == "ticket.created"
    assert json.loads(form["actions"]) == [{"type": "add_tags", "value": ["billing"]}]
    looping = {**form, "on": ["ticket.updated"], "conditions": "[]"}
    response = admin.post(url, looping)
    assert response.status_code == 400
    assert 'id="id_actions_error"' in response.content.decode()
    assert "endlessly" in response.content.decode()
    with tenant_context(tenant_a):
        trigger.refresh_from_db()
    assert trigger.on == ["ticket.created"]
    unknown = admin.post(url, {**form, "actions": '[{"type": "explode"}]'})
    assert unknown.status_code == 400 and "Action 1: Use one of" in unknown.content.decode()
    changed = {**form, "name": "Refunds to billing", "on": ["ticket.created", "message.created"]}
    changed["actions"] = '[{"type": "add_tags", "value": ["refund"]}]'
    assert admin.post(url, changed).status_code == 302
    with tenant_context(tenant_a):
        trigger.refresh_from_db()
    assert trigger.name == "Refunds to billing"
    assert trigger.on == ["ticket.created", "message.created"]
    assert trigger.actions == [{"type": "add_tags", "value": ["refund"]}]
    assert _events(tenant_a, "trigger.updated") == 1


def test_an_automation_is_edited_reordered_and_deleted(admin: Client, tenant_a: Tenant) -> None:
    hours = [{"field": "hours_since_updated", "op": "gt", "value": 72}]
    with tenant_context(tenant_a):
        remind = services.automation_create(
            tenant=tenant_a, actor=SYSTEM, name="Remind", conditions=hours,
            actions=[{"type": "add_tags", "value": ["reminded"]}],
        )  # fmt: skip
        solve = services.automation_create(
            tenant=tenant_a, actor=SYSTEM, name="Solve", conditions=hours,
            actions=[{"type": "set", "field": "status", "value": "solved"}],
        )  # fmt: skip
    url = f"/acme/settings/rules/automations/{remind.pk}/"
    form = _json_form(admin, url)
    assert "on" not in form and "kind" not in form
    no_time = admin.post(url, {**form, "conditions": "[]"})
    assert no_time.status_code == 400 and "needs a time condition" in no_time.content.decode()
    assert admin.post(url, {**form, "active": ""}).status_code == 302
    with tenant_context(tenant_a):
        remind.refresh_from_db()
    assert remind.active is False and remind.conditions == hours
    move = f"/acme/settings/rules/automations/{solve.pk}/move/"
    assert admin.post(move, {"direction": "up"}).status_code == 302
    with tenant_context(tenant_a):
        names = list(Automation.objects.order_by("position", "id").values_list("name", flat=True))
    assert names == ["Solve", "Remind"]
    bad_move = admin.post(move, {"direction": "sideways"})
    assert bad_move.status_code == 302
    assert "Use up or down" in admin.get(bad_move["Location"]).content.decode()
    assert admin.post(f"/acme/settings/rules/automations/{solve.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert list(Automation.objects.values_list("name", flat=True)) == ["Remind"]
    assert admin.get("/acme/settings/rules/nonsense/1/").status_code == 404


def test_triggers_are_reordered_from_the_list(admin: Client, tenant_a: Tenant) -> None:
    a, b = _trigger(tenant_a, "A"), _trigger(tenant_a, "B")
    admin.post(f"/acme/settings/rules/triggers/{b.pk}/move/", {"direction": "up"})
    with tenant_context(tenant_a):
        assert list(Trigger.objects.order_by("position", "id").values_list("pk", flat=True)) == [
            b.pk,
            a.pk,
        ]
    assert admin.post(f"/acme/settings/rules/triggers/{a.pk}/delete/").status_code == 302


# --- teams, agents, business hours ----------------------------------------------------------


def test_a_team_is_edited_members_lead_grace_and_hand_over(admin: Client, tenant_a: Tenant) -> None:
    alex = member(tenant_a, "agent", name="Alex Agent")
    bo = member(tenant_a, "agent", name="Bo Agent")
    night = team(tenant_a, "Night shift")
    billing = team(tenant_a, "Billing", members=[alex.pk])
    hours = business_hours(tenant_a)
    url = f"/acme/settings/teams/{billing.pk}/"
    page = admin.get(url).content.decode()
    assert "Billing" in page and "Re-route after offline (min)" in page
    handover = re.search(r'name="handover_team".*?</select>', page, re.S)
    assert handover and f'value="{night.pk}"' in handover[0]
    assert f'value="{billing.pk}"' not in handover[0]  # no hand-over to itself
    form = _form(admin, url)
    assert form["members"] == [str(alex.pk)]
    edited = {**form, "members": [str(bo.pk)], "lead": str(bo.pk),
              "offline_grace_minutes": "15", "handover_team": str(night.pk),
              "business_hours": str(hours.pk), "assignment_method": "least_loaded"}  # fmt: skip
    assert admin.post(url, {**edited, "lead": str(alex.pk)}).status_code == 400  # not a member
    assert admin.post(url, {**edited, "offline_grace_minutes": "0"}).status_code == 400
    response = admin.post(url, {**edited, "offline_grace_minutes": "20000"})
    assert "Give 1 to 10080 minutes" in response.content.decode()
    with tenant_context(tenant_a):
        assert TeamMember.objects.get(team=billing).user_id == alex.pk  # nothing saved
    assert admin.post(url, edited).status_code == 302
    with tenant_context(tenant_a):
        billing.refresh_from_db()
        members = list(TeamMember.objects.filter(team=billing).values_list("user_id", flat=True))
    assert members == [bo.pk]
    assert (billing.lead_id, billing.offline_grace_minutes) == (bo.pk, 15)
    assert (billing.handover_team_id, billing.business_hours_id) == (night.pk, hours.pk)
    assert _events(tenant_a, "team.member_removed") == 1
    listing = admin.get("/acme/settings/teams/").content.decode()
    assert "re-route after 15 min offline" in listing and "lead: Bo Agent" in listing
    coverage = admin.get("/acme/settings/business-hours/").content.decode()
    assert "hand over to Night shift" in coverage


def test_an_agents_skills_and_capacities_are_edited(admin: Client, tenant_a: Tenant) -> None:
    alex = member(tenant_a, "agent", name="Alex Agent")
    url = f"/acme/settings/agents/{alex.pk}/"
    page = admin.get(url).content.decode()
    assert "Routing of Alex Agent" in page and "Chat (open tickets)" in page
    form = _form(admin, url)
    good = {**form, "availability": "online", "skills": "language:de, Product:Billing",
            "capacity": "8", "channel_chat": "3", "channel_email": "20"}  # fmt: skip
    bad = admin.post(url, {**good, "channel_chat": "-1"})
    assert bad.status_code == 400 and "Give 0 (no limit) to 10000 open chat" in bad.content.decode()
    assert admin.post(url, {**good, "capacity": "20000"}).status_code == 400
    with tenant_context(tenant_a):
        assert not AgentProfile.objects.filter(user=alex, capacity=8).exists()
    assert admin.post(url, good).status_code == 302
    with tenant_context(tenant_a):
        profile = AgentProfile.objects.get(user=alex)
    assert profile.skills == ["language:de", "product:billing"]
    assert (profile.capacity, profile.channel_capacity) == (8, {"chat": 3, "email": 20})
    assert profile.availability == "online"
    listing = admin.get("/acme/settings/teams/").content.decode()
    assert "chat 3, email 20" in listing and "8 open" in listing
    assert _form(admin, url)["channel_chat"] == "3"
    outsider = member(tenant_a, "customer")
    assert admin.get(f"/acme/settings/agents/{outsider.pk}/").status_code == 404


def test_business_hours_are_edited_and_bad_input_saves_nothing(
    admin: Client, tenant_a: Tenant
) -> None:
    hours = business_hours(tenant_a, holidays=[{"date": "2026-12-25", "name": "Christmas"}])
    url = f"/acme/settings/business-hours/{hours.pk}/"
    form = _form(admin, url)
    assert form["mon"] == "09:00-17:00" and form["sat"] == ""
    assert form["holidays"] == "2026-12-25 Christmas" and form["time_zone"] == "Europe/Berlin"
    overlap = admin.post(url, {**form, "tue": "09:00-12:00, 11:00-18:00"})
    page = overlap.content.decode()
    assert overlap.status_code == 400 and "overlaps" in page
    assert 'id="id_tue_error"' in page  # beside Tuesday
    zone = admin.post(url, {**form, "time_zone": "Mars/Olympus"})
    assert zone.status_code == 400 and "Unknown time zone" in zone.content.decode()
    holiday = admin.post(url, {**form, "holidays": "25.12.2026 Christmas"})
    assert holiday.status_code == 400 and "Use a date like 2026-12-25" in holiday.content.decode()
    with tenant_context(tenant_a):
        hours.refresh_from_db()
    assert hours.time_zone == "Europe/Berlin" and len(hours.hours) == 5
    edited = {**form, "sat": "10:00-14:00", "holidays": "2026-12-25 Christmas\n2026-12-26"}
    assert admin.post(url, edited).status_code == 302
    with tenant_context(tenant_a):
        hours.refresh_from_db()
    assert {"day": "sat", "start": "10:00", "end": "14:00"} in hours.hours
    assert hours.holidays[1] == {"date": "2026-12-26", "name": ""}
    assert admin.post(f"/acme/settings/business-hours/{hours.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not BusinessHours.objects.exists()


# --- who may ------------------------------------------------------------------------------


def test_agents_cannot_edit_delete_or_reorder(client: Client, tenant_a: Tenant) -> None:
    agent: User = member(tenant_a, "agent")
    policy, trigger = _policy(tenant_a), _trigger(tenant_a)
    billing, hours = team(tenant_a, "Billing"), business_hours(tenant_a)
    client.force_login(agent)
    urls = [
        f"/acme/settings/sla/{policy.pk}/",
        f"/acme/settings/rules/triggers/{trigger.pk}/",
        f"/acme/settings/teams/{billing.pk}/",
        f"/acme/settings/agents/{agent.pk}/",
        f"/acme/settings/business-hours/{hours.pk}/",
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "Mine"}).status_code == 403, url
    for url in (
        f"/acme/settings/sla/{policy.pk}/delete/",
        f"/acme/settings/sla/{policy.pk}/move/",
        f"/acme/settings/sla/{policy.pk}/toggle/",
        f"/acme/settings/rules/triggers/{trigger.pk}/delete/",
        f"/acme/settings/rules/triggers/{trigger.pk}/move/",
        f"/acme/settings/teams/{billing.pk}/delete/",
        f"/acme/settings/business-hours/{hours.pk}/delete/",
    ):
        assert client.post(url, {"direction": "up"}).status_code == 403, url
    with tenant_context(tenant_a):
        assert SlaPolicy.objects.filter(name="Urgent", active=True).exists()
        assert Trigger.objects.exists() and Team.objects.exists()
        assert BusinessHours.objects.exists()
    page = client.get("/acme/settings/teams/").content.decode()
    assert f"/acme/settings/teams/{billing.pk}/" not in page  # no edit links for agents


def test_another_tenants_rows_are_not_found(admin: Client, tenant_b: Tenant) -> None:
    policy, trigger = _policy(tenant_b), _trigger(tenant_b)
    billing = team(tenant_b, "Billing")
    assert admin.get(f"/acme/settings/sla/{policy.pk}/").status_code == 404
    assert admin.post(f"/acme/settings/sla/{policy.pk}/delete/").status_code == 404
    assert admin.get(f"/acme/settings/rules/triggers/{trigger.pk}/").status_code == 404
    assert admin.post(f"/acme/settings/teams/{billing.pk}/", {"name": "x"}).status_code == 404
