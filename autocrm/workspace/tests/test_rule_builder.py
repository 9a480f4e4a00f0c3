"""The builder's rows against the rule language: stored JSON -> rows -> the same JSON for every
field, operator and action kind; shapes the rows cannot show are refused (the page keeps the
JSON editor); posted rows -> JSON converts by value kind; every field of the catalogue gets
a row the engine's validator accepts; and the list's sentences."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict

from autocrm.routing.catalogue import ACTION_KINDS, CONDITION_FIELDS, NO_VALUE_OPS
from autocrm.routing.rules import FIELDS, RuleError, actions_clean, conditions_clean
from autocrm.workspace import rule_builder as rb
from autocrm.workspace.rule_rows import condition_row_view
from autocrm.workspace.rule_summary import Names, rule_summary

CONDITIONS: list[dict[str, Any]] = [
    {"field": "status", "op": "in", "value": ["new", "open"]},
    {"field": "status", "op": "is_not", "value": "solved"},
    {"field": "priority", "op": "gte", "value": "high"},
    {"field": "type", "op": "is", "value": "incident"},
    {"field": "channel", "op": "not_in", "value": ["email", "chat"]},
    {"field": "team_id", "op": "is", "value": 5},
    {"field": "team_id", "op": "is", "value": None},
    {"field": "assignee_id", "op": "present", "value": None},
    {"field": "assignee_id", "op": "in", "value": [2, 3]},
    {"field": "organization_id", "op": "in", "value": [3, 4]},
    {"field": "organization_id", "op": "is", "value": 7},
    {"field": "subject", "op": "contains", "value": "refund"},
    {"field": "requester_email", "op": "is", "value": "pat@customer.test"},
    {"field": "requester_domain", "op": "in", "value": ["customer.test", "example.com"]},
    {"field": "tags", "op": "not_contains", "value": "vip"},
    {"field": "text", "op": "contains", "value": "money back"},
    {"field": "changed", "op": "contains", "value": "assignee_id"},
    {
        "field": "time_of_day",
        "op": "between",
        "value": ["22:00", "06:00"],
        "time_zone": "Europe/Berlin",
    },
    {"field": "hours_since_created", "op": "gte", "value": 168},
    {"field": "hours_since_updated", "op": "gt", "value": 5},
    {"field": "hours_since_updated", "op": "lt", "value": 1.5},
    {"field": "cf.plan", "op": "is", "value": "gold"},
    {"field": "ai.category", "op": "in", "value": ["billing", "technical"]},
    {"field": "ai.sentiment", "op": "absent", "value": None},
]
ACTIONS: list[dict[str, Any]] = [
    {"type": "set", "field": "status", "value": "pending"},
    {"type": "set", "field": "priority", "value": "urgent"},
    {"type": "set", "field": "type", "value": "problem"},
    {"type": "set", "field": "team_id", "value": 4},
    {"type": "set", "field": "team_id", "value": None},
    {"type": "set", "field": "assignee_id", "value": 9},
    {"type": "assign", "value": "auto"},
    {"type": "assign", "value": 9},
    {"type": "add_tags", "value": ["vip", "billing"]},
    {"type": "remove_tags", "value": ["waiting"]},
    {"type": "email", "to": "requester", "subject": "We got it", "body": "Thanks"},
    {"type": "email", "to": "ops@acme.test", "subject": "#{{ticket.number}}", "body": ""},
    {"type": "notify", "to": "team_lead", "subject": "Breached", "body": ""},
    {"type": "notify", "to": 9, "subject": "Look", "body": "Now"},
    {"type": "webhook", "url": "https://hooks.acme.test/x"},
    {"type": "macro", "value": 3},
]


def test_the_examples_cover_every_field_and_action_of_the_catalogue() -> None:
    fields = {c["field"] for c in CONDITIONS}
    assert set(FIELDS) <= fields  # a field added to the catalogue needs an example here
    kinds = {rb.action_to_row(a).key for a in ACTIONS}  # type: ignore[union-attr]
    assert kinds == {a.key for a in ACTION_KINDS}


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: f"{c['field']}-{c['op']}")
def test_a_stored_condition_survives_rows_and_back(condition: dict[str, Any]) -> None:
    assert conditions_clean([condition]) == [condition]  # what the services store
    rows = rb.conditions_to_rows([condition])
    assert rows is not None
    assert rb.rows_to_conditions(rows) == [condition]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: f"{a['type']}-{a.get('field', '')}")
def test_a_stored_action_survives_rows_and_back(action: dict[str, Any]) -> None:
    assert actions_clean([action]) == [action]
    rows = rb.actions_to_rows([action])
    assert rows is not None
    assert rb.rows_to_actions(rows) == [action]


def test_whole_days_show_as_days() -> None:
    rows = rb.conditions_to_rows([{"field": "hours_since_updated", "op": "gte", "value": 72}])
    assert rows is not None and (rows[0].value, rows[0].unit) == ("3", "days")
    rows = rb.conditions_to_rows([{"field": "hours_since_updated", "op": "gte", "value": 36}])
    assert rows is not None and (rows[0].value, rows[0].unit) == ("36", "hours")


@pytest.mark.parametrize(
    "items",
    [
        [{"field": "type", "op": "is", "value": "bug"}],  # a value no select offers
        [{"field": "requester_domain", "op": "in", "value": ["a, b"]}],  # a comma in an item
        [{"field": "mood", "op": "is", "value": "angry"}],  # no such field
        [{"field": "status", "op": "contains", "value": "new"}],  # not its operator
        [{"field": "status", "op": "is", "value": "new", "note": "legacy"}],  # extra key
        [{"field": "status", "op": "in", "value": "new"}],  # a list operator without a list
        [{"field": "time_of_day", "op": "between", "value": "09:00-17:00"}],
        {"field": "status"},  # not a list
        ["status is new"],
    ],
)
def test_conditions_the_rows_cannot_show_are_left_as_json(items: Any) -> None:
    assert rb.conditions_to_rows(items) is None


@pytest.mark.parametrize(
    "items",
    [
        [{"type": "set", "field": "status", "value": "waiting"}],
        [{"type": "explode"}],
        [{"type": "add_tags", "value": "vip"}],
        [{"type": "add_tags", "value": ["a,b"]}],
        [{"type": "webhook", "url": "https://x.test", "secret": "s"}],
        [{"type": "macro", "value": [1]}],
    ],
)
def test_actions_the_rows_cannot_show_are_left_as_json(items: Any) -> None:
    assert rb.actions_to_rows(items) is None


def test_posted_rows_become_the_rule_json_in_page_order() -> None:
    data = QueryDict(mutable=True)
    # Rows 1 and 3 were removed in the page: the gaps do not matter, the order does.
    for key, value in [
        ("conditions-4-field", "hours_since_updated"),
        ("conditions-4-op", "gte"),
        ("conditions-4-value", "7"),
        ("conditions-4-unit", "days"),
        ("conditions-0-field", "status"),
        ("conditions-0-op", "in"),
        ("conditions-0-value", "new"),
        ("conditions-0-value", "open"),
        ("conditions-2-field", "organization_id"),
        ("conditions-2-op", "in"),
        ("conditions-2-value", "12, 15,"),
        ("actions-0-type", "add_tags"),
        ("actions-0-value", "VIP, Billing "),
        ("actions-1-type", "email"),
        ("actions-1-to", "address"),
        ("actions-1-address", " ops@acme.test "),
        ("actions-1-subject", "Hi"),
        ("actions-2-type", "notify"),
        ("actions-2-to", "9"),
        ("actions-2-subject", "Look"),
        ("actions-3-type", "set:team_id"),
        ("actions-3-value", ""),
        ("actions-4-type", "assign"),
        ("actions-4-value", "auto"),
    ]:
        data.appendlist(key, value)
    assert rb.rows_to_conditions(rb.condition_rows_from_data(data, "conditions")) == [
        {"field": "status", "op": "in", "value": ["new", "open"]},
        {"field": "organization_id", "op": "in", "value": [12, 15]},
        {"field": "hours_since_updated", "op": "gte", "value": 168},
    ]
    assert rb.rows_to_actions(rb.action_rows_from_data(data, "actions")) == [
        {"type": "add_tags", "value": ["vip", "billing"]},
        {"type": "email", "to": "ops@acme.test", "subject": "Hi", "body": ""},
        {"type": "notify", "to": 9, "subject": "Look", "body": ""},
        {"type": "set", "field": "team_id", "value": None},
        {"type": "assign", "value": "auto"},
    ]


def test_what_cannot_be_converted_is_passed_on_for_the_validator_to_refuse() -> None:
    data = QueryDict(mutable=True)
    for key, value in [
        ("conditions-0-field", "hours_since_created"),
        ("conditions-0-op", "gt"),
        ("conditions-0-value", "soon"),
        ("conditions-1-field", "team_id"),
        ("conditions-1-op", "is"),
        ("conditions-1-value", "billing"),
    ]:
        data[key] = value
    conditions = rb.rows_to_conditions(rb.condition_rows_from_data(data, "conditions"))
    assert conditions[0]["value"] == "soon" and conditions[1]["value"] == "billing"
    with pytest.raises(RuleError) as refused:
        conditions_clean(conditions)
    assert (refused.value.field, refused.value.message) == (
        "conditions.0.value",
        "Give a number of hours.",
    )


@pytest.mark.parametrize("spec", CONDITION_FIELDS, ids=lambda s: s.name)
def test_every_field_of_the_catalogue_gets_a_row_for_each_of_its_operators(spec: Any) -> None:
    """A field added to the catalogue is offered with a fitting input for every operator;
    what such a fresh row holds is refused at most for its (still empty) value."""
    for op in spec.ops:
        row = rb.condition_row_fitted(rb.ConditionRow(spec.name, op, was="status"))
        assert (row.field, row.op) == (spec.name, op)
        view = condition_row_view("conditions", 0, row, _options(), [])
        assert view["widget"] != "none" or op in NO_VALUE_OPS
        try:
            conditions_clean(rb.rows_to_conditions([row]))
        except RuleError as exc:
            assert exc.field.endswith(".value"), exc.message


def test_changing_the_field_keeps_a_fitting_operator_and_resets_the_value() -> None:
    row = rb.ConditionRow("priority", "is", ["urgent"], was="status")
    assert rb.condition_row_fitted(row) == rb.ConditionRow("priority", "is", ["low"])
    row = rb.ConditionRow("requester_domain", "in", ["new"], was="status")
    fitted = rb.condition_row_fitted(row)
    assert (fitted.op, fitted.values) == ("in", [])
    row = rb.ConditionRow("tags", "is", ["vip"], was="tags")  # "is" is not a tags operator
    assert (rb.condition_row_fitted(row).op, rb.condition_row_fitted(row).values) == (
        "contains",
        ["vip"],
    )
    action = rb.action_row_fitted(rb.ActionRow("set:priority", "billing", was="add_tags"))
    assert action.value == "low"


def test_a_rule_reads_as_a_sentence() -> None:
    names = Names(teams={4: "Billing"}, agents={9: "Alex Agent"}, macros={3: "Refund"})
    conditions = [
        {"field": "status", "op": "is", "value": "new"},
        {"field": "priority", "op": "is", "value": "urgent"},
    ]
    actions: list[dict[str, Any]] = [
        {"type": "set", "field": "team_id", "value": 4},
        {"type": "add_tags", "value": ["vip"]},
    ]
    assert rule_summary(conditions, "all", actions, names) == (
        "When status is new and priority is urgent → assign to team Billing, add tag vip"
    )
    others: list[dict[str, Any]] = [
        {"type": "assign", "value": "auto"},
        {"type": "assign", "value": 9},
        {"type": "notify", "to": "team_lead", "subject": "Late", "body": ""},
        {"type": "macro", "value": 3},
        {"type": "set", "field": "team_id", "value": 77},
    ]
    waiting = [{"field": "hours_since_updated", "op": "gte", "value": 72}]
    assert rule_summary(waiting, "any", others, names) == (
        "When time since updated is at least 3 days → assign by the team's method, "
        "assign to Alex Agent, notify the team lead “Late”, apply macro Refund, "
        "assign to team #77"
    )
    either = [CONDITIONS[0], CONDITIONS[11]]
    assert rule_summary(either, "any", [], names) == (
        "When status is one of new, open or subject contains “refund”"
    )
    assert rule_summary([], "all", [], names) == "Always"


def _options() -> Any:
    from autocrm.workspace.rule_builder_forms import BuilderOptions

    return BuilderOptions(teams=[(4, "Billing")], agents=[(9, "Alex")], tags=["vip"])


def test_a_dropdown_custom_field_suggests_its_options() -> None:
    from autocrm.workspace.rule_builder_forms import BuilderOptions

    options = BuilderOptions(
        custom_fields=[("plan", "Plan")], custom_field_options={"plan": ["gold", "silver"]}
    )
    view = condition_row_view(
        "conditions", 0, rb.ConditionRow("cf.plan", "is", ["gold"]), options, []
    )
    assert [o["value"] for o in view["datalist"]] == ["gold", "silver"]
    groups = {g["label"]: [o["label"] for o in g["options"]] for g in view["fields"]}
    assert groups["Custom fields"] == ["Plan"]
