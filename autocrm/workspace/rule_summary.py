"""One readable sentence per rule for the settings lists: "When status is new and priority is
urgent → assign to team Billing, add tag vip". Labels come from the catalogue the builder
and the engine share; ids are named from the tenant's teams, agents, macros and companies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from autocrm.routing.catalogue import (
    LIST_OPS,
    NO_VALUE_OPS,
    OP_LABELS,
    RECIPIENTS,
    ActionKind,
    action_kind,
    condition_field,
)


@dataclass
class Names:
    teams: dict[int, str] = field(default_factory=dict)
    agents: dict[int, str] = field(default_factory=dict)
    macros: dict[int, str] = field(default_factory=dict)
    companies: dict[int, str] = field(default_factory=dict)

    def of(self, kind: str, value: Any) -> str:
        if value is None:
            return {"team": "no team"}.get(kind, "nobody")
        book = {
            "team": self.teams,
            "agent": self.agents,
            "organization": self.companies,
            "macro": self.macros,
        }.get(kind, {})
        return book.get(value, f"#{value}") if isinstance(value, int) else str(value)


def _hours(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value >= 24 and value % 24 == 0:
            days = int(value // 24)
            return f"{days} day{'s' if days != 1 else ''}"
        return f"{value:g} hour{'s' if value != 1 else ''}"
    return str(value)


def _value_text(kind: str, choices: dict[str, str], value: Any, names: Names) -> str:
    if kind == "choice":
        return choices.get(str(value), str(value)).lower()
    if kind in ("team", "agent", "organization", "macro"):
        return names.of(kind, value)
    if kind == "hours":
        return _hours(value)
    return f"“{value}”"


def condition_text(cond: dict[str, Any], names: Names) -> str:
    name, op, value = cond.get("field", ""), cond.get("op", ""), cond.get("value")
    spec = condition_field(str(name))
    label = spec.label.lower() if spec else str(name)
    kind, choices = (spec.kind, dict(spec.choices)) if spec else ("text", {})
    op_text = OP_LABELS.get(str(op), str(op))
    if op in NO_VALUE_OPS:
        return f"{label} {op_text}"
    if kind == "time_window" and isinstance(value, list) and len(value) == 2:
        zone = cond.get("time_zone") or "UTC"
        return f"{label} {op_text} {value[0]} and {value[1]} ({zone})"
    if op in LIST_OPS and isinstance(value, list):
        items = ", ".join(_value_text(kind, choices, v, names) for v in value)
        return f"{label} {op_text} {items}"
    return f"{label} {op_text} {_value_text(kind, choices, value, names)}"


def _recipient(to: Any, names: Names) -> str:
    labels = dict(RECIPIENTS)
    if isinstance(to, int):
        return names.of("agent", to)
    return labels.get(str(to), str(to))


def action_text(action: dict[str, Any], names: Names) -> str:
    spec: ActionKind | None = action_kind(action)
    if spec is None:
        return str(action.get("type", "?"))
    value = action.get("value")
    if spec.kind == "tags" and isinstance(value, list):
        noun = "tag" if len(value) == 1 else "tags"
        return f"{spec.type.replace('_tags', '')} {noun} {', '.join(map(str, value))}"
    if spec.kind == "assignee":
        text = "by the team's method" if value == "auto" else f"to {names.of('agent', value)}"
        return f"assign {text}"
    if spec.kind == "message":
        text = f"{_recipient(action.get('to'), names)} “{action.get('subject', '')}”"
    elif spec.kind == "url":
        text = str(action.get("url", ""))
    else:
        text = _value_text(spec.kind, dict(spec.choices), value, names)
    return spec.summary.format(value=text) if spec.summary else f"{spec.label.lower()} {text}"


def rule_summary(
    conditions: list[dict[str, Any]], match: str, actions: list[dict[str, Any]], names: Names
) -> str:
    """ "When <conditions joined by and/or> → <actions>"; no conditions: "Always → ..."."""
    joiner = " or " if match == "any" else " and "
    when = joiner.join(condition_text(c, names) for c in conditions)
    head = f"When {when}" if when else "Always"
    does = ", ".join(action_text(a, names) for a in actions)
    return f"{head} → {does}" if does else head
