"""What the builder's row templates draw for one condition or action row: the choices of
each select (from the catalogue and the tenant's teams, agents, tags ...), which value input
fits the row's field and operator, ids and accessible labels. Plain dictionaries, so the
templates stay free of logic."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autocrm.routing.catalogue import (
    ACTION_KINDS,
    CONDITION_FIELDS,
    LIST_OPS,
    NO_VALUE_OPS,
    OP_LABELS,
    PREFIXED,
    RECIPIENTS,
    condition_field,
)
from autocrm.workspace.rule_builder import ActionRow, ConditionRow

if TYPE_CHECKING:
    from autocrm.workspace.rule_builder_forms import BuilderOptions

Option = dict[str, Any]


def _options(pairs: list[tuple[Any, str]], selected: Any) -> list[Option]:
    chosen = {str(v) for v in selected} if isinstance(selected, list) else {str(selected)}
    return [{"value": str(v), "label": label, "selected": str(v) in chosen} for v, label in pairs]


def _with_unknown(pairs: list[tuple[Any, str]], current: list[str], noun: str) -> list[Any]:
    """``pairs`` plus an entry for each current id they lack (a deleted team ...), so the
    row shows what is stored instead of silently picking another."""
    known = {str(v) for v, _label in pairs}
    extra = [(v, f"{noun} #{v}") for v in current if v and v not in known]
    return [*pairs, *extra]


def _field_groups(current: str, options: BuilderOptions) -> list[dict[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for spec in CONDITION_FIELDS:
        groups.setdefault(spec.group, []).append((spec.name, spec.label))
    for family in PREFIXED:
        keys = (
            options.custom_fields
            if family.prefix == "cf."
            else [(k, k.replace("_", " ")) for k in family.known_keys]
        )
        for key, label in keys:
            groups.setdefault(family.group, []).append((f"{family.prefix}{key}", label))
    names = {name for pairs in groups.values() for name, _label in pairs}
    found = condition_field(current)
    if found is not None and current not in names:  # a custom field since deleted ...
        groups.setdefault(found.group, []).append((current, found.label))
    return [
        {"label": group, "options": _options(pairs, current)} for group, pairs in groups.items()
    ]


def condition_row_view(
    name: str, index: int, row: ConditionRow, options: BuilderOptions, errors: list[str]
) -> dict[str, Any]:
    spec = row.spec
    ops = spec.ops if spec else (row.op,)
    view: dict[str, Any] = {
        "id": f"rb-{name}-{index}",
        "name": f"{name}-{index}",
        "index": index,
        "title": f"Condition {index + 1}",
        "was": row.field,
        "fields": _field_groups(row.field, options),
        "ops": _options([(op, OP_LABELS.get(op, op)) for op in ops], row.op),
        "value": row.value,
        "value_to": row.value_to,
        "time_zone": row.time_zone,
        "unit": row.unit,
        "errors": errors,
        "widget": "text",
        "hint": "",
        "choices": [],
        "datalist": [],
    }
    kind = spec.kind if spec else "text"
    many = row.op in LIST_OPS
    if row.op in NO_VALUE_OPS:
        view["widget"] = "none"
    elif kind == "time_window":
        view["widget"] = "time_window"
    elif kind == "hours":
        view["widget"] = "hours"
        view["units"] = _options([("hours", "hours"), ("days", "days")], row.unit)
    elif kind in ("choice", "team", "agent"):
        pairs: list[Any] = list(spec.choices) if spec and kind == "choice" else []
        if kind == "team":
            pairs = _with_unknown(options.teams, row.values, "Team")
        elif kind == "agent":
            pairs = _with_unknown(options.agents, row.values, "User")
        if kind != "choice" and not many:
            pairs = [("", "No team" if kind == "team" else "Nobody"), *pairs]
        view["widget"] = "checkboxes" if many else "select"
        view["choices"] = _options(pairs, row.values if many else row.value)
    else:
        if kind == "tag":
            view["datalist"] = [{"value": tag, "label": ""} for tag in options.tags]
        elif row.field.startswith("cf.") and row.field[3:] in options.custom_field_options:
            suggested = options.custom_field_options[row.field[3:]]
            view["datalist"] = [{"value": option, "label": ""} for option in suggested]
        elif kind == "organization":
            view["datalist"] = [{"value": str(pk), "label": n} for pk, n in options.companies]
            view["hint"] = "Company id" + ("s, comma-separated" if many else "")
        if many and not view["hint"]:
            view["hint"] = "Comma-separated"
    return view


def _recipients(kind: str, options: BuilderOptions) -> list[tuple[str, str]]:
    pairs = list(RECIPIENTS)
    if kind == "email":
        pairs.append(("address", "an address …"))
    else:
        pairs.extend((str(pk), label) for pk, label in options.agents)
    return pairs


def action_row_view(
    name: str, index: int, row: ActionRow, options: BuilderOptions, errors: list[str]
) -> dict[str, Any]:
    spec = row.spec
    kinds = [(a.key, a.label) for a in ACTION_KINDS]
    if spec is None:
        kinds.append((row.key, row.key))
    view: dict[str, Any] = {
        "id": f"rb-{name}-{index}",
        "name": f"{name}-{index}",
        "index": index,
        "title": f"Action {index + 1}",
        "was": row.key,
        "kinds": _options(kinds, row.key),
        "value": row.value,
        "errors": errors,
        "widget": spec.kind if spec else "text",
        "choices": [],
        "datalist": [],
    }
    current = [row.value]
    if spec is None:
        return view
    if spec.kind == "choice":
        view["widget"] = "select"
        view["choices"] = _options(list(spec.choices), row.value)
    elif spec.kind in ("team", "agent"):
        pool = options.teams if spec.kind == "team" else options.agents
        none = ("", "No team" if spec.kind == "team" else "Nobody")
        noun = "Team" if spec.kind == "team" else "User"
        view["widget"] = "select"
        view["choices"] = _options([none, *_with_unknown(pool, current, noun)], row.value)
    elif spec.kind == "assignee":
        pairs = [("auto", "by the team's method"), *options.agents]
        view["widget"] = "select"
        view["choices"] = _options(_with_unknown(pairs, current, "User"), row.value)
    elif spec.kind == "macro":
        view["widget"] = "select"
        view["choices"] = _options(_with_unknown(options.macros, current, "Macro"), row.value)
    elif spec.kind == "tags":
        view["datalist"] = [{"value": tag, "label": ""} for tag in options.tags]
    elif spec.kind == "message":
        to = _with_unknown(_recipients(spec.type, options), [row.to], "User")
        view.update(
            recipients=_options(to, row.to),
            to=row.to,
            address=row.address,
            subject=row.subject,
            body=row.body,
        )
    return view
