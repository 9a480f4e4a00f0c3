"""The rule language: every condition and action type, validation, and the loop check."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from autocrm.routing.rules import (
    Facts,
    RuleError,
    actions_clean,
    compile_conditions,
    conditions_clean,
    would_loop,
)

NOW = dt.datetime(2026, 3, 2, 15, 30, tzinfo=dt.UTC)  # a Monday


def facts(**overrides: Any) -> Facts:
    values: dict[str, Any] = {
        "status": "open",
        "priority": "high",
        "type": "incident",
        "channel": "email",
        "team_id": 3,
        "assignee_id": None,
        "organization_id": 9,
        "subject": "Refund for order 1234",
        "requester_email": "Pat@Customer.test",
        "tags": frozenset({"billing", "vip"}),
        "custom_fields": {"plan": "pro"},
        "ai": {"category": "billing", "sentiment": "negative"},
        "created_at": NOW - dt.timedelta(hours=80),
        "updated_at": NOW - dt.timedelta(hours=2),
        "text": "Refund for order 1234\nI was charged twice",
        "changed": frozenset({"status"}),
        "now": NOW,
    }
    values.update(overrides)
    return Facts(**values)


def matches(conditions: list[dict[str, Any]], match: str = "all", **overrides: Any) -> bool:
    return compile_conditions(conditions_clean(conditions), match)(facts(**overrides))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "status", "op": "is", "value": "open"}, True),
        ({"field": "status", "op": "in", "value": ["new", "pending"]}, False),
        ({"field": "priority", "op": "gte", "value": "high"}, True),
        ({"field": "priority", "op": "lt", "value": "high"}, False),
        ({"field": "type", "op": "is_not", "value": "question"}, True),
        ({"field": "channel", "op": "is", "value": "email"}, True),
        ({"field": "team_id", "op": "is", "value": 3}, True),
        ({"field": "assignee_id", "op": "absent"}, True),
        ({"field": "organization_id", "op": "in", "value": [9, 10]}, True),
        ({"field": "subject", "op": "contains", "value": "REFUND"}, True),
        ({"field": "requester_email", "op": "is", "value": "pat@customer.test"}, True),
        ({"field": "requester_domain", "op": "is", "value": "customer.test"}, True),
        ({"field": "tags", "op": "contains", "value": "vip"}, True),
        ({"field": "tags", "op": "not_contains", "value": "spam"}, True),
        ({"field": "text", "op": "contains", "value": "charged twice"}, True),
        ({"field": "changed", "op": "contains", "value": "status"}, True),
        ({"field": "changed", "op": "contains", "value": "priority"}, False),
        ({"field": "time_of_day", "op": "between", "value": ["09:00", "17:00"]}, True),
        (
            {
                "field": "time_of_day",
                "op": "between",
                "value": ["09:00", "17:00"],
                "time_zone": "America/New_York",
            },
            True,
        ),  # 10:30 in New York
        ({"field": "time_of_day", "op": "between", "value": ["22:00", "06:00"]}, False),
        ({"field": "time_of_day", "op": "not_between", "value": ["16:00", "08:00"]}, True),
        ({"field": "hours_since_created", "op": "gte", "value": 72}, True),
        ({"field": "hours_since_updated", "op": "gt", "value": 3}, False),
        ({"field": "cf.plan", "op": "is", "value": "pro"}, True),
        ({"field": "ai.category", "op": "in", "value": ["billing", "refunds"]}, True),
        ({"field": "ai.language", "op": "absent"}, True),
    ],
)
def test_each_condition(condition: dict[str, Any], expected: bool) -> None:
    assert matches([condition]) is expected


def test_all_and_any() -> None:
    yes = {"field": "status", "op": "is", "value": "open"}
    no = {"field": "status", "op": "is", "value": "new"}
    assert matches([yes, yes]) and not matches([yes, no])
    assert matches([yes, no], "any") and not matches([no, no], "any")
    assert matches([])  # no conditions: always


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "colour", "op": "is", "value": "red"}, "conditions.0.field"),
        ({"field": "cf.Bad Key", "op": "is", "value": "x"}, "conditions.0.field"),
        ({"field": "status", "op": "contains", "value": "op"}, "conditions.0.op"),
        ({"field": "status", "op": "is", "value": "sleeping"}, "conditions.0.value"),
        ({"field": "priority", "op": "gt", "value": "huge"}, "conditions.0.value"),
        ({"field": "team_id", "op": "is", "value": "three"}, "conditions.0.value"),
        ({"field": "time_of_day", "op": "between", "value": ["9", "17:00"]}, "conditions.0.value"),
        (
            {
                "field": "time_of_day",
                "op": "between",
                "value": ["09:00", "17:00"],
                "time_zone": "Moon/Base",
            },
            "conditions.0.time_zone",
        ),
        ({"field": "hours_since_updated", "op": "gt", "value": -1}, "conditions.0.value"),
        ({"field": "status", "op": "in", "value": []}, "conditions.0.value"),
        ({"field": "status", "op": "is", "value": "open", "extra": 1}, "conditions.0"),
    ],
)
def test_bad_conditions_name_the_part(condition: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleError) as err:
        conditions_clean([condition])
    assert err.value.field == field


def test_every_action_type_validates() -> None:
    actions: list[dict[str, Any]] = [
        {"type": "set", "field": "priority", "value": "urgent"},
        {"type": "set", "field": "status", "value": "pending"},
        {"type": "assign", "value": "auto"},
        {"type": "assign", "value": 7},
        {"type": "add_tags", "value": ["VIP "]},
        {"type": "remove_tags", "value": ["spam"]},
        {"type": "email", "to": "requester", "subject": "We got it", "body": "Hi"},
        {"type": "email", "to": "ops@example.test", "subject": "FYI"},
        {"type": "notify", "to": "team_lead", "subject": "Look"},
        {"type": "notify", "to": 7, "subject": "Look"},
        {"type": "webhook", "url": "https://hooks.example.test/x"},
        {"type": "macro", "value": 3},
    ]
    clean = actions_clean(actions)
    assert [a["type"] for a in clean] == [a["type"] for a in actions]
    assert clean[4]["value"] == ["vip"]


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "explode"}, "actions.0.type"),
        ({"type": "set", "field": "subject", "value": "x"}, "actions.0.field"),
        ({"type": "set", "field": "priority", "value": "meh"}, "actions.0.value"),
        ({"type": "assign", "value": "someone"}, "actions.0.value"),
        ({"type": "add_tags", "value": "vip"}, "actions.0.value"),
        ({"type": "email", "to": "nobody", "subject": "x"}, "actions.0.to"),
        ({"type": "notify", "to": "assignee", "subject": ""}, "actions.0.subject"),
        ({"type": "webhook", "url": "ftp://x"}, "actions.0.url"),
        ({"type": "macro", "value": "x"}, "actions.0.value"),
        ({"type": "macro", "value": 1, "also": 2}, "actions.0"),
    ],
)
def test_bad_actions_name_the_part(action: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleError) as err:
        actions_clean([action])
    assert err.value.field == field
    with pytest.raises(RuleError):
        actions_clean([])


def loops(
    conditions: list[dict[str, Any]],
    actions: list[dict[str, Any]],
    on: list[str] | None = None,
    match: str = "all",
) -> bool:
    return would_loop(
        on or ["ticket.updated"], conditions_clean(conditions), match, actions_clean(actions)
    )


def test_the_loop_check() -> None:
    tag = [{"type": "add_tags", "value": ["escalated"]}]
    urgent = {"field": "priority", "op": "is", "value": "urgent"}
    not_tagged = {"field": "tags", "op": "not_contains", "value": "escalated"}
    # Adds a tag on every update while urgent: its own update fires it again.
    assert loops([urgent], tag)
    assert loops([], tag)
    # ... unless a condition is made false by the action itself.
    assert not loops([urgent, not_tagged], tag)
    assert loops([urgent, not_tagged], tag, match="any")
    # Setting the field its condition tests to another value ends it.
    assert not loops([urgent], [{"type": "set", "field": "priority", "value": "high"}])
    assert loops([urgent], [{"type": "set", "field": "priority", "value": "urgent"}])
    # "changed" conditions: its own change lists only the fields it sets.
    assert not loops([{"field": "changed", "op": "contains", "value": "status"}], tag)
    assert loops([{"field": "changed", "op": "contains", "value": "tags"}], tag)
    # Not on updates, or actions that do not change the ticket: no loop.
    assert not loops([], tag, on=["ticket.created"])
    assert not loops([], [{"type": "notify", "to": "assignee", "subject": "x"}])
