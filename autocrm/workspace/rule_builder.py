"""The guided builder's rows: stored rule JSON <-> rows of "[field] [operator] [value]" and
"[action] [value]", and the rows read back from a posted form.

Rows hold what the inputs hold (strings); turning them into the rule JSON converts by the
value kind the catalogue gives (``autocrm.routing.catalogue``) and leaves anything it cannot
convert as typed, so the routing services, the only validator, say what is wrong with it.
Stored JSON the rows cannot show exactly (a legacy shape, a value no select offers) is not
representable: :func:`conditions_to_rows` / :func:`actions_to_rows` return ``None`` and the
page keeps the JSON editor for it (ADR 0051)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from autocrm.routing.catalogue import (
    ACTION_KINDS,
    LIST_OPS,
    NO_VALUE_OPS,
    RECIPIENTS,
    ActionKind,
    ConditionField,
    action_kind,
    condition_field,
)

Json = dict[str, Any]
_ROW_KEY = re.compile(r"^(?P<prefix>[a-z_]+)-(?P<index>\d+)-(?P<part>[a-z_]+)$")
ID_KINDS = ("team", "agent", "organization")
RECIPIENT_KEYS = tuple(key for key, _label in RECIPIENTS)
DEFAULT_CONDITION: Json = {"field": "status", "op": "is", "value": "new"}
DEFAULT_ACTION: Json = {"type": "add_tags", "value": []}


@dataclass
class ConditionRow:
    field: str
    op: str
    values: list[str] = dataclasses.field(default_factory=list)
    value_to: str = ""  # the end of a time window
    time_zone: str = ""
    unit: str = "hours"  # hours fields: "hours" or "days"
    was: str = ""  # the field the page showed the row with (a changed field resets the value)

    @property
    def spec(self) -> ConditionField | None:
        return condition_field(self.field)

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""


@dataclass
class ActionRow:
    key: str
    value: str = ""
    to: str = ""
    address: str = ""
    subject: str = ""
    body: str = ""
    was: str = ""  # the action kind the page showed the row with

    @property
    def spec(self) -> ActionKind | None:
        return next((a for a in ACTION_KINDS if a.key == self.key), None)


# --- JSON -> rows -----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_list_input(spec: ConditionField) -> bool:
    """Whether a list value is one text input (comma-separated) rather than checkboxes."""
    return spec.kind not in ("choice", "team", "agent")


def condition_to_row(cond: Any) -> ConditionRow | None:
    if not isinstance(cond, dict) or set(cond) - {"field", "op", "value", "time_zone"}:
        return None
    spec = condition_field(str(cond.get("field", "")))
    op, value = cond.get("op"), cond.get("value")
    if spec is None or op not in spec.ops:
        return None
    row = ConditionRow(spec.name, str(op))
    if op in NO_VALUE_OPS:
        return row
    if spec.kind == "time_window":
        if not (isinstance(value, list) and len(value) == 2):
            return None
        row.values, row.value_to = [_text(value[0])], _text(value[1])
        row.time_zone = str(cond.get("time_zone") or "UTC")
        return row
    if op in LIST_OPS:
        if not isinstance(value, list):
            return None
        items = [_text(v) for v in value]
        row.values = [", ".join(items)] if _is_list_input(spec) else items
    else:
        if isinstance(value, list | dict):
            return None
        row.values = [_text(value)]
        number = value if isinstance(value, int | float) else 0
        if spec.kind == "hours" and number >= 24 and number % 24 == 0:
            row.values, row.unit = [_text(number / 24)], "days"
    if spec.kind == "choice":
        offered = {key for key, _label in spec.choices}
        if any(v not in offered for v in row.values):
            return None
    return row


def _as_rows(items: Any, convert: Any, back: Any) -> list[Any] | None:
    """Rows for ``items`` when the rows give back exactly ``items``, else ``None``."""
    if not isinstance(items, list):
        return None
    rows = [convert(item) for item in items]
    if any(row is None for row in rows):
        return None
    if [back(row) for row in rows] != items:
        return None
    return rows


def conditions_to_rows(conditions: Any) -> list[ConditionRow] | None:
    return _as_rows(conditions, condition_to_row, row_to_condition)


def action_to_row(action: Any) -> ActionRow | None:
    if not isinstance(action, dict):
        return None
    spec = action_kind(action)
    if spec is None:
        return None
    row = ActionRow(spec.key)
    value = action.get("value")
    if spec.kind == "tags":
        if not isinstance(value, list):
            return None
        row.value = ", ".join(_text(v) for v in value)
    elif spec.kind == "message":
        to = action.get("to")
        if spec.type == "email" and isinstance(to, str) and to not in RECIPIENT_KEYS:
            row.to, row.address = "address", to
        else:
            row.to = _text(to)
        row.subject, row.body = _text(action.get("subject")), _text(action.get("body"))
    elif spec.kind == "url":
        row.value = _text(action.get("url"))
    else:
        if isinstance(value, list | dict):
            return None
        row.value = _text(value)
        if spec.kind == "choice" and row.value not in {key for key, _ in spec.choices}:
            return None
    return row


def actions_to_rows(actions: Any) -> list[ActionRow] | None:
    return _as_rows(actions, action_to_row, row_to_action)


# --- rows -> JSON -----------------------------------------------------------------------------


def _number(text: str) -> int | float | str:
    try:
        number = float(text.strip())
    except ValueError:
        return text
    return int(number) if number.is_integer() else number


def _id(text: str) -> int | str | None:
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _condition_value(spec: ConditionField, text: str, unit: str = "hours") -> Any:
    if spec.kind in ID_KINDS:
        return _id(text)
    if spec.kind == "hours":
        number = _number(text)
        if unit == "days" and not isinstance(number, str):
            days = number * 24
            return int(days) if float(days).is_integer() else days
        return number
    return text


def row_to_condition(row: ConditionRow) -> Json:
    spec = row.spec
    out: Json = {"field": row.field, "op": row.op}
    if spec is None:  # not a field of the catalogue: as typed, for the service to refuse
        return {**out, "value": row.value}
    if row.op in NO_VALUE_OPS:
        return {**out, "value": None}
    if spec.kind == "time_window":
        return {**out, "value": [row.value, row.value_to], "time_zone": row.time_zone or "UTC"}
    if row.op in LIST_OPS:
        items = _split(row.value) if _is_list_input(spec) else row.values
        return {**out, "value": [_condition_value(spec, item) for item in items]}
    return {**out, "value": _condition_value(spec, row.value, row.unit)}


def row_to_action(row: ActionRow) -> Json:
    spec = row.spec
    if spec is None:
        return {"type": row.key, "value": row.value}
    out: Json = {"type": spec.type}
    if spec.field:
        out["field"] = spec.field
    if spec.kind == "tags":
        return {**out, "value": [tag.lower() for tag in _split(row.value)]}
    if spec.kind == "message":
        to: Any = row.to
        if row.to == "address":
            to = row.address.strip()
        elif row.to.isdigit():
            to = int(row.to)
        return {**out, "to": to, "subject": row.subject, "body": row.body}
    if spec.kind == "url":
        return {**out, "url": row.value.strip()}
    if spec.kind in ("team", "agent", "macro"):
        return {**out, "value": _id(row.value)}
    if spec.kind == "assignee":
        return {**out, "value": "auto" if row.value == "auto" else _id(row.value)}
    return {**out, "value": row.value}


def rows_to_conditions(rows: list[ConditionRow]) -> list[Json]:
    return [row_to_condition(row) for row in rows]


def rows_to_actions(rows: list[ActionRow]) -> list[Json]:
    return [row_to_action(row) for row in rows]


# --- rows from a posted form ------------------------------------------------------------------


def _posted(data: Mapping[str, Any], prefix: str) -> dict[int, dict[str, list[str]]]:
    """``{index: {part: [values]}}`` of the inputs named ``<prefix>-<index>-<part>``, in index
    order (rows removed in the page leave gaps; the order is what counts)."""
    rows: dict[int, dict[str, list[str]]] = {}
    getlist = getattr(data, "getlist", None)
    for key in data:
        match = _ROW_KEY.match(key)
        if match and match["prefix"] == prefix:
            values = getlist(key) if getlist else [data[key]]
            rows.setdefault(int(match["index"]), {})[match["part"]] = [str(v) for v in values]
    return dict(sorted(rows.items()))


def _one(parts: dict[str, list[str]], name: str) -> str:
    values = parts.get(name) or [""]
    return values[0]


def condition_rows_from_data(data: Mapping[str, Any], prefix: str) -> list[ConditionRow]:
    rows = []
    for parts in _posted(data, prefix).values():
        row = ConditionRow(
            _one(parts, "field"),
            _one(parts, "op"),
            values=parts.get("value", []),
            value_to=_one(parts, "value_to"),
            time_zone=_one(parts, "time_zone"),
            unit=_one(parts, "unit") or "hours",
            was=_one(parts, "was"),
        )
        rows.append(row)
    return rows


def action_rows_from_data(data: Mapping[str, Any], prefix: str) -> list[ActionRow]:
    return [
        ActionRow(
            _one(parts, "type"),
            value=_one(parts, "value"),
            to=_one(parts, "to"),
            address=_one(parts, "address"),
            subject=_one(parts, "subject"),
            body=_one(parts, "body"),
            was=_one(parts, "was"),
        )
        for parts in _posted(data, prefix).values()
    ]


# --- keeping rows consistent when a field or an action changes ---------------------------------


def condition_row_fitted(row: ConditionRow) -> ConditionRow:
    """The row with an operator its field takes and a value its operator takes (after the
    field or the operator was changed in the page); an unknown field becomes the first."""
    spec = row.spec or condition_field(DEFAULT_CONDITION["field"])
    assert spec is not None
    op = row.op if row.op in spec.ops else spec.ops[0]
    fitted = ConditionRow(spec.name, op, list(row.values), row.value_to, row.time_zone, row.unit)
    if row.was and row.was != spec.name:  # another field: its value means nothing here
        fitted.values, fitted.value_to, fitted.time_zone = [], "", ""
    if op in NO_VALUE_OPS:
        fitted.values = []
    elif spec.kind == "choice":
        offered = [key for key, _label in spec.choices]
        kept = [v for v in fitted.values if v in offered]
        fitted.values = kept if op in LIST_OPS else [(kept or offered)[0]]
    elif spec.kind in ("team", "agent") and op not in LIST_OPS:
        fitted.values = fitted.values[:1]
    elif spec.kind == "time_window":
        fitted.values = fitted.values[:1] or ["09:00"]
        fitted.value_to = fitted.value_to or "17:00"
        fitted.time_zone = fitted.time_zone or "UTC"
    else:
        fitted.values = [", ".join(v for v in fitted.values if v)] if fitted.values else []
    return fitted


def action_row_fitted(row: ActionRow) -> ActionRow:
    spec = row.spec or ACTION_KINDS[0]
    fitted = ActionRow(spec.key, row.value, row.to, row.address, row.subject, row.body)
    if row.was and row.was != spec.key:  # another action: keep only a message's text
        fitted.value = fitted.to = ""
    offered = [key for key, _label in spec.choices]
    if spec.kind == "choice" and fitted.value not in offered:
        fitted.value = offered[0]
    if spec.kind == "message" and not fitted.to:
        fitted.to = "assignee" if spec.type == "notify" else "requester"
    if spec.kind == "assignee" and not fitted.value:
        fitted.value = "auto"
    return fitted


def conditions_from_post(data: Mapping[str, Any]) -> Any:
    """The conditions a rule form posted (the dry run reads them): its rows, else its JSON
    text (a ValueError when that is not JSON)."""
    if "conditions-builder" in data:
        return rows_to_conditions(condition_rows_from_data(data, "conditions"))
    return json.loads(data.get("conditions") or "[]")
