"""The rule language shared by SLA policies, triggers and automations: conditions on a ticket
and actions to take. Pure: :func:`conditions_clean` / :func:`actions_clean` validate what a
client sends (a :class:`RuleError` names the offending part, the API answers 422), and
:func:`compile_conditions` turns stored conditions into one fast predicate over a
:class:`Facts` snapshot of a ticket (200 triggers evaluate in well under a millisecond).

A condition is ``{"field": ..., "op": ..., "value": ...}``; fields:

- ticket fields: ``status``, ``priority``, ``type``, ``channel``, ``team_id``, ``assignee_id``,
  ``organization_id`` (the requester's company), ``subject``, ``tags``, ``cf.<key>``;
- the requester: ``requester_email``, ``requester_domain``;
- the event: ``text`` (subject plus the message just added), ``changed`` (the fields the
  update changed), ``time_of_day`` (``between`` two HH:MM, in ``time_zone``, default UTC);
- AI triage: ``ai.<key>`` (``metadata.ai_triage.<key>`` as the triage job stores it);
- time (automations): ``hours_since_created``, ``hours_since_updated``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autocrm.routing.businesstime import CalendarError, parse_minute, zone
from autocrm.routing.catalogue import (
    ACTIONS,
    CHANGEABLE,
    CONDITION_FIELDS,
    MEMBERSHIP,
    PREFIX_OPS,
    PREFIXES,
    PRIORITIES,
    SET_FIELDS,
    STATUSES,
    TIME_FIELDS,
)
from autocrm.routing.catalogue import EVENTS as EVENTS  # the engine's callers import it here

# The vocabulary lives in autocrm.routing.catalogue, which the settings pages' builder reads
# too: a field listed there is validated and evaluated here.
FIELDS: dict[str, tuple[str, ...]] = {spec.name: spec.ops for spec in CONDITION_FIELDS}
_KEY = re.compile(r"^[a-z0-9_]{1,50}$")


class RuleError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class Facts:
    """What conditions read, taken once per ticket and event."""

    status: str
    priority: str
    type: str
    channel: str
    team_id: int | None
    assignee_id: int | None
    organization_id: int | None
    subject: str
    requester_email: str
    tags: frozenset[str]
    custom_fields: dict[str, Any]
    ai: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime
    text: str = ""
    changed: frozenset[str] = field(default_factory=frozenset)
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def get(self, name: str) -> Any:
        if name.startswith("cf."):
            return self.custom_fields.get(name[3:])
        if name.startswith("ai."):
            return self.ai.get(name[3:])
        if name == "requester_domain":
            return self.requester_email.rpartition("@")[2].lower()
        if name == "hours_since_created":
            return (self.now - self.created_at).total_seconds() / 3600
        if name == "hours_since_updated":
            return (self.now - self.updated_at).total_seconds() / 3600
        return getattr(self, name)


def _field_ops(name: str, where: str) -> tuple[str, ...]:
    if name in FIELDS:
        return FIELDS[name]
    if name.startswith(PREFIXES) and _KEY.match(name[3:]):
        return PREFIX_OPS
    raise RuleError(f"{where}.field", f"Unknown field {name!r}.")


def _clean_value(name: str, op: str, value: Any, where: str) -> Any:
    if op in {"present", "absent"}:
        return None
    if op in {"between", "not_between"}:
        if not (isinstance(value, list) and len(value) == 2):
            raise RuleError(f"{where}.value", 'Give two times, like ["09:00", "17:00"].')
        try:
            for v in value:
                parse_minute(str(v), f"{where}.value")
        except CalendarError as exc:
            raise RuleError(exc.field, exc.message) from exc
        return [str(v) for v in value]
    if op in {"in", "not_in"}:
        if not isinstance(value, list) or not value:
            raise RuleError(f"{where}.value", "Give a non-empty list.")
        return [_clean_scalar(name, v, where) for v in value]
    if op in {"gt", "gte", "lt", "lte"} and name in TIME_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise RuleError(f"{where}.value", "Give a number of hours.")
        return value
    return _clean_scalar(name, value, where)


def _clean_scalar(name: str, value: Any, where: str) -> Any:
    if name == "priority" and value not in PRIORITIES:
        raise RuleError(f"{where}.value", f"Use one of {', '.join(PRIORITIES)}.")
    if name == "status" and value not in STATUSES:
        raise RuleError(f"{where}.value", f"Use one of {', '.join(STATUSES)}.")
    if name == "changed" and value not in CHANGEABLE:
        raise RuleError(f"{where}.value", f"{value!r} is not a ticket field that changes.")
    if name.endswith("_id"):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise RuleError(f"{where}.value", "Give an id (a number) or null.")
        return value
    if isinstance(value, dict | list) or value is None:
        raise RuleError(f"{where}.value", "Give a single value.")
    text = str(value)
    if len(text) > 500:
        raise RuleError(f"{where}.value", "At most 500 characters.")
    return text if not isinstance(value, int | float | bool) else value


def conditions_clean(conditions: Any, *, where: str = "conditions") -> list[dict[str, Any]]:
    if not isinstance(conditions, list):
        raise RuleError(where, "Give a list of conditions.")
    clean: list[dict[str, Any]] = []
    for i, cond in enumerate(conditions):
        at = f"{where}.{i}"
        if not isinstance(cond, dict):
            raise RuleError(at, "Each condition is {field, op, value}.")
        extra = set(cond) - {"field", "op", "value", "time_zone"}
        if extra:
            raise RuleError(at, f"Unknown keys: {', '.join(sorted(extra))}.")
        name = str(cond.get("field", ""))
        ops = _field_ops(name, at)
        op = str(cond.get("op", ""))
        if op not in ops:
            raise RuleError(f"{at}.op", f"{name} takes {', '.join(ops)}.")
        item = {"field": name, "op": op, "value": _clean_value(name, op, cond.get("value"), at)}
        if name == "time_of_day":
            tz_name = str(cond.get("time_zone") or "UTC")
            try:
                zone(tz_name)
            except CalendarError as exc:
                raise RuleError(f"{at}.time_zone", exc.message) from exc
            item["time_zone"] = tz_name
        clean.append(item)
    return clean


def _test(op: str, actual: Any, value: Any) -> bool:
    if op == "present":
        return actual not in (None, "", [], frozenset())
    if op == "absent":
        return actual in (None, "", [], frozenset())
    if op == "is":
        return actual == value or (isinstance(actual, str) and str(value).lower() == actual.lower())
    if op == "is_not":
        return not _test("is", actual, value)
    if op == "in":
        return actual in value
    if op == "not_in":
        return actual not in value
    if op == "contains":
        if isinstance(actual, frozenset | list | set):
            return value in actual
        return str(value).lower() in str(actual or "").lower()
    if op == "not_contains":
        return not _test("contains", actual, value)
    if actual is None:
        return False
    return bool(
        {
            "gt": actual > value,
            "gte": actual >= value,
            "lt": actual < value,
            "lte": actual <= value,
        }[op]
    )


def _rank(name: str) -> Callable[[Any], Any]:
    return PRIORITIES.index if name == "priority" else (lambda v: v)


def _predicate(cond: dict[str, Any]) -> Callable[[Facts], bool]:
    name, op, value = cond["field"], cond["op"], cond["value"]
    if name == "time_of_day":
        tz = zone(cond.get("time_zone", "UTC"))
        start, end = (parse_minute(v, "value") for v in value)

        def in_window(f: Facts) -> bool:
            local = f.now.astimezone(tz)
            minute = local.hour * 60 + local.minute
            inside = start <= minute < end if start <= end else minute >= start or minute < end
            return inside if op == "between" else not inside

        return in_window
    if name == "priority" and op in {"gt", "gte", "lt", "lte"}:
        rank = PRIORITIES.index(value)
        return lambda f: _test(op, PRIORITIES.index(f.priority), rank)
    return lambda f: _test(op, f.get(name), value)


def compile_conditions(conditions: list[dict[str, Any]], match: str) -> Callable[[Facts], bool]:
    """One predicate for stored (already clean) conditions; no conditions always match."""
    preds = [_predicate(c) for c in conditions]
    if not preds:
        return lambda f: True
    if match == "any":
        return lambda f: any(p(f) for p in preds)
    return lambda f: all(p(f) for p in preds)


# --- actions ---------------------------------------------------------------------------------


def actions_clean(actions: Any, *, where: str = "actions") -> list[dict[str, Any]]:
    if not isinstance(actions, list) or not actions:
        raise RuleError(where, "Give at least one action.")
    clean = []
    for i, action in enumerate(actions):
        at = f"{where}.{i}"
        if not isinstance(action, dict):
            raise RuleError(at, "Each action is {type, ...}.")
        kind = action.get("type")
        if kind not in ACTIONS:
            raise RuleError(f"{at}.type", f"Use one of {', '.join(ACTIONS)}.")
        clean.append(_clean_action(kind, action, at))
    return clean


def _require_keys(action: dict[str, Any], allowed: set[str], at: str) -> None:
    extra = set(action) - allowed - {"type"}
    if extra:
        raise RuleError(at, f"Unknown keys: {', '.join(sorted(extra))}.")


def _clean_action(kind: str, action: dict[str, Any], at: str) -> dict[str, Any]:
    value = action.get("value")
    if kind == "set":
        _require_keys(action, {"field", "value"}, at)
        name = action.get("field")
        if name not in SET_FIELDS:
            raise RuleError(f"{at}.field", f"Set one of {', '.join(SET_FIELDS)}.")
        return {"type": kind, "field": name, "value": _clean_scalar(name, value, at)}
    if kind == "assign":
        _require_keys(action, {"value"}, at)
        if value != "auto" and (isinstance(value, bool) or not isinstance(value, int)):
            raise RuleError(f"{at}.value", 'Give "auto" (the team\'s method) or a user id.')
        return {"type": kind, "value": value}
    if kind in {"add_tags", "remove_tags"}:
        _require_keys(action, {"value"}, at)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise RuleError(f"{at}.value", "Give a list of tags.")
        return {"type": kind, "value": [v.strip().lower() for v in value]}
    if kind in {"email", "notify"}:
        _require_keys(action, {"to", "subject", "body"}, at)
        to = action.get("to")
        if (
            to not in {"requester", "assignee", "team_lead"}
            and not (kind == "notify" and isinstance(to, int) and not isinstance(to, bool))
            and not (kind == "email" and isinstance(to, str) and "@" in to)
        ):
            raise RuleError(f"{at}.to", "Send to requester, assignee, team_lead or an address.")
        subject = str(action.get("subject") or "").strip()
        if not subject or len(subject) > 200:
            raise RuleError(f"{at}.subject", "A subject of 1-200 characters is required.")
        return {"type": kind, "to": to, "subject": subject, "body": str(action.get("body") or "")}
    if kind == "webhook":
        _require_keys(action, {"url"}, at)
        url = str(action.get("url") or "")
        if not re.match(r"^https?://[^\s/]+", url) or len(url) > 2000:
            raise RuleError(f"{at}.url", "Give an http(s) URL.")
        return {"type": kind, "url": url}
    _require_keys(action, {"value"}, at)  # macro
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError(f"{at}.value", "Give a macro id.")
    return {"type": kind, "value": value}


def changed_fields(actions: list[dict[str, Any]]) -> set[str]:
    """The ticket fields these actions change (what their own ticket.updated event lists)."""
    out: set[str] = set()
    for a in actions:
        if a["type"] == "set":
            out.add(a["field"])
        elif a["type"] == "assign":
            out.add("assignee_id")
        elif a["type"] in {"add_tags", "remove_tags"}:
            out.add("tags")
        elif a["type"] == "macro":
            out.update({"status", "priority", "type", "assignee_id", "team_id", "tags"})
    return out


def _falsified(cond: dict[str, Any], actions: list[dict[str, Any]]) -> bool:
    """Whether, after ``actions`` ran, ``cond`` is certainly false on the ticket they changed."""
    name, op, value = cond["field"], cond["op"], cond["value"]
    fields = changed_fields(actions)
    if name == "changed":
        # Its own update changes exactly these fields.
        return (op == "contains") != (value in fields)
    for a in actions:
        if a["type"] == "set" and a["field"] == name:
            return not _test(op, a["value"], value)
        if name == "tags" and a["type"] in {"add_tags", "remove_tags"} and op in MEMBERSHIP[:2]:
            has = a["type"] == "add_tags"
            if value in a["value"]:
                return (op == "contains") != has
        if name == "assignee_id" and a["type"] == "assign" and isinstance(a["value"], int):
            return not _test(op, a["value"], value)
    return False


def would_loop(
    on: list[str], conditions: list[dict[str, Any]], match: str, actions: list[dict[str, Any]]
) -> bool:
    """A trigger that runs on updates and changes the ticket must make its own conditions
    false by what it does; otherwise its own change would fire it again, forever."""
    if "ticket.updated" not in on or not changed_fields(actions):
        return False
    if not conditions:
        return True
    if match == "any":
        return not all(_falsified(c, actions) for c in conditions)
    return not any(_falsified(c, actions) for c in conditions)
