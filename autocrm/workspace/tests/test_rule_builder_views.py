"""The guided builder through the settings pages (Django's test client): rows posted become
exactly the JSON the routing services store; builder steps (add, remove, a changed field,
switching editor) change the form and save nothing; the services' refusals come back beside
the row at fault; stored JSON the rows cannot show opens in the JSON editor and survives an
untouched save; the lists summarise each rule."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from autocrm.accounts.tests.factories import member
from autocrm.core.models import Tenant
from autocrm.core.tenancy import tenant_context
from autocrm.crm.tests.factories import company
from autocrm.routing import services
from autocrm.routing.models import Automation, SlaPolicy, Trigger
from autocrm.routing.tests.factories import SYSTEM, team
from autocrm.workspace.tests.test_routing_settings_edit import parse_form

pytestmark = pytest.mark.django_db

RULES = "/acme/settings/rules/"


@pytest.fixture
def admin(client: Client, tenant_a: Tenant) -> Client:
    client.force_login(member(tenant_a, "admin", name="Ana Admin"))
    return client


def _rows(**extra: Any) -> dict[str, Any]:
    """A trigger as the builder posts it: two conditions, two actions."""
    return {
        "kind": "trigger",
        "name": "Urgent refunds",
        "active": "on",
        "on": ["ticket.created"],
        "match": "all",
        "position": "0",
        "editor": "rows",
        "conditions-builder": "1",
        "conditions-0-field": "text",
        "conditions-0-op": "contains",
        "conditions-0-value": "refund",
        "conditions-1-field": "priority",
        "conditions-1-op": "in",
        "conditions-1-value": ["high", "urgent"],
        "actions-builder": "1",
        "actions-0-type": "add_tags",
        "actions-0-value": "vip",
        "actions-1-type": "set:priority",
        "actions-1-value": "urgent",
        **extra,
    }


def test_rows_posted_are_saved_as_the_rule_json(admin: Client, tenant_a: Tenant) -> None:
    billing = team(tenant_a, "Billing")
    response = admin.post(RULES, _rows(**{"actions-1-type": "set:team_id"}, **{
        "actions-1-value": str(billing.pk)
    }))  # fmt: skip
    assert response.status_code == 302
    with tenant_context(tenant_a):
        trigger = Trigger.objects.get()
    assert trigger.conditions == [
        {"field": "text", "op": "contains", "value": "refund"},
        {"field": "priority", "op": "in", "value": ["high", "urgent"]},
    ]
    assert trigger.actions == [
        {"type": "add_tags", "value": ["vip"]},
        {"type": "set", "field": "team_id", "value": billing.pk},
    ]
    page = admin.get(RULES).content.decode()
    assert (
        "When subject or new message contains “refund” and priority is one of high, urgent "
        "→ add tag vip, assign to team Billing"
    ) in page
    # The edit page shows the same rows; posting it untouched changes nothing.
    url = f"{RULES}triggers/{trigger.pk}/"
    form = parse_form(admin.get(url).content.decode())
    assert form["conditions-1-value"] == ["high", "urgent"]
    assert form["actions-1-type"] == "set:team_id"
    assert admin.post(url, form).status_code == 302
    with tenant_context(tenant_a):
        trigger.refresh_from_db()
    assert trigger.actions[1] == {"type": "set", "field": "team_id", "value": billing.pk}


def test_an_automation_in_days_is_stored_in_hours(admin: Client, tenant_a: Tenant) -> None:
    data = _rows(kind="automation", name="Solve after a week")
    data.update({
        "conditions-0-field": "hours_since_updated", "conditions-0-op": "gte",
        "conditions-0-value": "7", "conditions-0-unit": "days",
        "conditions-1-field": "status", "conditions-1-op": "is", "conditions-1-value": "pending",
        "actions-0-type": "set:status", "actions-0-value": "solved",
    })  # fmt: skip
    del data["actions-1-type"], data["actions-1-value"]
    assert admin.post(RULES, data).status_code == 302
    with tenant_context(tenant_a):
        automation = Automation.objects.get()
    assert automation.conditions == [
        {"field": "hours_since_updated", "op": "gte", "value": 168},
        {"field": "status", "op": "is", "value": "pending"},
    ]
    assert automation.actions == [{"type": "set", "field": "status", "value": "solved"}]
    assert "When time since updated is at least 7 days and status is pending" in (
        admin.get(RULES).content.decode()
    )


def test_refusals_show_beside_their_row_and_save_nothing(admin: Client, tenant_a: Tenant) -> None:
    bad = _rows(**{
        "conditions-1-field": "hours_since_created", "conditions-1-op": "gt",
        "conditions-1-value": "soon", "actions-1-type": "set:team_id",
        "actions-1-value": "999999",
    })  # fmt: skip
    response = admin.post(RULES, bad)
    page = response.content.decode()
    assert response.status_code == 400
    row = page[page.index('id="rb-conditions-1"') :]
    row = row[: row.index('id="rb-conditions-1-remove"')]
    assert "Give a number of hours." not in row  # the error list follows the button
    errors = page[page.index('id="rb-conditions-1-errors"') :]
    assert errors.index("Give a number of hours.") < 200
    assert 'aria-invalid="true" aria-describedby="rb-conditions-1-errors"' in page
    assert 'value="soon"' in page  # what was typed stays
    with tenant_context(tenant_a):
        assert not Trigger.objects.exists()
    fixed = {**bad, "conditions-1-value": "4"}
    response = admin.post(RULES, fixed)
    assert response.status_code == 400
    errors = response.content.decode()
    assert "No team with this id." in errors[errors.index('id="rb-actions-1-errors"') :][:200]


def test_builder_steps_change_the_form_and_save_nothing(admin: Client, tenant_a: Tenant) -> None:
    added = admin.post(RULES, {**_rows(), "builder": "add:conditions"})
    assert added.status_code == 200
    page = added.content.decode()
    assert 'name="conditions-2-field"' in page and 'data-rb-focus="rb-conditions-2-field"' in page
    assert 'data-rb-announce="Condition 3 added."' in page
    assert 'value="Urgent refunds"' in page  # the rest of the form as it was
    removed = parse_form(
        admin.post(RULES, {**_rows(), "builder": "remove:conditions:0"}).content.decode()
    )
    assert removed["conditions-0-field"] == "priority" and "conditions-1-field" not in removed
    changed = admin.post(
        RULES,
        {**_rows(), "conditions-0-field": "hours_since_created", "conditions-0-was": "text",
         "builder": "refresh"},
        HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="rb-conditions-0-field",
    )  # fmt: skip
    fields = parse_form(changed.content.decode())
    assert (fields["conditions-0-op"], fields["conditions-0-value"]) == ("gt", "")
    assert fields["conditions-0-unit"] == "hours"
    assert 'data-rb-focus="rb-conditions-0-field"' in changed.content.decode()
    with tenant_context(tenant_a):
        assert not Trigger.objects.exists()


def test_the_json_editor_round_trips_with_the_rows(admin: Client, tenant_a: Tenant) -> None:
    as_json = parse_form(admin.post(RULES, {**_rows(), "builder": "json"}).content.decode())
    assert as_json["editor"] == "json" and "conditions-0-field" not in as_json
    assert as_json["actions"] == (
        '[{"type": "add_tags", "value": ["vip"]}, '
        '{"type": "set", "field": "priority", "value": "urgent"}]'
    )
    back = parse_form(admin.post(RULES, {**as_json, "builder": "rows"}).content.decode())
    assert back["editor"] == "rows" and back["conditions-1-value"] == ["high", "urgent"]
    broken = admin.post(RULES, {**as_json, "conditions": "[{", "builder": "rows"})
    assert broken.status_code == 200
    assert "The builder cannot read Conditions: not valid JSON" in broken.content.decode()
    assert admin.post(RULES, as_json).status_code == 302  # saved from the JSON editor
    with tenant_context(tenant_a):
        assert Trigger.objects.get().actions[1]["value"] == "urgent"


def test_json_the_rows_cannot_show_opens_as_json_and_is_kept(
    admin: Client, tenant_a: Tenant
) -> None:
    legacy = [{"field": "type", "op": "is", "value": "bug"}]  # before types were a list
    with tenant_context(tenant_a):
        policy = services.sla_policy_create(
            tenant=tenant_a, actor=SYSTEM, name="Legacy", conditions=legacy,
            first_reply_minutes=60,
        )  # fmt: skip
    url = f"/acme/settings/sla/{policy.pk}/"
    page = admin.get(url).content.decode()
    assert "a shape the builder cannot show" in page
    form = parse_form(page)
    assert form["editor"] == "json"
    assert 'name="conditions-builder"' not in page and 'name="conditions"' in page
    assert admin.post(url, {**form, "first_reply_minutes": "30"}).status_code == 302
    with tenant_context(tenant_a):
        policy.refresh_from_db()
    assert (policy.conditions, policy.first_reply_minutes) == (legacy, 30)


def test_the_sla_list_and_preview_read_the_rows(admin: Client, tenant_a: Tenant) -> None:
    data = {
        "name": "Urgent", "active": "on", "match": "all", "editor": "rows",
        "conditions-builder": "1", "conditions-0-field": "priority",
        "conditions-0-op": "is", "conditions-0-value": "urgent",
        "escalation-builder": "1", "escalation-0-type": "notify",
        "escalation-0-to": "team_lead", "escalation-0-subject": "Breached",
        "first_reply_minutes": "60", "warn_before_minutes": "30", "position": "0",
    }  # fmt: skip
    assert admin.post("/acme/settings/sla/", data).status_code == 302
    with tenant_context(tenant_a):
        policy = SlaPolicy.objects.get()
    assert policy.escalation == [
        {"type": "notify", "to": "team_lead", "subject": "Breached", "body": ""}
    ]
    page = admin.get("/acme/settings/sla/").content.decode()
    assert "When priority is urgent" in page
    assert "On breach → notify the team lead “Breached”" in page
    preview = admin.post("/acme/settings/rules/preview/", data)
    assert preview.status_code == 200 and "match now" in preview.content.decode()
    bad = {**data, "conditions-0-field": "priority", "conditions-0-value": "meh"}
    assert "Use one of low" in admin.post("/acme/settings/rules/preview/", bad).content.decode()


def test_agents_cannot_use_the_builder(client: Client, tenant_a: Tenant) -> None:
    client.force_login(member(tenant_a, "agent", name="Alex Agent"))
    assert client.post(RULES, {**_rows(), "builder": "add:conditions"}).status_code == 403


def test_companies_are_suggested_and_named(admin: Client, tenant_a: Tenant) -> None:
    acme = company(tenant_a, name="Acme Corp")
    data = _rows(**{"conditions-1-field": "organization_id", "conditions-1-op": "is"})
    data["conditions-1-value"] = str(acme.pk)
    assert admin.post(RULES, data).status_code == 302
    page = admin.get(RULES).content.decode()
    assert "company is Acme Corp" in page
    with tenant_context(tenant_a):
        trigger = Trigger.objects.get()
    edit = admin.get(f"{RULES}triggers/{trigger.pk}/").content.decode()
    assert f'<option value="{acme.pk}">Acme Corp</option>' in edit  # the datalist
